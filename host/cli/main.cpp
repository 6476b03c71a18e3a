// junction: the command-line client of junctiond. The commands that drive the daemon
// arrive with its admin API; today it reports its version and the ABI it speaks.
#include <junction/plugin_api.h>

#include <iostream>
#include <string_view>

namespace {

void usage(std::ostream& out) {
    out << "Usage: junction <command>\n\n"
           "Commands:\n"
           "  version    print the Junction version and the plugin ABI it speaks\n"
           "  help       show this help\n\n"
           "To check a connector library, use junction-plugin-check FILE.so.\n";
}

}  // namespace

int main(int argc, char** argv) {
    const std::string_view command = argc > 1 ? argv[1] : "help";
    if (command == "help" || command == "--help" || command == "-h") {
        usage(std::cout);
        return 0;
    }
    if (command == "version" || command == "--version") {
        std::cout << "junction " JUNCTION_VERSION "\nplugin ABI " << JN_ABI_VERSION_MAJOR << "."
                  << JN_ABI_VERSION_MINOR << "\n";
        return 0;
    }
    std::cerr << "junction: unknown command '" << command << "'\n\n";
    usage(std::cerr);
    return 2;
}
