// The installed connectors. Installing copies a package into the state directory under a
// content-addressed name (<store>/<name>/<version>-<sha256>.so), loads it from there once
// to validate it, and keeps its manifest beside it (.manifest.json). A package is a
// connector library (.so), or a connector definition (*.connector.json) run by an engine
// library installed beside it (docs/decisions/0009). A version is loaded
// only while something uses it (an active version, a pinned instance, a call): load()
// hands out the one loaded copy, and the library unloads when the last user lets go.
// Several versions of one connector can be installed and loaded side by side.
#pragma once

#include <junction/core/bridge/connector.hpp>
#include <junction/core/common/crash_markers.hpp>
#include <junction/core/registry/package_layout.hpp>
#include <junction/core/registry/version_order.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace junction::core {

using ConnectorVersionPtr = std::shared_ptr<const ConnectorVersion>;

struct ScanReport {
    std::vector<PackageInfo> installed;  // newly installed by this scan
    std::vector<std::string> unchanged;  // files already installed (same bytes)
    struct Refusal {
        std::filesystem::path file;
        std::string reason;
    };
    std::vector<Refusal> refused;
};

class ConnectorRegistry {
public:
    // How a connector's versions load: in a connector process or in this one, with which
    // limits. Asked with the connector's name, or "" for a package being checked before its
    // name is known. Without one everything loads in this process.
    using LoadPolicy = std::function<LoadOptions(const std::string& connector)>;

    // `store_dir` is where installed packages live (<state>/plugins). Packages already
    // there are registered again; ones that no longer validate are logged and skipped.
    // With `markers`, every load is marked (a load that crashes the daemon quarantines the
    // package) and a quarantined package is refused, never loaded.
    explicit ConnectorRegistry(std::filesystem::path store_dir, CrashMarkers* markers = nullptr,
                               LoadPolicy load_policy = {});

    // What a package must pass before it installs (the signature policy): called with the
    // package's file name and the SHA-256 of the registry's own staged copy (the bytes that
    // will install, never read again from where they came from). Throws Error to refuse;
    // returns who signed it (empty: unsigned, allowed), recorded with the install.
    using PackageCheck = std::function<PackageSigner(const std::string& file_name, const std::string& sha256)>;

    // Installs one package file. Throws Error(plugin_rejected) for a bad package and
    // Error(already_exists) for a name@version that is already installed. The file is read
    // once, into the store's staging folder; `check` and the load see that copy only.
    PackageInfo install(const std::filesystem::path& package, const PackageCheck& check = {});
    // The same for a package uploaded as bytes; `file_name` (ending .so or .connector.json)
    // says which kind it is and names it in errors.
    PackageInfo install_bytes(std::string_view bytes, const std::string& file_name, const PackageCheck& check = {});

    // Installs every package in `folder` (libraries first, then definitions) that is not
    // installed yet; never throws for a bad package, it reports it. A refused file is not
    // read again until it or its signature (<file>.sig) changes, or `retry_refused` (SIGHUP).
    enum class ScanMode { skip_refused, retry_refused };
    ScanReport scan(const std::filesystem::path& folder, ScanMode mode = ScanMode::skip_refused);
    // The dropped files refused and not changed since, with the reason.
    std::vector<ScanReport::Refusal> refused_drops() const;

    // The check of every package found by scan() (the signature of folder drops): called with
    // the dropped file's path (to find its .sig) and the staged copy's SHA-256. Set once at start.
    using DropCheck = std::function<PackageSigner(const std::filesystem::path& file, const std::string& sha256)>;
    void set_scan_check(DropCheck check) { scan_check_ = std::move(check); }

    // All installed versions, by name then version.
    std::vector<PackageInfo> list() const;

    // One version, or the newest installed when `version` is empty.
    std::optional<PackageInfo> package(std::string_view name, std::string_view version = {}) const;

    // The loaded version (loading it if no one holds it, or if it was loaded in another
    // isolation than the load policy now says); null when not installed.
    ConnectorVersionPtr load(std::string_view name, std::string_view version = {});
    // The loaded copy, if something holds one; never loads.
    ConnectorVersionPtr loaded(std::string_view name, std::string_view version) const;
    // A new copy of an installed version, loaded as the load policy says now, beside the
    // copy in use (an isolation change); load() hands it out only after adopt(). Throws
    // Error(not_found) when it is not installed.
    ConnectorVersionPtr load_again(std::string_view name, std::string_view version);
    void adopt(const ConnectorVersionPtr& version);
    // Where the load policy runs `connector` now.
    Isolation isolation_for(const std::string& connector) const;

    // `junction connectors release`: lifts the quarantine of every installed version of
    // `name` (or of `version` only), on disk and in the loaded copy. Says per version what
    // it was quarantined for (empty: it was not). Throws Error(not_found).
    struct Released {
        std::string version;
        std::string reason;
    };
    std::vector<Released> release_quarantine(std::string_view name, std::string_view version = {});

    // Removes a version (every version when `version` is empty) from the registry and the
    // store. Users of a loaded copy keep it until they let go. Throws Error(not_found).
    void uninstall(std::string_view name, std::string_view version = {});

    const std::filesystem::path& store_dir() const { return store_dir_; }
    CrashMarkers* crash_markers() const { return markers_; }
    // Why this installed version is quarantined; empty when it is not.
    std::string quarantine_reason(const PackageInfo& package) const;

private:
    struct Entry {
        PackageInfo info;
        std::weak_ptr<const ConnectorVersion> loaded;
    };

    PackageInfo install_locked(const std::string& file_name, const PackageCheck& check,
                               const std::function<std::string(const std::filesystem::path&)>& stage);
    std::shared_ptr<ConnectorVersion> open_locked(const std::filesystem::path& file, const std::string& sha,
                                                  const std::string& engine, const std::string& subject,
                                                  const std::string& connector);
    void refuse_quarantined(const std::string& sha, const std::string& subject,
                            const std::string& connector = {}) const;
    ConnectorVersionPtr load_locked(Entry& e);
    void load_store();
    Entry* find_locked(std::string_view name, std::string_view version);

    std::filesystem::path store_dir_;
    CrashMarkers* markers_ = nullptr;
    mutable std::mutex mutex_;
    std::vector<Entry> entries_;
    struct Refused {
        std::string stamp;  // drop_stamp() when it was refused
        std::string reason;
    };
    std::map<std::filesystem::path, Refused> refused_;  // dropped files seen bad
    DropCheck scan_check_;
    LoadPolicy load_policy_;
};

}  // namespace junction::core
