#include "instance_conflict.hpp"

#include <junction/core/common/error.hpp>
#include <junction/core/common/json.hpp>
#include <junction/core/secrets/clear_text.hpp>

#include <set>

namespace junction::core {

namespace {

// The config fields whose values differ (credentials compared opened, in memory only: a
// re-sealing alone changes every ciphertext).
std::vector<std::string> changed_config_fields(const InstanceRuntime& runtime, const InstanceRecord& a,
                                               const InstanceRecord& b) {
    std::vector<std::string> out;
    try {
        const ClearText text_a(runtime.clear_config(a)), text_b(runtime.clear_config(b));
        const rapidjson::Document da = parse_json_text(text_a.str(), "stored config");
        const rapidjson::Document db = parse_json_text(text_b.str(), "stored config");
        std::set<std::string> names;
        for (const auto* d : {&da, &db})
            for (const auto& m : d->GetObject()) names.emplace(m.name.GetString(), m.name.GetStringLength());
        for (const auto& n : names) {
            const auto ia = da.FindMember(n.c_str()), ib = db.FindMember(n.c_str());
            const bool in_a = ia != da.MemberEnd(), in_b = ib != db.MemberEnd();
            if (in_a != in_b || (in_a && ia->value != ib->value)) out.push_back(n);
        }
    } catch (const Error&) {
        out.push_back("(the stored config could not be compared)");
    }
    return out;
}

}  // namespace

Error stale_instance_error(const InstanceRuntime& runtime, int64_t read_revision, const InstanceRecord* read,
                           const InstanceRecord& now) {
    std::vector<std::string> changed;
    if (read) {
        if (read->name != now.name) changed.push_back("name");
        if (read->auth_method != now.auth_method) changed.push_back("auth_method");
        if (read->version_pin != now.version_pin) changed.push_back("version_pin");
        for (const auto& f : changed_config_fields(runtime, *read, now)) changed.push_back("config." + f);
    }
    std::string what;
    for (const auto& c : changed) what += (what.empty() ? "" : ", ") + c;
    if (!read)
        what = std::to_string(now.revision - read_revision) + " write(s) since, the last at updated_ms " +
               std::to_string(now.updated_ms);
    else if (what.empty())
        what = "no field's value, it was re-written (re-encrypted or migrated)";
    Error e(Errc::conflict,
            "instance " + now.name + " changed since revision " + std::to_string(read_revision) +
                " was read: it is at revision " + std::to_string(now.revision) + " (changed: " + what +
                "). Nothing was written: read it again (GET /v1/instances/" + now.name +
                "), then send your changes with \"revision\": " + std::to_string(now.revision));
    e.with_details(changed);
    return e;
}

}  // namespace junction::core
