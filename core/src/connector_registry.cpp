#include <junction/core/connector_registry.hpp>

#include <junction/core/error.hpp>
#include <junction/core/json.hpp>
#include <junction/core/log.hpp>
#include <junction/core/package_file.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
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

constexpr std::string_view kDefinitionSuffix = ".connector.json";

bool is_definition(const fs::path& file) { return is_definition_package(file); }

bool is_package_file(const fs::directory_entry& e) {
    return e.is_regular_file() && (e.path().extension() == ".so" || is_definition(e.path())) &&
           !e.path().filename().string().starts_with(".");
}

// "so" or "connector.json": what an installed copy's name ends with.
std::string package_suffix(const fs::path& file) {
    return is_definition(file) ? std::string(kDefinitionSuffix) : ".so";
}

// The "engine" a connector definition names.
std::string engine_of_definition(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    rapidjson::Document doc;
    try {
        doc = parse_json_text(text, "the connector definition", JsonSize::manifest);
    } catch (const Error& e) {
        throw Error(Errc::plugin_rejected, e.message(), file.filename().string());
    }
    if (!doc.IsObject())
        throw Error(Errc::plugin_rejected, "a connector definition must be a JSON object",
                    file.filename().string());
    auto it = doc.FindMember("engine");
    if (it == doc.MemberEnd() || !it->value.IsString() || it->value.GetStringLength() == 0)
        throw Error(Errc::plugin_rejected,
                    "at /engine: a connector definition must name the engine that runs it "
                    "(\"engine\": \"rest\")",
                    file.filename().string());
    return it->value.GetString();
}

}  // namespace

int compare_versions(std::string_view a, std::string_view b) {
    const SemVer x = parse_semver(a), y = parse_semver(b);
    for (int i = 0; i < 3; ++i)
        if (x.part[i] != y.part[i]) return x.part[i] < y.part[i] ? -1 : 1;
    if (x.pre.empty() != y.pre.empty()) return x.pre.empty() ? 1 : -1;
    return x.pre.compare(y.pre) < 0 ? -1 : (x.pre == y.pre ? 0 : 1);
}

namespace {

PackageInfo info_of(const ConnectorVersion& v) {
    return {v.name(), v.version(), v.sha256(), v.file(), v.plugin_abi(), v.shared_manifest(), v.engine()};
}

fs::path manifest_path(const fs::path& package) {
    const std::string name = package.string();
    const std::string suffix = package_suffix(package);
    return name.substr(0, name.size() - suffix.size()) + ".manifest.json";
}

void write_manifest(const fs::path& library, const ConnectorVersion& v) {
    const fs::path file = manifest_path(library);
    const fs::path tmp = file.string() + ".tmp";
    fs::create_directories(file.parent_path());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << R"({"abi":")" << v.plugin_abi().major << "." << v.plugin_abi().minor
            << R"(","engine":")" << v.engine() << R"(","manifest":)" << v.manifest().json << "}";
        out.flush();
        if (!out) throw Error(Errc::io, "cannot write the manifest beside the package", tmp.string());
    }
    rename_durably(tmp, file);
}

// The sidecar written at install, so listing and validating configs need no load.
std::optional<PackageInfo> read_manifest(const fs::path& library, const std::string& sha) {
    std::ifstream in(manifest_path(library), std::ios::binary);
    if (!in) return std::nullopt;
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    rapidjson::Document doc;
    try {
        doc = parse_json_text(text, "the manifest sidecar", JsonSize::manifest);
    } catch (const Error&) {
        return std::nullopt;  // as if absent: the library is described again
    }
    if (!doc.IsObject() || !doc.HasMember("manifest") || !doc.HasMember("abi")) return std::nullopt;
    auto manifest = std::make_shared<const Manifest>(parse_manifest(write_json(doc["manifest"])));
    const auto abi = parse_abi_tag(std::string(JN_ABI_TAG_PREFIX) + doc["abi"].GetString() + "]");
    auto engine = doc.FindMember("engine");
    return PackageInfo{manifest->name, manifest->version, sha, library, abi.value_or(AbiVersion{}),
                       manifest,
                       engine != doc.MemberEnd() && engine->value.IsString() ? engine->value.GetString() : ""};
}

std::string file_stamp(const fs::path& file) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    const auto time = fs::last_write_time(file, ec).time_since_epoch().count();
    return std::to_string(size) + ":" + std::to_string(time);
}

}  // namespace

ConnectorRegistry::ConnectorRegistry(fs::path store_dir, CrashMarkers* markers)
    : store_dir_(std::move(store_dir)), markers_(markers) {
    fs::create_directories(store_dir_);
    fs::remove_all(store_dir_ / kStaging);  // leftovers of an install that was interrupted
    load_store();
}

void ConnectorRegistry::load_store() {
    for (const auto& dir : fs::directory_iterator(store_dir_)) {
        if (!dir.is_directory() || dir.path().filename() == kStaging) continue;
        for (const auto& file : fs::directory_iterator(dir.path())) {
            if (!is_package_file(file)) continue;
            const std::string name = file.path().filename().string();
            const std::string stem = name.substr(0, name.size() - package_suffix(file.path()).size());
            const size_t dash = stem.rfind('-');
            const std::string sha = dash == std::string::npos ? "" : stem.substr(dash + 1);
            try {
                if (auto info = read_manifest(file.path(), sha)) {
                    entries_.push_back({std::move(*info), {}});
                    continue;
                }
                if (is_definition(file.path())) throw Error(Errc::io, "its manifest sidecar is missing", name);
                refuse_quarantined(sha, name);
                const auto marker = mark_risky_call(markers_, sha, name, "loading it");
                auto v = ConnectorVersion::open(file.path(), sha);  // no sidecar: describe it
                write_manifest(file.path(), *v);
                entries_.push_back({info_of(*v), {}});
            } catch (const Error& e) {
                log_error("registry", "installed package no longer loads, skipped: " +
                                          std::string(e.what()));
            }
        }
    }
}

