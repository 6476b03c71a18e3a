// junction connectors list | show NAME | install FILE [--sig FILE] | uninstall NAME [--version V]
//                    | policy NAME manual|auto | apply NAME [--version V] | rollback NAME
//                    | isolation NAME process|in-process|default
//                    | release NAME [--version V] | history NAME
#include "commands.hpp"

#include <boost/program_options.hpp>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <iostream>

namespace junction::cli {

namespace po = boost::program_options;

namespace {

void usage(std::ostream& out) {
    out << "Usage: junction connectors <command>\n\n"
           "  list                          the installed connectors and versions\n"
           "  show NAME                     a connector's manifest and installed versions\n"
           "  install FILE [--sig SIG]      upload a connector package (a .so or a .connector.json) with its\n"
           "                                signature (default FILE.sig when it exists); junctiond installs it\n"
           "                                under the plugin folder's policy: signed by a trusted key, or\n"
           "                                unsigned only where allow-unsigned-drops = true\n"
           "  uninstall NAME [--version V]  remove a connector (refused while instances use it)\n"
           "  policy NAME manual|auto       how newer versions are applied (default manual)\n"
           "  isolation NAME process|in-process|default\n"
           "                                where NAME runs: a connector process of its own, or inside\n"
           "                                junctiond (only for connectors you trust with it); default: as\n"
           "                                junctiond.conf says. Applied at once, moving the instances like\n"
           "                                an update (no call fails); kept across restarts\n"
           "  apply NAME [--version V]      move every unpinned instance to V (default: newest)\n"
           "  rollback NAME                 go back to the version before the last change\n"
           "  release NAME [--version V]    lift the quarantine of NAME's versions (or of V only): a version\n"
           "                                is quarantined when it crashed junctiond, or when its connector\n"
           "                                process ended connector-crash-limit times; calls then fail at once.\n"
           "                                Release it once the cause is fixed (or to try it again)\n"
           "  history NAME                  versions applied, by whom, when, and how it ended\n";
}

std::optional<std::string> read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return std::nullopt;
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// Uploads the package's bytes, so the daemon reads nothing on this machine's word.
int install_package(Context& ctx, const std::filesystem::path& file, const std::filesystem::path& sig_flag) {
    const auto bytes = read_file(file);
    if (!bytes) {
        std::cerr << "junction connectors install: cannot read " << file.string() << "\n";
        return 1;
    }
    const std::filesystem::path sig_file = sig_flag.empty() ? std::filesystem::path(file.string() + ".sig") : sig_flag;
    std::optional<std::string> signature = read_file(sig_file);
    if (!signature && !sig_flag.empty()) {
        std::cerr << "junction connectors install: cannot read the signature " << sig_flag.string() << "\n";
        return 1;
    }
    std::string path = "/v1/connectors/upload?file=" + url_encode(file.filename().string());
    if (signature) {
        while (!signature->empty() && std::isspace(static_cast<unsigned char>(signature->back()))) signature->pop_back();
        path += "&signature=" + url_encode(*signature);
    }
    return show_result(ctx, ctx.api.post_bytes(path, *bytes), 201, [](const auto& doc) {
        std::cout << "installed " << doc["name"].GetString() << "@" << doc["version"].GetString() << " ("
                  << (signer_text(doc) == "unsigned" ? "" : "signed by ") << signer_text(doc) << ")\n";
    });
}

}  // namespace

int run_connectors(Context& ctx, const std::vector<std::string>& args) {
    if (auto code = help_requested(args, usage)) return *code;
    const std::string& command = args[0];
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (command == "list") {
        return show_result(ctx, ctx.api.get("/v1/connectors"), 200,
                           [](const auto& doc) { print_connector_table(doc["items"]); });
    }
    if (command == "show" && rest.size() == 1 && rest[0] != "--help")
        return show_result(ctx, ctx.api.get("/v1/connectors/" + url_encode(rest[0])), 200,
                           [](const auto& doc) { print_connector(doc); });
    if (command == "install" && (rest.size() == 1 || (rest.size() == 3 && rest[1] == "--sig")) && rest[0] != "--help")
        return install_package(ctx, rest[0], rest.size() == 3 ? rest[2] : "");
    if (command == "policy" && rest.size() == 2) {
        return show_result(ctx, ctx.api.put("/v1/connectors/" + url_encode(rest[0]) + "/policy",
                                            R"({"policy":)" + json_quote(rest[1]) + "}"),
                           200, [&](const auto&) {
                               std::cout << rest[0] << ": update policy " << rest[1] << "\n";
                           });
    }
    if (command == "isolation" && rest.size() == 2) {
        const std::string body = rest[1] == "default" ? R"({"isolation":null})" : R"({"isolation":)" + json_quote(rest[1]) + "}";
        return show_result(ctx, ctx.api.put("/v1/connectors/" + url_encode(rest[0]) + "/isolation", body), 200,
                           [](const auto& d) { print_isolation_change(d); });
    }
    if (command == "release" && (rest.size() == 1 || (rest.size() == 3 && rest[1] == "--version"))) {
        const std::string body = rest.size() == 3 ? R"({"version":)" + json_quote(rest[2]) + "}" : "{}";
        return show_result(ctx, ctx.api.post("/v1/connectors/" + url_encode(rest[0]) + "/release", body), 200,
                           [](const auto& d) { print_release_report(d); });
    }
    if ((command == "apply" && (rest.size() == 1 || (rest.size() == 3 && rest[1] == "--version"))) ||
        (command == "rollback" && rest.size() == 1)) {
        const std::string path = "/v1/connectors/" + url_encode(rest[0]) + "/" + command;
        const std::string body = rest.size() == 3 ? R"({"version":)" + json_quote(rest[2]) + "}" : "{}";
        const ApiResponse r = ctx.api.post(path, body);
        if (r.status != 200) return print_api_error(r);
        return show_result(ctx, r, 200, [](const auto& d) { print_swap_report(d); });
    }
    if (command == "history" && rest.size() == 1) {
        return show_result(ctx, ctx.api.get("/v1/connectors/" + url_encode(rest[0]) + "/history"), 200,
                           [](const auto& d) { print_history(d["items"]); });
    }
    if (command == "uninstall") {
        po::options_description opts("Options");
        opts.add_options()("version", po::value<std::string>(), "only this version");
        po::positional_options_description pos;
        pos.add("name", 1);
        opts.add_options()("name", po::value<std::string>()->required(), "connector name");
        po::variables_map vm;
        try {
            po::store(po::command_line_parser(rest).options(opts).positional(pos).run(), vm);
            po::notify(vm);
        } catch (const std::exception& e) {
            std::cerr << "junction connectors uninstall: " << e.what() << "\n";
            return 2;
        }
        const std::string name = vm["name"].as<std::string>();
        std::string path = "/v1/connectors/" + url_encode(name);
        if (vm.count("version")) path += "/versions/" + url_encode(vm["version"].as<std::string>());
        const ApiResponse r = ctx.api.del(path);
        if (r.status != 204) return print_api_error(r);
        if (ctx.format == Format::table) std::cout << "uninstalled " << name << "\n";
        return 0;
    }
    std::cerr << "junction connectors: unknown command or arguments\n\n";
    usage(std::cerr);
    return 2;
}

}  // namespace junction::cli
