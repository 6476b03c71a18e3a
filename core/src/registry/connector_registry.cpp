#include <junction/core/registry/connector_registry.hpp>

#include <junction/core/common/error.hpp>
#include <junction/core/common/log.hpp>
#include <junction/core/registry/package_file.hpp>

#include <algorithm>
#include <functional>
#include <system_error>

#include <unistd.h>

namespace junction::core {

namespace fs = std::filesystem;

namespace {

PackageInfo info_of(const ConnectorVersion& v) {
    return {v.name(), v.version(), v.sha256(), v.file(), v.plugin_abi(), v.shared_manifest(), v.engine(), {}};
}

}  // namespace

ConnectorRegistry::ConnectorRegistry(fs::path store_dir, CrashMarkers* markers, LoadPolicy load_policy)
    : store_dir_(std::move(store_dir)), markers_(markers), load_policy_(std::move(load_policy)) {
    fs::create_directories(store_dir_);
    fs::remove_all(store_dir_ / kStagingFolder);  // leftovers of an install that was interrupted
    load_store();
}

void ConnectorRegistry::load_store() {
    for (const auto& dir : fs::directory_iterator(store_dir_)) {
        if (!dir.is_directory() || dir.path().filename() == kStagingFolder) continue;
        for (const auto& file : fs::directory_iterator(dir.path())) {
            if (!is_package_file(file)) continue;
            const std::string name = file.path().filename().string();
            const std::string sha = sha256_in_name(file.path());
            try {
                if (auto info = read_sidecar(file.path(), sha)) {
                    entries_.push_back({std::move(*info), {}});
                    continue;
                }
                if (is_definition_package(file.path())) throw Error(Errc::io, "its manifest sidecar is missing", name);
                auto v = open_locked(file.path(), sha, "", name, "");  // no sidecar: describe it
                entries_.push_back({info_of(*v), {}});
                write_sidecar(file.path(), entries_.back().info);
            } catch (const Error& e) {
                log_error("registry", "installed package no longer loads, skipped: " +
                                          std::string(e.what()));
            }
        }
    }
}

PackageInfo ConnectorRegistry::install(const fs::path& package, const PackageCheck& check) {
    std::error_code ec;
    if (!fs::is_regular_file(package, ec))
        throw Error(Errc::not_found, "no such package file; give the path to a connector .so",
                    package.string());
    std::lock_guard lock(mutex_);
    return install_locked(package.filename().string(), check,
                          [&](const fs::path& staged) { return copy_file_durably(package, staged); });
}

PackageInfo ConnectorRegistry::install_bytes(std::string_view bytes, const std::string& file_name,
                                             const PackageCheck& check) {
    std::lock_guard lock(mutex_);
    return install_locked(file_name, check,
                          [&](const fs::path& staged) { return write_bytes_durably(bytes, staged); });
}

// The package is read once, into our own staged copy; its hash is of the bytes written
// there. The check (the signature) and the load see only that copy, and it is that copy
// that is renamed into the store: whatever happens to the original afterwards, the bytes
// checked are the bytes installed.
PackageInfo ConnectorRegistry::install_locked(const std::string& file_name, const PackageCheck& check,
                                              const std::function<std::string(const fs::path&)>& stage) {
    std::error_code ec;
    const fs::path staging_dir = store_dir_ / kStagingFolder;
    const std::string suffix = package_suffix(file_name);
    const fs::path staged = staging_dir / ("incoming-" + std::to_string(::getpid()) + suffix);
    const std::string sha = stage(staged);
    const fs::path by_hash = staging_dir / (sha + suffix);
    rename_durably(staged, by_hash);

    for (const auto& e : entries_) {
        if (e.info.sha256 == sha) {
            fs::remove(by_hash, ec);
            throw Error(Errc::already_exists, e.info.id() + " is already installed from the same file", file_name);
        }
    }

    std::shared_ptr<ConnectorVersion> version;
    PackageSigner signer;
    try {
        refuse_quarantined(sha, file_name);
        if (check) signer = check(file_name, sha);
        version = open_locked(by_hash, sha, is_definition_package(file_name) ? engine_of_definition(by_hash) : "",
                              file_name, "");
    } catch (const Error& e) {
        fs::remove(by_hash, ec);
        // Name the file the admin gave, not our staged copy.
        throw Error(e.code(), e.message(), file_name, e.plugin_status());
    }
    for (const auto& e : entries_) {
        if (e.info.name == version->name() && e.info.version == version->version()) {
            version.reset();  // unload before removing the file
            fs::remove(by_hash, ec);
            throw Error(Errc::already_exists,
                        e.info.id() + " is already installed from a different file; bump the "
                                      "version in the manifest to install a new build",
                        file_name);
        }
    }
    const fs::path final_path =
        store_dir_ / version->name() / (version->version() + "-" + sha + suffix);
    PackageInfo info = info_of(*version);
    info.file = final_path;
    info.signed_by = signer;
    write_sidecar(final_path, info);
    rename_durably(by_hash, final_path);
    version.reset();  // validated; it loads again when something uses it
    entries_.push_back({info, {}});
    log_info("registry", "installed " + info.id() + " (sha256 " + sha.substr(0, 12) +
                             (signer.is_signed() ? ", signed by " + signer.key_id : ", unsigned") + ")");
    return info;
}

ScanReport ConnectorRegistry::scan(const fs::path& folder, ScanMode mode) {
    ScanReport report;
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) {
        report.refused.push_back({folder, "not a folder"});
        return report;
    }
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(folder))
        if (is_package_file(e)) files.push_back(e.path());
    std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
        if (is_definition_package(a) != is_definition_package(b)) return !is_definition_package(a);  // engines first
        return a < b;
    });

    std::lock_guard lock(mutex_);
    if (mode == ScanMode::retry_refused) refused_.clear();
    std::erase_if(refused_, [&](const auto& r) { return std::find(files.begin(), files.end(), r.first) == files.end(); });
    for (const auto& file : files) {
        const std::string stamp = drop_stamp(file);
        if (auto seen = refused_.find(file); seen != refused_.end() && seen->second.stamp == stamp) continue;
        try {
            // Only to skip what is installed already: what installs is hashed again as it is staged.
            const std::string sha = sha256_file(file);
            auto same = std::find_if(entries_.begin(), entries_.end(),
                                     [&](const Entry& e) { return e.info.sha256 == sha; });
            if (same != entries_.end()) {
                report.unchanged.push_back(same->info.id());
                refused_.erase(file);
                continue;
            }
            const PackageCheck check =
                scan_check_ ? PackageCheck([&](const std::string&, const std::string& staged_sha) {
                    return scan_check_(file, staged_sha);
                })
                            : PackageCheck();
            report.installed.push_back(
                install_locked(file.filename().string(), check,
                               [&](const fs::path& staged) { return copy_file_durably(file, staged); }));
            refused_.erase(file);
        } catch (const Error& e) {
            report.refused.push_back({file, e.message()});  // the caller logs it, once
            refused_[file] = {stamp, e.message()};
        }
    }
    return report;
}

