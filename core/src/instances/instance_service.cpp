#include <junction/core/instances/instance_service.hpp>
#include "instance_conflict.hpp"

#include <junction/core/common/error.hpp>
#include <junction/core/common/json_schema.hpp>
#include <junction/core/common/log.hpp>

#include <junction/core/common/ids.hpp>
#include <junction/core/secrets/clear_text.hpp>
#include <junction/core/secrets/redactor.hpp>
#include <junction/json/utf8_writer.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <chrono>

namespace junction::core {

namespace {

constexpr const char* kRedacted = "***";

std::string to_text(const rapidjson::Value& v) {
    rapidjson::StringBuffer buffer;
    json::Utf8Writer writer(buffer);
    v.Accept(writer);
    return std::string(buffer.GetString(), buffer.GetSize());
}

// The stored settings as shown: each secret field added as "***". The stored text is one
// JSON object this service wrote (seal_config), so the fields are appended to it rather
// than parsed into a document and written again; anything else goes the long way.
std::string shown_settings(const std::string& stored, const std::vector<SealedSecret>& secrets) {
    if (secrets.empty()) return stored;
    std::string_view body = stored;
    while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back()))) body.remove_suffix(1);
    while (!body.empty() && std::isspace(static_cast<unsigned char>(body.front()))) body.remove_prefix(1);
    if (body.size() < 2 || body.front() != '{' || body.back() != '}') {
        rapidjson::Document settings = parse_json_text(stored, "stored settings");
        for (const auto& s : secrets)
            settings.AddMember(rapidjson::Value(s.field.c_str(), settings.GetAllocator()),
                               rapidjson::Value(rapidjson::StringRef(kRedacted)), settings.GetAllocator());
        return to_text(settings);
    }
    std::string_view inside = body.substr(1, body.size() - 2);
    bool first = inside.find_first_not_of(" \t\r\n") == std::string_view::npos;
    std::string out;
    out.reserve(body.size() + secrets.size() * 24);
    out.append(body.substr(0, body.size() - 1));  // all but the closing brace
    for (const auto& s : secrets) {
        if (!first) out += ',';
        first = false;
        out += json::quote(s.field);
        out += ':';
        out += json::quote(kRedacted);
    }
    out += '}';
    return out;
}

std::string join(const std::vector<std::string>& items, const char* sep) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
    return out;
}

void check_name(const std::string& name) {
    static const RE2 pattern("[a-z0-9][a-z0-9_.-]{0,62}");  // RE2: linear, no recursion
    if (!RE2::FullMatch(name, pattern))
        throw Error(Errc::invalid_argument,
                    "instance name '" + name.substr(0, 80) +
                        "' is not valid: use 1 to 63 lower-case letters, digits, '-', '_' or '.', "
                        "starting with a letter or digit (for example shopify-uk)");
}

rapidjson::Document parse_object(const std::string& text, const char* what) {
    rapidjson::Document doc;
    try {
        doc = parse_json_text(text, what);
    } catch (const Error& e) {
        throw Error(Errc::invalid_argument, e.message());
    }
    if (!doc.IsObject()) throw Error(Errc::invalid_argument, std::string(what) + " must be a JSON object");
    return doc;
}

const AuthMethod& pick_auth_method(const Manifest& m, const std::string& wanted) {
    std::vector<std::string> names;
    for (const auto& a : m.auth_methods) names.push_back(a.name);
    if (wanted.empty()) {
        if (m.auth_methods.size() == 1) return m.auth_methods.front();
        throw Error(Errc::invalid_argument, "connector " + m.name +
                                                " has several auth methods; choose one of: " +
                                                join(names, ", "));
    }
    for (const auto& a : m.auth_methods)
        if (a.name == wanted) return a;
    throw Error(Errc::invalid_argument, "connector " + m.name + " has no auth method '" + wanted +
                                            "'; choose one of: " + join(names, ", "));
}

// Validates a full config against the connector: schema (an error per field) and the
// fields the chosen auth method needs.
void validate_config(const Manifest& m, const AuthMethod& auth, const rapidjson::Document& config) {
    std::vector<std::string> problems = m.config_schema.validate_fields(config);
    for (const auto& field : auth.fields) {
        const std::string required = "field '" + field + "' is required";
        if (!config.HasMember(field.c_str()) &&
            std::find(problems.begin(), problems.end(), required) == problems.end())
            problems.push_back(required + " by auth method '" + auth.name + "'");
    }
    if (!problems.empty()) {
        Error e(Errc::invalid_argument,
                "the config does not fit connector " + m.id() + ": " + join(problems, "; "));
        throw e.with_details(problems);
    }
}

}  // namespace

