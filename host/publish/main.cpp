// junction-publish: what a connector publisher uses to sign packages and keep a
// marketplace catalogue (a directory with index.json and the packages; serve it over
// HTTPS or point hosts at it directly).
//   junction-publish keygen --private KEY.pem --public KEY.pub
//   junction-publish sign PACKAGE.so --key KEY.pem          writes PACKAGE.so.sig
//   junction-publish add PACKAGE.so --key KEY.pem --catalogue DIR [--notes TEXT]
#include <junction/core/bridge/connector.hpp>
#include <junction/core/common/error.hpp>
#include <junction/core/common/log.hpp>
#include <junction/core/marketplace/marketplace.hpp>
#include <junction/core/marketplace/package_signature.hpp>
#include <junction/core/registry/package_file.hpp>

#include "shipped_plugins.hpp"

#include <boost/program_options.hpp>
#include <junction/core/common/json.hpp>
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <iterator>

namespace fs = std::filesystem;
namespace po = boost::program_options;
using namespace junction::core;

namespace {

std::string read_all(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(Errc::not_found, "cannot read " + file.string());
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const fs::path& file, const std::string& text, mode_t mode = 0644) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        throw Error(Errc::io, "cannot write " + file.string());
    ::fchmod(fd, mode);
    ::close(fd);
}

void usage(std::ostream& out) {
    out << "Usage:\n"
           "  junction-publish keygen --private KEY.pem --public KEY.pub\n"
           "  junction-publish sign PACKAGE.so --key KEY.pem\n"
           "  junction-publish add PACKAGE --key KEY.pem --catalogue DIR [--notes TEXT] [--engine rest.so]\n"
           "PACKAGE is a connector library (.so) or a REST manifest (NAME.connector.json), which is\n"
           "checked with the REST engine shipped with Junction unless --engine names another.\n";
}

// Adds (or replaces) one version in DIR/index.json.
void add_to_catalogue(const fs::path& package, const std::string& key_pem, const fs::path& dir,
                      const std::string& notes, const fs::path& engine) {
    const std::string sha = sha256_file(package);
    auto version = open_package_file(package, engine);  // validates it like a host would
    const Manifest& m = version->manifest();
    const std::string file_name =
        m.name + "-" + m.version + (is_definition_package(package) ? ".connector.json" : ".so");
    fs::create_directories(dir);
    fs::copy_file(package, dir / file_name, fs::copy_options::overwrite_existing);
    const std::string signature = sign_package(key_pem, sha);

    rapidjson::Document index(rapidjson::kObjectType);
    if (fs::exists(dir / "index.json")) {
        index = parse_json_text(read_all(dir / "index.json"), "the existing index.json");
        if (!index.IsObject()) throw Error(Errc::invalid_argument, "the existing index.json is not valid");
    }
    auto& a = index.GetAllocator();  // after the parse: it brings its own allocator
    if (!index.HasMember("format")) index.AddMember("format", 1, a);
    if (!index.HasMember("packages")) index.AddMember("packages", rapidjson::Value(rapidjson::kArrayType), a);
    rapidjson::Value* entry = nullptr;
    for (auto& p : index["packages"].GetArray())
        if (p.HasMember("name") && m.name == p["name"].GetString()) entry = &p;
    if (!entry) {
        rapidjson::Value p(rapidjson::kObjectType);
        p.AddMember("name", rapidjson::Value(m.name.c_str(), a), a);
        p.AddMember("versions", rapidjson::Value(rapidjson::kArrayType), a);
        index["packages"].PushBack(p, a);
        entry = &index["packages"][index["packages"].Size() - 1];
    }
    entry->RemoveMember("display_name");
    entry->RemoveMember("description");
    entry->AddMember("display_name", rapidjson::Value(m.display_name.c_str(), a), a);
    entry->AddMember("description", rapidjson::Value(m.description.c_str(), a), a);
    auto& versions = (*entry)["versions"];
    for (auto it = versions.Begin(); it != versions.End();) {
        if (m.version == (*it)["version"].GetString()) it = versions.Erase(it);
        else ++it;
    }
    rapidjson::Value v(rapidjson::kObjectType);
    v.AddMember("version", rapidjson::Value(m.version.c_str(), a), a);
    v.AddMember("file", rapidjson::Value(file_name.c_str(), a), a);
    v.AddMember("sha256", rapidjson::Value(sha.c_str(), a), a);
    v.AddMember("signature", rapidjson::Value(signature.c_str(), a), a);
    const std::string abi = std::to_string(version->plugin_abi().major) + "." +
                            std::to_string(version->plugin_abi().minor);
    v.AddMember("min_abi", rapidjson::Value(abi.c_str(), a), a);
    v.AddMember("release_notes", rapidjson::Value(notes.c_str(), a), a);
    versions.PushBack(v, a);

    rapidjson::StringBuffer buffer;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
    index.Accept(writer);
    parse_catalogue(buffer.GetString());  // what we write must read back
    write_file(dir / "index.json.tmp", std::string(buffer.GetString()) + "\n");
    fs::rename(dir / "index.json.tmp", dir / "index.json");
    std::cout << "added " << m.id() << " to " << (dir / "index.json").string() << " (sha256 "
              << sha.substr(0, 12) << ", signed)\n";
}

}  // namespace