std::vector<ScanReport::Refusal> ConnectorRegistry::refused_drops() const {
    std::lock_guard lock(mutex_);
    std::vector<ScanReport::Refusal> out;
    for (const auto& [file, r] : refused_) out.push_back({file, r.reason});
    return out;
}

std::vector<PackageInfo> ConnectorRegistry::list() const {
    std::lock_guard lock(mutex_);
    std::vector<PackageInfo> out;
    for (const auto& e : entries_) out.push_back(e.info);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        if (a.name != b.name) return a.name < b.name;
        return compare_versions(a.version, b.version) < 0;
    });
    return out;
}

ConnectorRegistry::Entry* ConnectorRegistry::find_locked(std::string_view name,
                                                         std::string_view version) {
    Entry* best = nullptr;
    for (auto& e : entries_) {
        if (e.info.name != name) continue;
        if (!version.empty()) {
            if (e.info.version == version) return &e;
            continue;
        }
        if (!best || compare_versions(e.info.version, best->info.version) > 0) best = &e;
    }
    return best;
}

std::optional<PackageInfo> ConnectorRegistry::package(std::string_view name,
                                                      std::string_view version) const {
    std::lock_guard lock(mutex_);
    auto* e = const_cast<ConnectorRegistry*>(this)->find_locked(name, version);
    if (!e) return std::nullopt;
    return e->info;
}