bool is_secret_field(const Manifest& manifest, std::string_view field) {
    if (std::find(manifest.secret_fields.begin(), manifest.secret_fields.end(), field) !=
        manifest.secret_fields.end())
        return true;
    static const std::vector<std::string_view> names = {
        "password", "passwd", "token", "secret", "api_key", "apikey", "client_secret",
        "private_key", "access_token", "refresh_token", "api_token", "auth_token", "passphrase"};
    if (std::find(names.begin(), names.end(), field) != names.end()) return true;
    for (std::string_view suffix : {"_password", "_secret", "_token", "_private_key", "_api_key"})
        if (field.size() > suffix.size() && field.ends_with(suffix)) return true;
    return false;
}

std::string InstanceView::to_json() const {
    rapidjson::StringBuffer buffer;
    json::Utf8Writer w(buffer);
    write_json(w);
    return std::string(buffer.GetString(), buffer.GetSize());
}

void InstanceView::write_json(json::Utf8Writer& w) const {
    auto str = [&](const char* k, const std::string& v) {
        w.Key(k);
        w.String(v);
    };
    w.StartObject();
    str("id", id);
    str("name", name);
    str("connector", connector);
    str("version", version);
    str("version_pin", version_pin);
    str("auth_method", auth_method);
    str("status", status);
    str("status_detail", status_detail);
    w.Key("settings");
    w.RawValue(settings_json.c_str(), settings_json.size(), rapidjson::kObjectType);
    w.Key("secret_fields");
    w.StartArray();
    for (const auto& f : secret_fields) w.String(f);
    w.EndArray();
    w.Key("created_ms"); w.Int64(created_ms);
    w.Key("updated_ms"); w.Int64(updated_ms);
    w.Key("tested_ms"); w.Int64(tested_ms);
    w.Key("revision"); w.Int64(revision);
    w.EndObject();
}

InstanceService::InstanceService(Store& store, const SecretBox& secrets,
                                 ConnectorRegistry& registry, InstanceRuntime& runtime)
    : store_(store), secrets_(secrets), registry_(registry), runtime_(runtime) {}

void InstanceService::seal_config(InstanceRecord& record, const Manifest& manifest,
                                  const std::string& config_json) const {
    rapidjson::Document config = parse_object(config_json, "the config");
    rapidjson::Document settings(rapidjson::kObjectType);
    record.secrets.clear();
    for (const auto& m : config.GetObject()) {
        const std::string field(m.name.GetString(), m.name.GetStringLength());
        if (is_secret_field(manifest, field)) {
            const std::string clear = m.value.IsString()
                                          ? std::string(m.value.GetString(), m.value.GetStringLength())
                                          : to_text(m.value);
            record.secrets.push_back(secrets_.seal(record.id, field, clear));
        } else {
            settings.AddMember(rapidjson::Value(field.c_str(), settings.GetAllocator()),
                               rapidjson::Value(m.value, settings.GetAllocator()),
                               settings.GetAllocator());
        }
    }
    record.settings_json = to_text(settings);
}

InstanceView InstanceService::create(const NewInstance& request) {
    const auto manifest = runtime_.manifest_for(request.connector, request.version_pin);
    if (!manifest)
        throw Error(Errc::not_found,
                    "connector '" + request.connector + "'" +
                        (request.version_pin.empty() ? "" : " version " + request.version_pin) +
                        " is not installed; list the installed connectors to see their names");
    check_name(request.name);
    const Manifest& m = *manifest;
    const AuthMethod& auth = pick_auth_method(m, request.auth_method);
    const rapidjson::Document config = parse_object(request.config_json, "the config");
    validate_config(m, auth, config);

    InstanceRecord r;
    r.id = random_id("inst_");
    r.name = request.name;
    r.connector = request.connector;
    r.auth_method = auth.name;
    r.version_pin = request.version_pin;
    r.created_ms = r.updated_ms = now_ms();
    seal_config(r, m, request.config_json);
    store_.insert_instance(r);
    log_info("instances", "created instance " + r.name + " (" + r.id + ") of " + m.id());
    return view(r);
}

