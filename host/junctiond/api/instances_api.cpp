// /v1/instances: create, list (paged), show, update (partial, compare-and-set on the
// revision), delete, test.
#include "admin_api.hpp"
#include "api_json.hpp"

#include <junction/json/utf8_writer.hpp>

namespace junction::daemon {

using core::Errc;
using core::Error;

void add_instance_routes(Router& router, AdminServices& s) {
    router.add("GET", "/v1/instances", [&s](HttpRequest& r) {
        core::InstanceQuery q;
        q.connector = query_or(r, "connector");
        q.after_name = query_or(r, "after");
        q.limit = limit_param(r);
        const core::InstancePage page = s.instances.list(q);
        // Written straight into one buffer: a page of 100 is the request's main cost.
        rapidjson::StringBuffer body;
        json::Utf8Writer w(body);
        w.StartObject();
        w.Key("items");
        w.StartArray();
        for (const auto& item : page.items) item.write_json(w);
        w.EndArray();
        w.Key("next_after");
        w.String(page.next_after);
        w.EndObject();
        return json_response(200, std::string(body.GetString(), body.GetSize()));
    });

    router.add("POST", "/v1/instances", [&s](HttpRequest& r) {
        const auto body = parse_body(r, {"connector", "name", "auth_method", "config", "version_pin"});
        core::NewInstance n;
        n.connector = optional_string(body, "connector").value_or("");
        n.name = optional_string(body, "name").value_or("");
        if (n.connector.empty() || n.name.empty())
            throw Error(Errc::invalid_argument, "fields 'connector' and 'name' are required");
        n.auth_method = optional_string(body, "auth_method").value_or("");
        n.version_pin = optional_string(body, "version_pin").value_or("");
        n.config_json = member_json(body, "config", "{}");
        return json_response(201, s.instances.create(n).to_json());
    });

    router.add("GET", "/v1/instances/{name}", [&s](HttpRequest& r) {
        return json_response(200, s.instances.show(r.params["name"]).to_json());
    });

    router.add("PATCH", "/v1/instances/{name}", [&s](HttpRequest& r) {
        const auto body = parse_body(r, {"name", "auth_method", "config", "version_pin", "revision"});
        core::InstanceChanges c;
        // The revision the client read (GET shows it): a stale one is refused with 409.
        if (body.HasMember("revision")) {
            if (!body["revision"].IsInt64() || body["revision"].GetInt64() < 1)
                throw Error(Errc::invalid_argument,
                            "'revision' must be the whole number a GET of the instance showed");
            c.revision = body["revision"].GetInt64();
        }
        c.name = optional_string(body, "name");
        c.auth_method = optional_string(body, "auth_method");
        if (body.HasMember("version_pin"))
            c.version_pin = optional_string(body, "version_pin").value_or("");
        c.config_patch_json = member_json(body, "config", "{}");
        return json_response(200, s.instances.update(r.params["name"], c).to_json());
    });

    router.add("DELETE", "/v1/instances/{name}", [&s](HttpRequest& r) {
        s.instances.remove(r.params["name"]);
        return HttpResponse{204, "", "application/json", {}};
    });

    router.add("POST", "/v1/instances/{name}/test", [&s](HttpRequest& r) {
        return json_response(200, s.instances.test(r.params["name"]).to_json());
    });
}

}  // namespace junction::daemon
