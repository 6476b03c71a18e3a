// junction: the command-line client of junctiond's admin API.
//   junction [--url URL] [--token T | --state-dir DIR] [--output table|json] <group> <command>
// Exit codes: 0 done, 1 the daemon refused or a test failed, 2 usage error, 3 daemon unreachable.
#include "api_client.hpp"
#include "commands.hpp"

#include <junction/plugin_api.h>

#include <boost/program_options.hpp>

#include <algorithm>
#include <iostream>

namespace po = boost::program_options;
using namespace junction::cli;

namespace {

void usage(std::ostream& out, const po::options_description& global) {
    out << "Usage: junction [options] <group> <command> [arguments]\n\n"
           "Groups:\n"
           "  connectors   list, show, install, uninstall connectors\n"
           "  instances    add, list, show, update, delete, test instances\n"
           "  marketplace  list, updates, install from the marketplace catalogue\n"
           "  flows        save, list, show, run, enable, disable, delete flows\n"
           "  runs         list, show, wait, log, failures, cancel, retry runs\n"
           "  daemon       status, metrics, the OpenAPI document\n"
           "  builder      test a REST connector manifest, here, without the daemon\n"
           "  version      print the Junction version and the plugin ABI it speaks\n\n"
           "Run 'junction <group> --help' for a group's commands.\n\n"
        << global << "\n";
}

}  // namespace

int main(int argc, char** argv) {
    Connection connection;
    std::string output = "table";
    po::options_description global("Options");
    global.add_options()("help,h", "show this help")(
        "url", po::value<std::string>(), "daemon address (env JUNCTION_URL; default: the address the daemon wrote to <state-dir>/admin.url, else http://127.0.0.1:8750)")(
        "token", po::value<std::string>(), "admin token (env JUNCTION_TOKEN; default: read <state-dir>/admin.token)")(
        "state-dir", po::value<std::string>(), "the daemon's state directory (env JUNCTION_STATE_DIR)")(
        "cacert", po::value<std::string>(),
        "PEM file of the CA (or the self-signed certificate) to trust for an https:// daemon "
        "(env JUNCTION_CACERT)")(
        "output,o", po::value(&output), "table (default) or json");

    std::vector<std::string> rest;
    po::variables_map vm;
    try {
        const auto parsed = po::command_line_parser(argc, argv).options(global).allow_unregistered().run();
        po::store(parsed, vm);
        po::notify(vm);
        rest = po::collect_unrecognized(parsed.options, po::include_positional);
    } catch (const std::exception& e) {
        std::cerr << "junction: " << e.what() << "\n";
        return 2;
    }
    if (rest.empty() || rest[0] == "help") {
        usage(rest.empty() && !vm.count("help") ? std::cerr : std::cout, global);
        return rest.empty() && !vm.count("help") ? 2 : 0;
    }
    if (vm.count("help")) rest.push_back("--help");
    if (rest[0] == "version") {
        std::cout << "junction " JUNCTION_VERSION "\nplugin ABI " << JN_ABI_VERSION_MAJOR << "."
                  << JN_ABI_VERSION_MINOR << "\n";
        return 0;
    }
    if (output != "table" && output != "json") {
        std::cerr << "junction: --output must be table or json\n";
        return 2;
    }
    if (vm.count("url")) connection.url = vm["url"].as<std::string>();
    if (vm.count("token")) connection.token = vm["token"].as<std::string>();
    if (vm.count("state-dir")) connection.state_dir = vm["state-dir"].as<std::string>();
    if (vm.count("cacert")) connection.ca_file = vm["cacert"].as<std::string>();

    const std::string group = rest[0];
    const std::vector<std::string> args(rest.begin() + 1, rest.end());
    if (group == "builder") return run_builder(args);
    if (group != "connectors" && group != "instances" && group != "marketplace" && group != "flows" &&
        group != "runs" && group != "daemon") {
        std::cerr << "junction: unknown group '" << group << "'\n\n";
        usage(std::cerr, global);
        return 2;
    }
    try {
        // Help needs no daemon: answer it before looking for the token.
        const bool help = args.empty() || args[0] == "help" ||
                          std::any_of(args.begin(), args.end(), [](const std::string& a) { return a == "--help" || a == "-h"; });
        ApiClient api = help ? ApiClient("", "") : connect(connection);
        Context ctx{api, output == "json" ? Format::json : Format::table};
        if (group == "connectors") return run_connectors(ctx, args);
        if (group == "marketplace") return run_marketplace(ctx, args);
        if (group == "flows") return run_flows(ctx, args);
        if (group == "runs") return run_runs(ctx, args);
        if (group == "daemon") return run_daemon(ctx, args);
        return run_instances(ctx, args);
    } catch (const Unreachable& e) {
        std::cerr << "junction: " << e.what() << "\n";
        return 3;
    } catch (const std::exception& e) {
        std::cerr << "junction: " << e.what() << "\n";
        return 2;
    }
}