InstancePage InstanceService::list(const InstanceQuery& query) {
    InstanceQuery q = query;
    q.limit = std::clamp<size_t>(q.limit, 1, 1000);
    q.with_rotations = false;  // a listing shows which fields are secret, never a value
    q.with_sealed_values = false;
    InstancePage page;
    std::map<std::pair<std::string, std::string>, Standing> standings;  // by connector and pin
    for (auto& r : store_.list_instances(q)) {
        auto [known, added] = standings.try_emplace({r.connector, r.version_pin});
        if (added) known->second = standing(r.connector, r.version_pin);
        page.items.push_back(view(std::move(r), known->second));
    }
    if (page.items.size() == q.limit) page.next_after = page.items.back().name;
    return page;
}

InstanceRecord InstanceService::load(std::string_view id_or_name) {
    auto r = store_.find_instance(id_or_name);
    if (!r)
        throw Error(Errc::not_found, "no instance '" + std::string(id_or_name) +
                                         "'; list the instances to see their names");
    return *r;
}

InstanceView InstanceService::show(std::string_view id_or_name) { return view(load(id_or_name)); }

InstanceRecord InstanceService::changed(const InstanceRecord& read, const InstanceChanges& changes) const {
    InstanceRecord r = read;
    if (changes.name) {
        check_name(*changes.name);
        r.name = *changes.name;
    }
    if (changes.version_pin) r.version_pin = *changes.version_pin;
    const auto manifest = runtime_.manifest_for(r.connector, r.version_pin);
    if (!manifest)
        throw Error(Errc::not_found, "connector '" + r.connector + "'" +
                                         (r.version_pin.empty() ? "" : " version " + r.version_pin) +
                                         " is not installed; the instance cannot be updated");
    const Manifest& m = *manifest;
    const AuthMethod& auth = pick_auth_method(m, changes.auth_method.value_or(r.auth_method));
    r.auth_method = auth.name;

    rapidjson::Document config = parse_object(ClearText(runtime_.clear_config(r)).str(), "the stored config");
    const rapidjson::Document patch = parse_object(changes.config_patch_json, "the config changes");
    auto& a = config.GetAllocator();
    for (const auto& p : patch.GetObject()) {
        config.RemoveMember(p.name);
        if (!p.value.IsNull())
            config.AddMember(rapidjson::Value(p.name, a), rapidjson::Value(p.value, a), a);
    }
    validate_config(m, auth, config);
    seal_config(r, m, to_text(config));
    r.updated_ms = std::max(now_ms(), r.updated_ms + 1);
    r.test_status = "untested";  // the last test was of another config
    r.test_detail.clear();
    return r;
}

InstanceView InstanceService::update(std::string_view id_or_name, const InstanceChanges& changes) {
    // Without a revision from the caller, a write that lost a race to another writer is
    // re-applied to the newer record (read-modify-write inside the compare-and-set).
    // Later attempts look the instance up by the id the first one found: by name they could
    // find another instance, made under that name after a rename.
    constexpr int kAttempts = 5;
    std::string id;
    for (int attempt = 1;; ++attempt) {
        const InstanceRecord read = load(id.empty() ? id_or_name : std::string_view(id));
        id = read.id;
        if (changes.revision && *changes.revision != read.revision)
            throw stale_instance_error(runtime_, *changes.revision, nullptr, read);
        InstanceRecord r = changed(read, changes);
        try {
            r.revision = store_.update_instance(r);
        } catch (const Error& e) {
            if (e.code() != Errc::conflict) throw;
            if (changes.revision) throw stale_instance_error(runtime_, read.revision, &read, load(read.id));
            if (attempt < kAttempts) continue;
            throw Error(Errc::conflict, "instance " + read.name + " kept changing while this update was applied (" +
                                            std::to_string(kAttempts) + " attempts); nothing was written: "
                                            "read it again and retry");
        }
        runtime_.forget(r.id);
        log_info("instances", "updated instance " + r.name + " (" + r.id + ") to revision " +
                                  std::to_string(r.revision));
        return view(r);
    }
}

void InstanceService::remove(std::string_view id_or_name) {
    const InstanceRecord r = load(id_or_name);
    const auto flows = store_.flows().flows_using_instance(r.id);
    if (!flows.empty()) {
        std::string names;
        for (const auto& f : flows) names += (names.empty() ? "" : ", ") + f;
        throw Error(Errc::invalid_argument, "instance " + r.name + " is used by flow" +
                                                (flows.size() > 1 ? "s " : " ") + names +
                                                "; change or delete those flows first");
    }
    store_.delete_instance(r.id);
    runtime_.forget(r.id);
    log_info("instances", "deleted instance " + r.name + " (" + r.id + ")");
}