ConnectorVersionPtr ConnectorRegistry::load(std::string_view name, std::string_view version) {
    std::lock_guard lock(mutex_);
    Entry* e = find_locked(name, version);
    if (!e) return nullptr;
    return load_locked(*e);
}

ConnectorVersionPtr ConnectorRegistry::loaded(std::string_view name, std::string_view version) const {
    std::lock_guard lock(mutex_);
    auto* e = const_cast<ConnectorRegistry*>(this)->find_locked(name, version);
    return e ? e->loaded.lock() : nullptr;
}

ConnectorVersionPtr ConnectorRegistry::load_again(std::string_view name, std::string_view version) {
    std::lock_guard lock(mutex_);
    Entry* e = find_locked(name, version);
    if (!e)
        throw Error(Errc::not_found, "no installed connector " + std::string(name) + "@" + std::string(version) +
                                         "; list the installed ones to see their names and versions");
    return open_locked(e->info.file, e->info.sha256, e->info.engine, e->info.id(), e->info.name);
}

void ConnectorRegistry::adopt(const ConnectorVersionPtr& version) {
    std::lock_guard lock(mutex_);
    for (auto& e : entries_)
        if (e.info.sha256 == version->sha256() && e.info.name == version->name()) e.loaded = version;
}

Isolation ConnectorRegistry::isolation_for(const std::string& connector) const {
    return load_policy_ ? load_policy_(connector).isolation : LoadOptions{}.isolation;
}

ConnectorVersionPtr ConnectorRegistry::load_locked(Entry& e) {
    // A copy loaded before an isolation change is left to its users; new ones get the mode.
    if (auto loaded = e.loaded.lock(); loaded && loaded->isolation() == isolation_for(e.info.name)) return loaded;
    ConnectorVersionPtr v = open_locked(e.info.file, e.info.sha256, e.info.engine, e.info.id(), e.info.name);
    e.loaded = v;
    return v;
}

// A library opens itself; a definition opens through the newest installed version of its
// engine. Each is loaded as the load policy says for its connector ("" while installing:
// the name is what the check finds out). A load in this process is marked first, so a
// library whose constructors or describe() crash the daemon is quarantined at the next start.
std::shared_ptr<ConnectorVersion> ConnectorRegistry::open_locked(const fs::path& file, const std::string& sha,
                                                                 const std::string& engine, const std::string& subject,
                                                                 const std::string& connector) {
    refuse_quarantined(sha, subject, connector);
    LoadOptions options = load_policy_ ? load_policy_(connector) : LoadOptions{};
    options.process.label = subject;
    if (markers_)  // a version whose process keeps ending stays quarantined across restarts
        options.process.on_quarantine = [markers = markers_, sha](const std::string& why) { markers->quarantine(sha, why); };
    const bool in_process = options.isolation == Isolation::in_process;
    if (engine.empty()) {
        const auto marker = in_process ? mark_risky_call(markers_, sha, subject, "loading it") : CrashMarkers::Scope{};
        auto version = ConnectorVersion::open(file, sha, options);
        // An engine's definitions run in processes of their own: its own stays only while used.
        if (version->manifest().is_engine) version->let_process_end();
        return version;
    }
    Entry* e = find_locked(engine, {});
    if (!e || !e->info.manifest->is_engine)
        throw Error(Errc::plugin_rejected,
                    "the engine '" + engine + "' that runs this definition is not installed; install "
                    "it first (the REST engine ships as rest.so in Junction's plugin folder)",
                    file.filename().string());
    refuse_quarantined(e->info.sha256, e->info.id(), e->info.name);
    // In this process the engine is loaded first, under its own marker: an engine that
    // crashes while loading is what gets quarantined, not each definition in turn.
    const ConnectorVersionPtr engine_loaded = in_process ? load_locked(*e) : nullptr;
    const auto marker = in_process ? mark_risky_call(markers_, sha, subject, "loading it") : CrashMarkers::Scope{};
    return ConnectorVersion::open_definition(e->info.file, e->info.name, file, sha, options);
}

