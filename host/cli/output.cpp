#include "output.hpp"

#include "text_table.hpp"

#include <junction/core/common/error.hpp>
#include <junction/core/common/json.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <ctime>
#include <map>
#include <set>
#include <iostream>

namespace junction::cli {

namespace {

std::string str(const rapidjson::Value& v, const char* key) {
    if (!v.IsObject()) return "";
    auto it = v.FindMember(key);
    if (it == v.MemberEnd()) return "";
    if (it->value.IsString()) return it->value.GetString();
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    it->value.Accept(w);
    return b.GetString();
}

std::string when(const rapidjson::Value& v, const char* key) {
    auto it = v.FindMember(key);
    if (it == v.MemberEnd() || !it->value.IsInt64() || it->value.GetInt64() == 0) return "never";
    const std::time_t t = static_cast<std::time_t>(it->value.GetInt64() / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
    return buf;
}

}  // namespace

std::string timestamp(int64_t epoch_ms) {
    const std::time_t t = static_cast<std::time_t>(epoch_ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(epoch_ms % 1000));
    return buf;
}

void print_run_log_line(const rapidjson::Value& l) {
    const auto at = l.FindMember("at_ms");
    std::cout << (at != l.MemberEnd() && at->value.IsInt64() ? timestamp(at->value.GetInt64()) : "?") << " "
              << str(l, "level") << " " << (str(l, "shape").empty() ? "-" : str(l, "shape")) << ": "
              << str(l, "message") << "\n";
}

int print_api_error(const ApiResponse& r) {
    rapidjson::Document doc;
    try {
        doc = core::parse_json_text(r.body, "the daemon's error");
    } catch (const core::Error&) {
        // not a JSON error body: printed as it is below
    }
    if (doc.IsObject() && doc.HasMember("error") && doc["error"].IsObject()) {
        const auto& e = doc["error"];
        std::cerr << "junction: " << str(e, "message") << "\n";
        if (e.HasMember("details") && e["details"].IsArray() && e["details"].Size() > 1)
            for (const auto& d : e["details"].GetArray())
                if (d.IsString()) std::cerr << "  - " << d.GetString() << "\n";
    } else {
        std::cerr << "junction: the daemon answered HTTP " << r.status << "\n";
    }
    return 1;
}

void print_instance_table(const rapidjson::Value& items) {
    host::TextTable t({"NAME", "CONNECTOR", "VERSION", "AUTH", "STATUS", "ID"});
    for (const auto& i : items.GetArray())
        t.add_row({str(i, "name"), str(i, "connector"),
                   str(i, "version") + (str(i, "version_pin").empty() ? "" : " (pinned)"),
                   str(i, "auth_method"), str(i, "status"), str(i, "id")});
    t.print(std::cout);
}

void print_instance(const rapidjson::Value& i) {
    std::cout << "name:        " << str(i, "name") << "\n"
              << "id:          " << str(i, "id") << "\n"
              << "connector:   " << str(i, "connector") << " " << str(i, "version")
              << (str(i, "version_pin").empty() ? "" : " (pinned to " + str(i, "version_pin") + ")")
              << "\n"
              << "auth method: " << str(i, "auth_method") << "\n"
              << "status:      " << str(i, "status")
              << (str(i, "status_detail").empty() ? "" : ": " + str(i, "status_detail")) << "\n"
              << "tested:      " << when(i, "tested_ms") << "\n"
              << "created:     " << when(i, "created_ms") << "\n"
              << "updated:     " << when(i, "updated_ms") << "\n"
              << "settings:\n";
    if (i.HasMember("settings") && i["settings"].IsObject())
        for (const auto& m : i["settings"].GetObject())
            std::cout << "  " << m.name.GetString() << " = " << str(i["settings"], m.name.GetString())
                      << "\n";
}

// "ed25519:0123abcd... (marketplace.pub)": the trusted key that signed a version, or
// "unsigned" (installed under allow-unsigned-drops).
std::string signer_text(const rapidjson::Value& version) {
    auto it = version.FindMember("signed_by");
    if (it == version.MemberEnd() || !it->value.IsObject()) return "unsigned";
    return str(it->value, "key_id") + " (" + str(it->value, "key_file") + ")";
}

void print_connector_table(const rapidjson::Value& items) {
    host::TextTable t({"CONNECTOR", "VERSION", "ACTIVE", "ABI", "DISPLAY NAME", "SHA256", "SIGNED BY"});
    for (const auto& c : items.GetArray())
        t.add_row({str(c, "name"), str(c, "version"), str(c, "active") == "true" ? "yes" : "",
                   str(c, "abi"), str(c, "display_name"), str(c, "sha256").substr(0, 12), signer_text(c)});
    t.print(std::cout);
}

namespace {

// What an instance of the connector is configured with: each field of its config schema,
// whether it is required and whether it is a secret (writeOnly: sealed, never shown again).
void print_instance_fields(const rapidjson::Value& manifest) {
    const auto schema = manifest.FindMember("config_schema");
    if (schema == manifest.MemberEnd() || !schema->value.IsObject()) return;
    const auto properties = schema->value.FindMember("properties");
    if (properties == schema->value.MemberEnd() || !properties->value.IsObject()) return;
    std::set<std::string> required;
    if (const auto r = schema->value.FindMember("required"); r != schema->value.MemberEnd() && r->value.IsArray())
        for (const auto& name : r->value.GetArray())
            if (name.IsString()) required.insert(name.GetString());
    std::cout << "\ninstance fields:\n";
    host::TextTable t({"  FIELD", "TYPE", "REQUIRED", "SECRET", "DESCRIPTION"});
    for (const auto& p : properties->value.GetObject()) {
        if (!p.value.IsObject()) continue;
        const bool secret = p.value.HasMember("writeOnly") && p.value["writeOnly"].IsBool() && p.value["writeOnly"].GetBool();
        t.add_row({std::string("  ") + p.name.GetString(), str(p.value, "type"), required.count(p.name.GetString()) ? "yes" : "no",
                   secret ? "yes (sealed, never shown)" : "no", str(p.value, "description").substr(0, 60)});
    }
    t.print(std::cout);
}

}  // namespace

void print_connector(const rapidjson::Value& c) {
    const auto& s = c["status"];
    std::cout << "connector:     " << str(c, "name") << "\n"
              << "active:        " << str(s, "active_version")
              << (str(s, "previous_version").empty() ? "" : " (previous " + str(s, "previous_version") + ")")
              << "\n"
              << "update policy: " << str(s, "update_policy") << "\n"
              << "isolation:     " << str(c, "isolation")
              << (str(c, "isolation_source") == "api" ? " (set through the API)" : " (the config file's)") << "\n"
              << "update:        "
              << (str(s, "update_available") == "true" ? str(s, "newest_installed") + " available: junction connectors apply " + str(c, "name")
                                                       : "none available")
              << "\ninstances:    ";
    for (const auto& m : s["instances_by_version"].GetObject())
        std::cout << " " << m.value.GetUint64() << " on " << m.name.GetString();
    std::cout << "\ninstalled:\n";
    for (const auto& v : c["versions"].GetArray()) {
        // Where each version runs (only a loaded one runs anywhere) and why it is quarantined.
        std::cout << "  " << str(v, "version") << (str(v, "active") == "true" ? " (active)" : "") << ": "
                  << (str(v, "loaded") == "true" ? "loaded, isolation " + str(v, "isolation") : "not loaded")
                  << "; " << (signer_text(v) == "unsigned" ? "" : "signed by ") << signer_text(v);
        if (str(v, "quarantined") == "true")
            std::cout << "; QUARANTINED: " << str(v, "quarantine_reason")
                      << " (junction connectors release " << str(c, "name") << " --version " << str(v, "version") << ")";
        std::cout << "\n";
    }
    const auto& m = c["manifest"];
    if (m.IsObject()) {
        std::cout << "display:       " << str(m, "display_name") << "\n"
                  << "description:   " << str(m, "description") << "\n"
                  << "auth methods: ";
        for (const auto& a : m["auth_methods"].GetArray()) std::cout << " " << str(a, "name");
        print_instance_fields(m);
        std::cout << "\noperations:\n";
        for (const auto& o : m["operations"].GetArray())
            std::cout << "  " << str(o, "direction") << "  " << str(o, "name") << "\n";
    }
}

void print_isolation_change(const rapidjson::Value& c) {
    std::cout << str(c, "connector") << ": isolation " << str(c, "isolation")
              << (str(c, "source") == "api" ? " (set through the API)" : " (the config file's)");
    if (str(c, "reloaded") == "true")
        std::cout << "; " << str(c["swap"], "instances") << " instance(s) moved to it in " << str(c["swap"], "millis")
                  << " ms\n";
    else
        std::cout << "; nothing to move (it already runs so, or is not loaded)\n";
}

void print_release_report(const rapidjson::Value& r) {
    for (const auto& v : r["versions"].GetArray()) {
        std::cout << str(r, "connector") << "@" << str(v, "version") << ": ";
        if (str(v, "was_quarantined") == "true")
            std::cout << "quarantine lifted, calls go through again (it was: " << str(v, "reason") << ")\n";
        else
            std::cout << "not quarantined, nothing to release\n";
    }
    if (str(r, "active_version_loaded") == "true")
        std::cout << str(r, "connector") << ": its active version is loaded again\n";
}

void print_swap_report(const rapidjson::Value& r) {
    char took[32] = "?";
    if (const auto m = r.FindMember("millis"); m != r.MemberEnd() && m->value.IsNumber())
        std::snprintf(took, sizeof took, "%.1f", m->value.GetDouble());
    std::cout << str(r, "connector") << ": " << str(r, "from_version") << " -> " << str(r, "to_version")
              << " in " << took << " ms; " << str(r, "instances") << " instance(s), "
              << str(r, "configs_migrated") << " config(s) migrated, " << str(r, "configs_restored")
              << " restored\n";
    if (!r.HasMember("hosts") || !r["hosts"].IsObject()) return;
    const auto names = [&](const char* key) {
        std::string out;
        if (r["hosts"].HasMember(key) && r["hosts"][key].IsArray())
            for (const auto& h : r["hosts"][key].GetArray()) out += (out.empty() ? "" : ", ") + str(h, "name") + " (" + str(h, "id") + ")";
        return out;
    };
    const std::string switched = names("switched"), lagging = names("not_switched");
    if (!lagging.empty())
        std::cout << "NOT YET on " << str(r, "to_version") << ": " << lagging
                  << " (see their logs; `junction daemon status` shows each host's versions)\n";
    else if (switched.find(", ") != std::string::npos)
        std::cout << "every live host runs it: " << switched << "\n";
}

void print_daemon_status(const rapidjson::Value& d) {
    std::cout << "version:        " << str(d, "version") << "\n"
              << "safe mode:      " << (str(d, "safe_mode") == "true" ? "yes: " + str(d, "safe_mode_detail") : "no") << "\n"
              << "store:          " << str(d, "store") << "\n"
              << "isolation:      " << str(d, "isolation")
              << " (the default; `junction connectors show NAME` says where each connector runs)\n";
    if (!d.HasMember("connector_host") || !d["connector_host"].IsObject()) return;
    const auto& h = d["connector_host"];
    std::cout << "connector host: " << str(h, "program") << "\n";
    if (str(h, "probe") != "ok") std::cout << "probe:          FAILED: " << str(h, "probe_error") << "\n";
    auto list = [&](const char* title, const char* key) {
        if (!h.HasMember(key) || !h[key].IsArray() || h[key].Empty()) return;
        std::cout << title << "\n";
        for (const auto& line : h[key].GetArray()) std::cout << "  - " << line.GetString() << "\n";
    };
    list("a connector process is confined by:", "confined");
    list("not confined on this machine:", "not_confined");
}

void print_cluster(const rapidjson::Value& c) {
    if (!c.HasMember("hosts") || !c["hosts"].IsArray()) return;
    std::cout << "hosts on this store:\n";
    host::TextTable t({"NAME", "ID", "VERSION", "ADDRESS", "STATE", "SEEN", "RUNS"});
    for (const auto& h : c["hosts"].GetArray()) {
        std::string state = str(h, "state");
        if (state != "stopped" && str(h, "live") != "true") state += " (not seen lately)";
        if (str(h, "this_host") == "true") state += " (this one)";
        t.add_row({str(h, "name"), str(h, "id"), str(h, "version"), str(h, "address"), state, when(h, "seen_ms"),
                   std::to_string(h.HasMember("runs") && h["runs"].IsArray() ? h["runs"].Size() : 0)});
    }
    t.print(std::cout);
    // Which version of each connector each host runs, when they differ (an update on its way).
    std::map<std::string, std::set<std::string>> versions;  // connector -> versions run
    for (const auto& h : c["hosts"].GetArray())
        if (str(h, "live") == "true" && h.HasMember("connectors") && h["connectors"].IsObject())
            for (const auto& m : h["connectors"].GetObject())
                if (m.value.IsString()) versions[m.name.GetString()].insert(m.value.GetString());
    for (const auto& [connector, seen] : versions) {
        if (seen.size() < 2) continue;
        std::cout << connector << " runs different versions on the live hosts:";
        for (const auto& h : c["hosts"].GetArray())
            if (str(h, "live") == "true" && h.HasMember("connectors") && h["connectors"].HasMember(connector.c_str()))
                std::cout << " " << str(h, "name") << " " << str(h["connectors"], connector.c_str()) << ";";
        std::cout << " (an update still on its way, or refused on a host: see its log)\n";
    }
}

void print_history(const rapidjson::Value& items) {
    host::TextTable t({"WHEN", "ACTION", "FROM", "TO", "BY", "OUTCOME", "DETAIL"});
    for (const auto& h : items.GetArray())
        t.add_row({when(h, "at_ms"), str(h, "action"), str(h, "from_version"), str(h, "to_version"),
                   str(h, "actor"), str(h, "outcome"), str(h, "detail").substr(0, 80)});
    t.print(std::cout);
}

}  // namespace junction::cli
