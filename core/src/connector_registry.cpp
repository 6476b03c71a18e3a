#include <junction/core/connector_registry.hpp>

#include <junction/core/error.hpp>
#include <junction/core/log.hpp>
#include <junction/core/package_file.hpp>

#include <algorithm>
#include <charconv>
#include <system_error>

#include <unistd.h>

namespace junction::core {

namespace fs = std::filesystem;

namespace {

constexpr const char* kStaging = ".staging";

// Splits "1.2.3-rc.1" into numbers and the pre-release text.
struct SemVer {
    uint64_t part[3] = {0, 0, 0};
    std::string_view pre;
};

SemVer parse_semver(std::string_view v) {
    SemVer s;
    const size_t dash = v.find('-');
    if (dash != std::string_view::npos) {
        s.pre = v.substr(dash + 1);
        v = v.substr(0, dash);
    }
    for (int i = 0; i < 3 && !v.empty(); ++i) {
        const size_t dot = v.find('.');
        const std::string_view num = v.substr(0, dot);
        std::from_chars(num.data(), num.data() + num.size(), s.part[i]);
        v = dot == std::string_view::npos ? std::string_view{} : v.substr(dot + 1);
    }
    return s;
}

bool is_package_file(const fs::directory_entry& e) {
    return e.is_regular_file() && e.path().extension() == ".so" &&
           !e.path().filename().string().starts_with(".");
}

}  // namespace

int compare_versions(std::string_view a, std::string_view b) {
    const SemVer x = parse_semver(a), y = parse_semver(b);
    for (int i = 0; i < 3; ++i)
        if (x.part[i] != y.part[i]) return x.part[i] < y.part[i] ? -1 : 1;
    if (x.pre.empty() != y.pre.empty()) return x.pre.empty() ? 1 : -1;
    return x.pre.compare(y.pre) < 0 ? -1 : (x.pre == y.pre ? 0 : 1);
}

ConnectorRegistry::ConnectorRegistry(fs::path store_dir) : store_dir_(std::move(store_dir)) {
    fs::create_directories(store_dir_);
    fs::remove_all(store_dir_ / kStaging);  // leftovers of an install that was interrupted
    load_store();
}

void ConnectorRegistry::load_store() {
    for (const auto& dir : fs::directory_iterator(store_dir_)) {
        if (!dir.is_directory() || dir.path().filename() == kStaging) continue;
        for (const auto& file : fs::directory_iterator(dir.path())) {
            if (!is_package_file(file)) continue;
            const std::string stem = file.path().stem().string();
            const size_t dash = stem.rfind('-');
            try {
                versions_.push_back(ConnectorVersion::open(
                    file.path(), dash == std::string::npos ? "" : stem.substr(dash + 1)));
            } catch (const Error& e) {
                log_error("registry", "installed package no longer loads, skipped: " +
                                          std::string(e.what()));
            }
        }
    }
}

ConnectorVersionPtr ConnectorRegistry::install(const fs::path& package) {
    std::lock_guard lock(mutex_);
    return install_locked(package);
}

ConnectorVersionPtr ConnectorRegistry::install_locked(const fs::path& package) {
    std::error_code ec;
    if (!fs::is_regular_file(package, ec))
        throw Error(Errc::not_found, "no such package file; give the path to a connector .so",
                    package.string());

    // Stage first: the loader only ever sees our own durable copy.
    const fs::path staging_dir = store_dir_ / kStaging;
    const fs::path staged = staging_dir / ("incoming-" + std::to_string(::getpid()) + ".so");
    const std::string sha = copy_file_durably(package, staged);
    const fs::path by_hash = staging_dir / (sha + ".so");
    rename_durably(staged, by_hash);

    for (const auto& v : versions_) {
        if (v->sha256() == sha) {
            fs::remove(by_hash, ec);
            throw Error(Errc::already_exists, v->id() + " is already installed from the same file",
                        package.filename().string());
        }
    }

    std::shared_ptr<ConnectorVersion> version;
    try {
        version = ConnectorVersion::open(by_hash, sha);
    } catch (const Error& e) {
        fs::remove(by_hash, ec);
        // Name the file the admin gave, not our staged copy.
        throw Error(e.code(), e.message(), package.filename().string(), e.plugin_status());
    }
    for (const auto& v : versions_) {
        if (v->name() == version->name() && v->version() == version->version()) {
            version.reset();  // unload before removing the file
            fs::remove(by_hash, ec);
            throw Error(Errc::already_exists,
                        v->id() + " is already installed from a different file; bump the "
                                  "version in the manifest to install a new build",
                        package.filename().string());
        }
    }
    // The mapping survives the rename: the library is the same inode under its final name.
    const fs::path final_path =
        store_dir_ / version->name() / (version->version() + "-" + sha + ".so");
    rename_durably(by_hash, final_path);
    version = ConnectorVersion::open(final_path, sha);  // reopen under its permanent name
    versions_.push_back(version);
    log_info("registry", "installed " + version->id() + " (sha256 " + sha.substr(0, 12) + ")");
    return version;
}

ScanReport ConnectorRegistry::scan(const fs::path& folder) {
    ScanReport report;
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) {
        report.refused.push_back({folder, "not a folder"});
        return report;
    }
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(folder))
        if (is_package_file(e)) files.push_back(e.path());
    std::sort(files.begin(), files.end());

    std::lock_guard lock(mutex_);
    for (const auto& file : files) {
        try {
            const std::string sha = sha256_file(file);
            auto same = std::find_if(versions_.begin(), versions_.end(),
                                     [&](const auto& v) { return v->sha256() == sha; });
            if (same != versions_.end()) {
                report.unchanged.push_back((*same)->id());
                continue;
            }
            report.installed.push_back(install_locked(file));
        } catch (const Error& e) {
            log_warn("registry", "refused " + file.string() + ": " + e.message());
            report.refused.push_back({file, e.message()});
        }
    }
    return report;
}

std::vector<ConnectorVersionPtr> ConnectorRegistry::list() const {
    std::lock_guard lock(mutex_);
    std::vector<ConnectorVersionPtr> out = versions_;
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        if (a->name() != b->name()) return a->name() < b->name();
        return compare_versions(a->version(), b->version()) < 0;
    });
    return out;
}

ConnectorVersionPtr ConnectorRegistry::find(std::string_view name, std::string_view version) const {
    std::lock_guard lock(mutex_);
    ConnectorVersionPtr best;
    for (const auto& v : versions_) {
        if (v->name() != name) continue;
        if (!version.empty()) {
            if (v->version() == version) return v;
            continue;
        }
        if (!best || compare_versions(v->version(), best->version()) > 0) best = v;
    }
    return best;
}

void ConnectorRegistry::uninstall(std::string_view name, std::string_view version) {
    std::lock_guard lock(mutex_);
    std::vector<ConnectorVersionPtr> removed;
    std::erase_if(versions_, [&](const ConnectorVersionPtr& v) {
        const bool match = v->name() == name && (version.empty() || v->version() == version);
        if (match) removed.push_back(v);
        return match;
    });
    if (removed.empty()) {
        throw Error(Errc::not_found,
                    "no installed connector " + std::string(name) +
                        (version.empty() ? "" : "@" + std::string(version)) +
                        "; list the installed ones to see their names and versions");
    }
    for (const auto& v : removed) {
        std::error_code ec;
        fs::remove(v->file(), ec);  // the mapping stays valid for leases still held
        log_info("registry", "uninstalled " + v->id());
    }
}

}  // namespace junction::core
