// GET /v1/daemon: the daemon itself. An operator who started it with --safe (issue 13) sees
// here that runs are not resumed, schedules do not fire and the plugin folder is not read.
#include "admin_api.hpp"
#include "api_json.hpp"

namespace junction::daemon {

void add_daemon_route(Router& router, DaemonStatus status) {
    router.add("GET", "/v1/daemon", [status](HttpRequest&) {
        std::string body = R"({"version":")" JUNCTION_VERSION R"(","safe_mode":)";
        body += status.safe_mode ? "true" : "false";
        if (status.safe_mode)
            body += R"(,"safe_mode_detail":"no interrupted run is resumed, no schedule fires, the plugin folder )"
                    R"(is not scanned; restart junctiond without --safe to leave safe mode")";
        return json_response(200, body + "}");
    });
}

}  // namespace junction::daemon
