// The installed connectors. Installing copies a package into the state directory under a
// content-addressed name (<store>/<name>/<version>-<sha256>.so), loads it from there and
// validates it; the original file is never loaded or locked. Several versions of one
// connector can be installed and loaded side by side.
#pragma once

#include <junction/core/connector.hpp>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace junction::core {

using ConnectorVersionPtr = std::shared_ptr<const ConnectorVersion>;

struct ScanReport {
    std::vector<ConnectorVersionPtr> installed;  // newly installed by this scan
    std::vector<std::string> unchanged;          // files already installed (same bytes)
    struct Refusal {
        std::filesystem::path file;
        std::string reason;
    };
    std::vector<Refusal> refused;
};

// Orders "1.2.10" after "1.2.9"; a pre-release ("1.0.0-beta") sorts before its release.
int compare_versions(std::string_view a, std::string_view b);

class ConnectorRegistry {
public:
    // `store_dir` is where installed packages live (<state>/plugins). Packages already
    // there are loaded again; ones that no longer load are reported in the log and skipped.
    explicit ConnectorRegistry(std::filesystem::path store_dir);

    // Installs one package file. Throws Error(plugin_rejected) for a bad package and
    // Error(already_exists) for a name@version that is already installed.
    ConnectorVersionPtr install(const std::filesystem::path& package);

    // Installs every *.so in `folder` that is not installed yet; never throws for a bad
    // package, it reports it.
    ScanReport scan(const std::filesystem::path& folder);

    // All installed versions, by name then version.
    std::vector<ConnectorVersionPtr> list() const;

    // One version, or the newest installed version when `version` is empty. Null if none.
    ConnectorVersionPtr find(std::string_view name, std::string_view version = {}) const;

    // Removes a version (all versions when `version` is empty) from the registry and the
    // store. Running instances keep their lease; the library unloads when they are gone.
    // Throws Error(not_found).
    void uninstall(std::string_view name, std::string_view version = {});

    const std::filesystem::path& store_dir() const { return store_dir_; }

private:
    ConnectorVersionPtr install_locked(const std::filesystem::path& package);
    void load_store();

    std::filesystem::path store_dir_;
    mutable std::mutex mutex_;
    std::vector<ConnectorVersionPtr> versions_;
};

}  // namespace junction::core
