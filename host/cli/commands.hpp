// The CLI's command groups. Each returns the process exit code: 0 done, 1 the daemon
// refused (its message is printed), 2 usage error.
#pragma once

#include <junction/core/common/json.hpp>
#include <algorithm>

#include "api_client.hpp"
#include "output.hpp"

#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace junction::cli {

struct Context {
    ApiClient& api;
    Format format;
};

int run_connectors(Context& ctx, const std::vector<std::string>& args);
int run_instances(Context& ctx, const std::vector<std::string>& args);
int run_marketplace(Context& ctx, const std::vector<std::string>& args);
int run_flows(Context& ctx, const std::vector<std::string>& args);
int run_runs(Context& ctx, const std::vector<std::string>& args);
// `junction runs retry ID [--from-start]` (runs_retry_command.cpp).
int retry_run(Context& ctx, const std::vector<std::string>& args);
int run_daemon(Context& ctx, const std::vector<std::string>& args);
// Runs here, without the daemon.
int run_builder(const std::vector<std::string>& args);

// A group called with no command (usage on stderr, exit 2) or with help (stdout, 0);
// nullopt when there is a command to run.
inline std::optional<int> help_requested(const std::vector<std::string>& args,
                                         void (*usage)(std::ostream&)) {
    // `junction runs --help`, `junction runs show --help`: the group's usage lists every
    // command with its arguments.
    const bool none = args.empty();
    const bool asked = !none && (args[0] == "help" || std::any_of(args.begin(), args.end(), [](const std::string& a) {
                                     return a == "--help" || a == "-h";
                                 }));
    if (!none && !asked) return std::nullopt;
    usage(none ? std::cerr : std::cout);
    return none ? 2 : 0;
}

// Quotes text as a JSON string.
std::string json_quote(const std::string& text);

// Prints the answer (JSON as-is, or through `human`) or the API error; returns the exit code.
template <class Human>
int show_result(const Context& ctx, const ApiResponse& r, int expected_status, Human&& human) {
    if (r.status != expected_status) return print_api_error(r);
    if (ctx.format == Format::json) {
        std::cout << r.body << "\n";
        return 0;
    }
    rapidjson::Document doc;
    doc = core::parse_json_text(r.body, "the daemon's answer");
    human(doc);
    return 0;
}

}  // namespace junction::cli
