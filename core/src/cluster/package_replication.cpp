#include <junction/core/cluster/package_replication.hpp>

#include <junction/core/common/error.hpp>
#include <junction/core/common/ids.hpp>
#include <junction/core/common/log.hpp>
#include <junction/core/registry/package_file.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

namespace junction::core {

namespace {

constexpr std::uintmax_t kMaxPackageBytes = 256u << 20;

std::string read_package(const std::filesystem::path& file) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    if (ec || size > kMaxPackageBytes)
        throw Error(Errc::io, ec ? "cannot read the installed package: " + ec.message()
                                 : "the installed package is larger than 256 MiB; it is not shared",
                    file.string());
    std::ifstream in(file, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in && !in.eof()) throw Error(Errc::io, "cannot read the installed package", file.string());
    return bytes;
}

// The name the registry recognises the kind by: NAME-VERSION.so or NAME-VERSION.connector.json.
std::string file_name_of(const PackageInfo& p) {
    return p.name + "-" + p.version + (is_definition_package(p.file) ? ".connector.json" : ".so");
}

}  // namespace

void publish_package(Store& store, const PackageInfo& package, bool reinstate) {
    StoredPackage stored{package.sha256, package.name, package.version, file_name_of(package),
                         package.signed_by.signature, read_package(package.file), now_ms()};
    if (sha256_hex(stored.bytes) != package.sha256)
        throw Error(Errc::io, "the installed copy no longer matches its hash; it is not shared", package.id());
    if (store.put_package(stored, reinstate))
        log_info("cluster", "connector " + package.id() + " shared with the other hosts");
}

PackageSyncReport sync_packages(Store& store, ConnectorRegistry& registry, const StoredPackageCheck& check,
                                PackageSyncMemory* memory) {
    PackageSyncReport report;
    PackageSyncMemory once;  // a single sync remembers nothing
    PackageSyncMemory& seen = memory ? *memory : once;
    // `lasting`: this host refuses it whatever the moment (its policy, the bytes, another
    // build here), so a repeated sync does not try (and log) it again; a failure of the
    // moment (the database, the disk) is tried again at the next sync.
    const auto refuse = [&](const StoredPackage& p, const std::string& why, bool lasting) {
        const std::string id = p.name + "@" + p.version;
        if (!lasting && seen.failed.count(p.sha256)) return;  // said once
        log_warn("cluster", "connector " + id + " from the store " + (lasting ? "refused: " : "not installed yet: ") + why);
        report.refused.push_back({id, why});
        (lasting ? seen.refused : seen.failed).insert(p.sha256);
    };
    std::set<std::string> here;
    for (const auto& p : registry.list()) here.insert(p.sha256);
    const std::set<std::string> withdrawn = store.withdrawn_packages();
    std::map<std::string, std::string> stored;  // name@version -> sha256
    auto packages = store.list_packages();
    // Libraries first: a definition needs its engine installed.
    std::stable_partition(packages.begin(), packages.end(),
                          [](const StoredPackage& p) { return !is_definition_package(p.file_name); });
    for (const auto& p : packages) {
        const std::string id = p.name + "@" + p.version;
        stored.emplace(id, p.sha256);
        if (here.count(p.sha256) || seen.refused.count(p.sha256)) continue;
        if (auto local = registry.package(p.name, p.version)) {  // the same version, another build
            refuse(p, "this host has another build of it installed (sha256 " + local->sha256.substr(0, 12) +
                           "..., the store's is " + p.sha256.substr(0, 12) + "...); uninstall one of them", true);
            continue;
        }
        try {
            const auto bytes = store.package_bytes(p.sha256);
            if (!bytes) continue;  // removed meanwhile
            const std::optional<std::string> signature =
                p.signature.empty() ? std::nullopt : std::optional<std::string>(p.signature);
            const auto checked = check(signature);
            PackageInfo info = registry.install_bytes(*bytes, p.file_name, [&](const std::string& file, const std::string& sha) {
                if (sha != p.sha256)  // before anything loads
                    throw Error(Errc::plugin_rejected, "the stored bytes do not hash to the stored sha256", id);
                return checked(file, sha);
            });
            log_info("cluster", "connector " + info.id() + " installed from the store");
            report.installed.push_back(std::move(info));
        } catch (const Error& e) {
            refuse(p, e.what(), e.code() == Errc::plugin_rejected);
        } catch (const std::exception& e) {
            refuse(p, e.what(), false);
        }
    }
    for (const auto& p : registry.list()) {
        if (stored.count(p.id())) continue;  // shared already (another build: refused above)
        if (withdrawn.count(p.id())) {
            if (!seen.not_shared.insert(p.id()).second) continue;
            log_warn("cluster", "connector " + p.id() + " was uninstalled through another host; it is not shared "
                                "again (uninstall it here too, or install it again through the API to share it)");
            continue;
        }
        try {
            publish_package(store, p, false);
            ++report.published;
        } catch (const std::exception& e) {
            log_warn("cluster", "connector " + p.id() + " could not be shared: " + e.what());
        }
    }
    return report;
}

}  // namespace junction::core
