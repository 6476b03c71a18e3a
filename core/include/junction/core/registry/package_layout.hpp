// How installed packages lie in the store folder (<state>/plugins): each version under a
// content-addressed name, <name>/<version>-<sha256>.so (or .connector.json for a definition,
// docs/decisions/0003, 0009), with a sidecar <...>.manifest.json written at install, so that
// listing versions and validating configs never needs to load a library.
#pragma once

#include <junction/core/bridge/manifest.hpp>
#include <junction/core/loading/plugin_library.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace junction::core {

// Who signed an installed package: the trusted key whose signature it carried when it was
// installed (decision 0016). Empty when it was installed unsigned (allow-unsigned-drops).
struct PackageSigner {
    std::string key_id;    // "ed25519:" + the start of the SHA-256 of the public key
    std::string key_file;  // the trusted key's file name, e.g. "marketplace.pub"
    std::string signature;  // the signature it verified (base64), for the other hosts to check again

    bool is_signed() const { return !key_id.empty(); }
};

// What the registry knows of an installed version without loading it.
struct PackageInfo {
    std::string name;
    std::string version;
    std::string sha256;
    std::filesystem::path file;
    AbiVersion abi;
    std::shared_ptr<const Manifest> manifest;
    std::string engine;  // a definition package: the engine that runs it; empty for a library
    PackageSigner signed_by;

    std::string id() const { return name + "@" + version; }
};

// The folder of the store where packages are copied before they are checked.
inline constexpr const char* kStagingFolder = ".staging";

// A file that can be a package: a .so or a *.connector.json, not hidden.
bool is_package_file(const std::filesystem::directory_entry& entry);

// ".so" or ".connector.json": what an installed copy's name ends with.
std::string package_suffix(const std::filesystem::path& file);

// The SHA-256 an installed copy's name carries ("" when it carries none).
std::string sha256_in_name(const std::filesystem::path& installed);

// The "engine" a connector definition names. Throws Error(plugin_rejected).
std::string engine_of_definition(const std::filesystem::path& file);

// The sidecar of an installed package, written durably before the package is renamed
// into place, and read back (nullopt when absent or unreadable: the library is described
// again).
void write_sidecar(const std::filesystem::path& package, const PackageInfo& info);
std::optional<PackageInfo> read_sidecar(const std::filesystem::path& package, const std::string& sha256);
void remove_sidecar(const std::filesystem::path& package);

// "size:mtime", to tell whether a file refused once has changed since.
std::string file_stamp(const std::filesystem::path& file);

// The stamp of a dropped package and of its signature (<file>.sig) together: a refused
// drop is looked at again when either changes, so a .sig that arrives after its library
// lets it install.
std::string drop_stamp(const std::filesystem::path& file);

// "<file>.sig": where a dropped package's signature lies.
std::filesystem::path signature_path(const std::filesystem::path& package);

}  // namespace junction::core