void ConnectorRegistry::refuse_quarantined(const std::string& sha, const std::string& subject,
                                           const std::string& connector) const {
    if (!markers_) return;
    const std::string why = markers_->quarantine_reason(sha);
    if (why.empty()) return;
    // An installed version is released by name; a dropped file never installed has no name yet.
    const std::string again = connector.empty()
                                  ? "to try this file again, delete " + markers_->quarantine_file(sha).string()
                                  : "to try this build again, run `junction connectors release " + connector + "`";
    throw Error(Errc::plugin_rejected,
                "quarantined: " + why + "; it is not loaded again. Remove it, or install a fixed build "
                "(a different file); " + again,
                subject);
}

std::vector<ConnectorRegistry::Released> ConnectorRegistry::release_quarantine(std::string_view name,
                                                                               std::string_view version) {
    std::lock_guard lock(mutex_);
    std::vector<Released> out;
    for (auto& e : entries_) {
        if (e.info.name != name || (!version.empty() && e.info.version != version)) continue;
        Released r{e.info.version, quarantine_reason(e.info)};
        if (!r.reason.empty()) {
            markers_->release(e.info.sha256);
            // A version quarantined while loaded (its process kept ending) lets calls through again.
            if (auto v = e.loaded.lock()) v->lift_quarantine();
            log_info("registry", "quarantine of " + e.info.id() + " lifted; it was: " + r.reason);
        }
        out.push_back(std::move(r));
    }
    if (out.empty())
        throw Error(Errc::not_found, "no installed connector " + std::string(name) +
                                         (version.empty() ? "" : "@" + std::string(version)) +
                                         "; list the installed ones to see their names and versions");
    std::sort(out.begin(), out.end(),
              [](const Released& a, const Released& b) { return compare_versions(a.version, b.version) < 0; });
    return out;
}

std::string ConnectorRegistry::quarantine_reason(const PackageInfo& package) const {
    return markers_ ? markers_->quarantine_reason(package.sha256) : std::string();
}

void ConnectorRegistry::uninstall(std::string_view name, std::string_view version) {
    std::lock_guard lock(mutex_);
    const size_t versions = std::count_if(entries_.begin(), entries_.end(),
                                          [&](const Entry& e) { return e.info.name == name; });
    const bool last = version.empty() || versions == 1;
    std::string dependents;  // definitions this engine runs
    for (const auto& e : entries_)
        if (last && e.info.engine == name && dependents.find(e.info.name) == std::string::npos)
            dependents += (dependents.empty() ? "" : ", ") + e.info.name;
    if (!dependents.empty())
        throw Error(Errc::invalid_argument, std::string(name) + " is the engine that runs " + dependents +
                                                "; uninstall those connectors first");
    std::vector<PackageInfo> removed;
    std::erase_if(entries_, [&](const Entry& e) {
        const bool match = e.info.name == name && (version.empty() || e.info.version == version);
        if (match) removed.push_back(e.info);
        return match;
    });
    if (removed.empty()) {
        throw Error(Errc::not_found,
                    "no installed connector " + std::string(name) +
                        (version.empty() ? "" : "@" + std::string(version)) +
                        "; list the installed ones to see their names and versions");
    }
    for (const auto& info : removed) {
        std::error_code ec;
        fs::remove(info.file, ec);  // a loaded copy stays mapped for its users
        remove_sidecar(info.file);
        log_info("registry", "uninstalled " + info.id());
    }
}

}  // namespace junction::core