PackageInfo ConnectorRegistry::install(const fs::path& package) {
    std::lock_guard lock(mutex_);
    return install_locked(package);
}

PackageInfo ConnectorRegistry::install_locked(const fs::path& package) {
    std::error_code ec;
    if (!fs::is_regular_file(package, ec))
        throw Error(Errc::not_found, "no such package file; give the path to a connector .so",
                    package.string());

    // Stage first: the loader only ever sees our own durable copy.
    const fs::path staging_dir = store_dir_ / kStaging;
    const std::string suffix = package_suffix(package);
    const fs::path staged = staging_dir / ("incoming-" + std::to_string(::getpid()) + suffix);
    const std::string sha = copy_file_durably(package, staged);
    const fs::path by_hash = staging_dir / (sha + suffix);
    rename_durably(staged, by_hash);

    for (const auto& e : entries_) {
        if (e.info.sha256 == sha) {
            fs::remove(by_hash, ec);
            throw Error(Errc::already_exists, e.info.id() + " is already installed from the same file",
                        package.filename().string());
        }
    }

    std::shared_ptr<ConnectorVersion> version;
    try {
        version = open_locked(by_hash, sha, is_definition(package) ? engine_of_definition(by_hash) : "",
                              package.filename().string());
    } catch (const Error& e) {
        fs::remove(by_hash, ec);
        // Name the file the admin gave, not our staged copy.
        throw Error(e.code(), e.message(), package.filename().string(), e.plugin_status());
    }
    for (const auto& e : entries_) {
        if (e.info.name == version->name() && e.info.version == version->version()) {
            version.reset();  // unload before removing the file
            fs::remove(by_hash, ec);
            throw Error(Errc::already_exists,
                        e.info.id() + " is already installed from a different file; bump the "
                                      "version in the manifest to install a new build",
                        package.filename().string());
        }
    }
    const fs::path final_path =
        store_dir_ / version->name() / (version->version() + "-" + sha + suffix);
    write_manifest(final_path, *version);
    rename_durably(by_hash, final_path);
    PackageInfo info = info_of(*version);
    info.file = final_path;
    version.reset();  // validated; it loads again when something uses it
    entries_.push_back({info, {}});
    log_info("registry", "installed " + info.id() + " (sha256 " + sha.substr(0, 12) + ")");
    return info;
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
    std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
        if (is_definition(a) != is_definition(b)) return !is_definition(a);  // engines first
        return a < b;
    });

    std::lock_guard lock(mutex_);
    for (const auto& file : files) {
        const std::pair<std::string, std::string> seen{file.string(), file_stamp(file)};
        if (std::find(refused_.begin(), refused_.end(), seen) != refused_.end()) continue;
        try {
            const std::string sha = sha256_file(file);
            auto same = std::find_if(entries_.begin(), entries_.end(),
                                     [&](const Entry& e) { return e.info.sha256 == sha; });
            if (same != entries_.end()) {
                report.unchanged.push_back(same->info.id());
                continue;
            }
            refuse_quarantined(sha, file.filename().string());
            if (scan_check_) scan_check_(file, sha);
            report.installed.push_back(install_locked(file));
        } catch (const Error& e) {
            report.refused.push_back({file, e.message()});  // the caller logs it, once
            refused_.push_back(seen);
        }
    }
    return report;
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

ConnectorVersionPtr ConnectorRegistry::load_locked(Entry& e) {
    if (auto loaded = e.loaded.lock()) return loaded;
    ConnectorVersionPtr v = open_locked(e.info.file, e.info.sha256, e.info.engine, e.info.id());
    e.loaded = v;
    return v;
}

// A library opens itself; a definition opens through the newest installed version of
// its engine, which stays loaded while the definition's version is.
std::shared_ptr<ConnectorVersion> ConnectorRegistry::open_locked(const fs::path& file, const std::string& sha,
                                                                 const std::string& engine, const std::string& subject) {
    refuse_quarantined(sha, subject);
    if (engine.empty()) {
        // Marked before the library's constructors and describe() run, cleared when they return.
        const auto marker = mark_risky_call(markers_, sha, subject, "loading it");
        return ConnectorVersion::open(file, sha);
    }
    Entry* e = find_locked(engine, {});
    if (!e || !e->info.manifest->is_engine)
        throw Error(Errc::plugin_rejected,
                    "the engine '" + engine + "' that runs this definition is not installed; install "
                    "it first (the REST engine ships as rest.so in Junction's plugin folder)",
                    file.filename().string());
    const ConnectorVersionPtr runner = load_locked(*e);
    const auto marker = mark_risky_call(markers_, sha, subject, "loading it");
    return ConnectorVersion::open_definition(*runner, file, sha);
}

void ConnectorRegistry::refuse_quarantined(const std::string& sha, const std::string& subject) const {
    if (!markers_) return;
    const std::string why = markers_->quarantine_reason(sha);
    if (why.empty()) return;
    throw Error(Errc::plugin_rejected,
                "quarantined: " + why + "; it is not loaded again. Remove it, or install a fixed build "
                "(a different file); to try this one again, delete " + markers_->quarantine_file(sha).string(),
                subject);
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
        fs::remove(manifest_path(info.file), ec);
        log_info("registry", "uninstalled " + info.id());
    }
}

}  // namespace junction::core