InstanceView InstanceService::test(std::string_view id_or_name) {
    InstanceRecord r = load(id_or_name);
    std::string status = "ok", detail;
    try {
        const auto live = runtime_.acquire(r.id);
        const auto& version = live->plugin->version();
        // Only a connector in this process can take the daemon down (crash_markers.hpp).
        const auto marker = version.isolation() == Isolation::in_process
                                ? mark_risky_call(registry_.crash_markers(), version.sha256(), version.id(),
                                                  "testing instance " + r.name)
                                : CrashMarkers::Scope{};
        detail = live->plugin->test_connection();
    } catch (const Error& e) {
        status = "failing";
        Redactor redactor;
        redactor.add_instance(secrets_, r);
        detail = redactor.apply(e.message());
    }
    r.test_status = status;
    r.test_detail = detail;
    r.tested_ms = now_ms();
    store_.record_test(r.id, status, detail, r.tested_ms);
    log_info("instances", "tested instance " + r.name + ": " + status);
    return view(r);
}

void InstanceService::check_uninstall_allowed(std::string_view connector, std::string_view version) {
    std::vector<std::string> users;
    size_t total = 0;
    // Unpinned instances run on the store's active version on every host that followed it,
    // whatever this one runs now.
    const auto state = store_.connector_state(connector);
    const std::string active = state ? state->active_version : std::string();
    InstanceQuery q;
    q.connector = std::string(connector);
    q.limit = 1000;
    for (;;) {
        auto batch = store_.list_instances(q);
        for (const auto& r : batch) {
            // Uninstalling one version touches the instances pinned to it, and the unpinned
            // ones when it is the version they run on.
            const auto runs_on = runtime_.manifest_for(r.connector, r.version_pin);
            const bool affected = version.empty() || r.version_pin == version ||
                                  (r.version_pin.empty() && (active == version || (runs_on && runs_on->version == version)));
            if (!affected) continue;
            if (++total <= 10) users.push_back(r.name);
        }
        if (batch.size() < q.limit) break;
        q.after_name = batch.back().name;
    }
    if (total == 0) return;
    throw Error(Errc::invalid_argument,
                "connector " + std::string(connector) +
                    (version.empty() ? "" : "@" + std::string(version)) + " is used by " +
                    std::to_string(total) + " instance(s): " + join(users, ", ") +
                    (total > users.size() ? ", ..." : "") +
                    "; delete or move those instances first");
}

InstanceService::Standing InstanceService::standing(const std::string& connector, const std::string& version_pin) const {
    Standing s;
    const auto manifest = runtime_.manifest_for(connector, version_pin);
    s.installed = manifest != nullptr;
    if (manifest) s.version = manifest->version;
    // The version it runs on crashed the daemon: say so rather than a stale test result.
    const auto package = registry_.package(connector, manifest ? manifest->version : version_pin);
    if (!package) return s;
    const std::string why = registry_.quarantine_reason(*package);  // a marker file's
    if (!why.empty())
        s.quarantined = "connector " + package->id() + " is quarantined: " + why +
                        "; install a fixed build and apply it, or try this one again with "
                        "`junction connectors release " + package->name + "`";
    return s;
}

InstanceView InstanceService::view(InstanceRecord r) const {
    const Standing s = standing(r.connector, r.version_pin);
    return view(std::move(r), s);
}

InstanceView InstanceService::view(InstanceRecord r, const Standing& standing) const {
    InstanceView v;
    v.version = standing.version;
    if (!standing.quarantined.empty()) {
        v.status = "connector_quarantined";
        v.status_detail = standing.quarantined;
    } else if (!standing.installed) {
        v.status = "connector_missing";
        v.status_detail = "connector " + r.connector + (r.version_pin.empty() ? "" : "@" + r.version_pin) +
                          " is not installed";
    } else {
        v.status = std::move(r.test_status);
        v.status_detail = std::move(r.test_detail);
    }
    for (const auto& s : r.secrets) v.secret_fields.push_back(s.field);
    v.settings_json = shown_settings(r.settings_json, r.secrets);
    v.id = std::move(r.id);
    v.name = std::move(r.name);
    v.connector = std::move(r.connector);
    v.version_pin = std::move(r.version_pin);
    v.auth_method = std::move(r.auth_method);
    v.created_ms = r.created_ms;
    v.updated_ms = r.updated_ms;
    v.tested_ms = r.tested_ms;
    v.revision = r.revision;
    return v;
}

}  // namespace junction::core