int main(int argc, char** argv) {
    configure_log({LogLevel::warn, false});
    po::options_description opts("Options");
    opts.add_options()("help,h", "help")("command", po::value<std::string>(), "")(
        "package", po::value<std::string>(), "")("private", po::value<std::string>(), "")(
        "public", po::value<std::string>(), "")("key", po::value<std::string>(), "")(
        "catalogue", po::value<std::string>(), "")("notes", po::value<std::string>()->default_value(""), "")("engine", po::value<std::string>(), "");
    po::positional_options_description pos;
    pos.add("command", 1).add("package", 1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(opts).positional(pos).run(), vm);
    } catch (const std::exception& e) {
        std::cerr << "junction-publish: " << e.what() << "\n";
        usage(std::cerr);
        return 2;
    }
    const std::string command = vm.count("command") ? vm["command"].as<std::string>() : "";
    auto need = [&](const char* key) -> std::string {
        if (!vm.count(key)) throw std::invalid_argument(std::string("--") + key + " is required");
        return vm[key].as<std::string>();
    };
    try {
        if (command == "keygen") {
            const KeyPairPem pair = generate_signing_key();
            write_file(need("private"), pair.private_pem, 0600);
            write_file(need("public"), pair.public_pem);
            std::cout << "private key: " << need("private") << " (0600; keep it secret)\npublic key:  "
                      << need("public") << " (key id " << public_key_id(pair.public_pem)
                      << "; give it to the hosts as marketplace-key, or put it in their trusted-keys folder)\n";
            return 0;
        }
        if (command == "sign") {
            const fs::path package = need("package");
            write_file(package.string() + ".sig", sign_package(read_all(need("key")), sha256_file(package)) + "\n");
            std::cout << "signed " << package.string() << " -> " << package.string() << ".sig\n";
            return 0;
        }
        if (command == "add") {
            const fs::path package = need("package");
            const fs::path engine = !is_definition_package(package) ? fs::path()
                                    : vm.count("engine")             ? fs::path(vm["engine"].as<std::string>())
                                                                     : junction::host::shipped_plugin("rest.so");
            add_to_catalogue(package, read_all(need("key")), need("catalogue"), vm["notes"].as<std::string>(), engine);
            return 0;
        }
    } catch (const std::invalid_argument& e) {
        std::cerr << "junction-publish: " << e.what() << "\n";
        usage(std::cerr);
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "junction-publish: " << e.what() << "\n";
        return 1;
    }
    usage(command.empty() ? std::cerr : std::cout);
    return command == "help" || vm.count("help") ? 0 : 2;
}
