// junction marketplace list [TERM] | updates | install NAME[@VERSION]
#include "commands.hpp"

#include "text_table.hpp"

#include <iostream>

namespace junction::cli {

namespace {

void usage(std::ostream& out) {
    out << "Usage: junction marketplace <command>\n\n"
           "  list [TERM]                connectors in the catalogue (matching TERM)\n"
           "  updates                    newer compatible versions of installed connectors\n"
           "  show NAME                  a connector's versions, compatibility and release notes\n"
           "  install NAME[@VERSION]     fetch, verify (sha256, signature) and install\n"
           "  apply NAME                 install the newest compatible version and apply it\n\n"
           "An installed version runs according to the connector's update policy; apply it\n"
           "with 'junction connectors apply NAME'.\n";
}

}  // namespace

int run_marketplace(Context& ctx, const std::vector<std::string>& args) {
    if (auto code = help_requested(args, usage)) return *code;
    const std::string& command = args[0];
    if (command == "list" && args.size() <= 2) {
        const std::string query = args.size() == 2 ? "?search=" + url_encode(args[1]) : "";
        return show_result(ctx, ctx.api.get("/v1/marketplace" + query), 200, [](const auto& doc) {
            host::TextTable t({"CONNECTOR", "VERSIONS", "DESCRIPTION"});
            for (const auto& p : doc["items"].GetArray()) {
                std::string versions;
                for (const auto& v : p["versions"].GetArray())
                    versions += (versions.empty() ? "" : " ") + std::string(v["version"].GetString()) +
                                (v["compatible"].GetBool() ? "" : "(incompatible)");
                t.add_row({p["name"].GetString(), versions, p["description"].GetString()});
            }
            t.print(std::cout);
        });
    }
    if (command == "updates" && args.size() == 1) {
        return show_result(ctx, ctx.api.get("/v1/marketplace/updates"), 200, [](const auto& doc) {
            host::TextTable t({"CONNECTOR", "RUNNING", "AVAILABLE", "RELEASE NOTES"});
            for (const auto& u : doc["items"].GetArray())
                t.add_row({u["name"].GetString(), u["active_version"].GetString(),
                           u["available_version"].GetString(), u["release_notes"].GetString()});
            t.print(std::cout);
        });
    }
    if (command == "show" && args.size() == 2) {
        return show_result(ctx, ctx.api.get("/v1/marketplace/" + url_encode(args[1])), 200, [](const auto& p) {
            std::cout << p["name"].GetString() << ": " << p["display_name"].GetString() << "\n"
                      << p["description"].GetString() << "\n\n";
            host::TextTable t({"VERSION", "COMPATIBLE", "MIN ABI", "RELEASE NOTES"});
            for (const auto& v : p["versions"].GetArray())
                t.add_row({v["version"].GetString(), v["compatible"].GetBool() ? "yes" : "no",
                           v["min_abi"].GetString(), v["release_notes"].GetString()});
            t.print(std::cout);
        });
    }
    if (command == "apply" && args.size() == 2) {
        const ApiResponse r = ctx.api.post("/v1/marketplace/apply", R"({"name":)" + json_quote(args[1]) + "}");
        if (r.status != 200) return print_api_error(r);
        return show_result(ctx, r, 200, [](const auto& d) { print_swap_report(d); });
    }
    if (command == "install" && args.size() == 2) {
        const size_t at = args[1].find('@');
        std::string body = R"({"name":)" + json_quote(args[1].substr(0, at));
        if (at != std::string::npos) body += R"(,"version":)" + json_quote(args[1].substr(at + 1));
        return show_result(ctx, ctx.api.post("/v1/marketplace/install", body + "}"), 201, [](const auto& d) {
            std::cout << "installed " << d["name"].GetString() << "@" << d["version"].GetString()
                      << " (sha256 and signature verified)\n";
        });
    }
    std::cerr << "junction marketplace: unknown command or arguments\n\n";
    usage(std::cerr);
    return 2;
}

}  // namespace junction::cli
