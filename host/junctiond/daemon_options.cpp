#include "daemon_options.hpp"

#include <boost/program_options.hpp>

#include <cstdlib>
#include <iostream>

namespace junction::daemon {

namespace po = boost::program_options;

namespace {
std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return (v && *v) ? v : fallback;
}
}  // namespace

std::optional<DaemonOptions> parse_daemon_options(int argc, char** argv, int& exit_code) {
    po::options_description opts("Usage: junctiond [options]\n\nOptions");
    opts.add_options()("help,h", "show this help")(
        "state-dir", po::value<std::string>(),
        "where Junction keeps its state (env JUNCTION_STATE_DIR; default /var/lib/junction)")(
        "plugin-dir", po::value<std::string>(),
        "folder watched for connector packages (env JUNCTION_PLUGIN_DIR; default "
        "<state-dir>/drop)")("print-registry", "load the connectors, print them and exit")(
        "log-json", "write log lines as JSON objects");
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, opts), vm);
    } catch (const std::exception& e) {
        std::cerr << "junctiond: " << e.what() << "\n\n" << opts << "\n";
        exit_code = 2;
        return std::nullopt;
    }
    if (vm.count("help")) {
        std::cout << opts << "\n";
        exit_code = 0;
        return std::nullopt;
    }
    DaemonOptions o;
    o.state_dir = vm.count("state-dir") ? vm["state-dir"].as<std::string>()
                                        : env_or("JUNCTION_STATE_DIR", "/var/lib/junction");
    o.plugin_dir = vm.count("plugin-dir")
                       ? vm["plugin-dir"].as<std::string>()
                       : env_or("JUNCTION_PLUGIN_DIR", (o.state_dir / "drop").string());
    o.print_registry = vm.count("print-registry") > 0;
    o.log_json = vm.count("log-json") > 0;
    return o;
}

}  // namespace junction::daemon
