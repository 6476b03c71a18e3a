// junction daemon status | drain | metrics | openapi: the daemon itself, through its API.
#include "commands.hpp"

#include <iostream>

namespace junction::cli {

namespace {

void usage(std::ostream& out) {
    out << "Usage: junction daemon <command>\n\n"
           "  status    whether the daemon answers and is ready (exit 0 when it is), its version, where\n"
           "            connectors run by default, what confines a connector process on this kernel, and\n"
           "            the hosts sharing its store (their state and the runs each holds)\n"
           "  drain [--grace-seconds N]\n"
           "            this host takes no more runs and hands the runs in hand to the other hosts at\n"
           "            their next page (at once after N seconds, default 30); then stop it\n"
           "  metrics   the Prometheus metrics (GET /metrics)\n"
           "  openapi   the API's OpenAPI 3 document (GET /v1/openapi.json)\n";
}

// Prints the body as it came: metrics are text, the document is JSON either way.
int print_raw(const ApiResponse& r) {
    if (r.status != 200) return print_api_error(r);
    std::cout << r.body << (r.body.empty() || r.body.back() != '\n' ? "\n" : "");
    return 0;
}

}  // namespace

int run_daemon(Context& ctx, const std::vector<std::string>& args) {
    if (auto code = help_requested(args, usage)) return *code;
    if (args[0] == "drain") {
        std::string body;
        const auto whole_number = [](const std::string& v) {
            return !v.empty() && v.size() <= 9 && v.find_first_not_of("0123456789") == std::string::npos;
        };
        if (args.size() == 3 && args[1] == "--grace-seconds" && whole_number(args[2])) {
            body = R"({"grace_seconds":)" + args[2] + "}";  // the daemon checks the range
        } else if (args.size() != 1) {
            usage(std::cerr);
            return 2;
        }
        const ApiResponse r = ctx.api.post("/v1/daemon/drain", body);
        if (r.status != 200) return print_api_error(r);
        if (ctx.format == Format::json) {
            std::cout << r.body << "\n";
        } else {
            const auto d = core::parse_json_text(r.body, "the daemon's answer");
            std::cout << "drained: this host takes no more runs; " << d["handed_back"].GetInt64()
                      << " runs were handed back to the other hosts. Stop it now (systemctl stop junctiond).\n";
        }
        return 0;
    }
    if (args.size() != 1) {
        usage(std::cerr);
        return 2;
    }
    if (args[0] == "metrics") return print_raw(ctx.api.get("/metrics"));
    if (args[0] == "openapi") return print_raw(ctx.api.get("/v1/openapi.json"));
    if (args[0] == "status") {
        const ApiResponse r = ctx.api.get("/readyz");
        const ApiResponse daemon = ctx.api.get("/v1/daemon");
        if (ctx.format == Format::json) {
            std::cout << (daemon.status == 200 ? daemon.body : r.body) << "\n";
        } else {
            std::cout << ctx.api.base_url() << ": " << (r.status == 200 ? "ready" : "not ready") << "\n";
            if (daemon.status == 200) print_daemon_status(core::parse_json_text(daemon.body, "the daemon's answer"));
            const ApiResponse cluster = ctx.api.get("/v1/cluster");
            if (cluster.status == 200) print_cluster(core::parse_json_text(cluster.body, "the daemon's answer"));
        }
        return r.status == 200 ? 0 : 1;
    }
    usage(std::cerr);
    return 2;
}

}  // namespace junction::cli
