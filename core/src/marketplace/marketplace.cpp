#include <junction/core/marketplace/marketplace.hpp>

#include <junction/core/common/error.hpp>
#include <junction/core/net/http_client.hpp>
#include <junction/core/common/json_schema.hpp>
#include <junction/core/common/log.hpp>
#include <junction/core/registry/package_file.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>

namespace junction::core {

namespace fs = std::filesystem;

namespace {

std::string str(const rapidjson::Value& v, const char* key) {
    auto it = v.FindMember(key);
    return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

std::string read_all(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(Errc::not_found, "cannot read " + file.string());
    return std::string(std::istreambuf_iterator<char>(in), {});
}

bool is_url(std::string_view s) { return s.starts_with("http://") || s.starts_with("https://"); }

bool contains_ci(std::string_view hay, std::string_view needle) {
    return std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
           }) != hay.end();
}

}  // namespace

std::vector<CataloguePackage> parse_catalogue(std::string_view json) {
    rapidjson::Document doc;
    try {
        doc = parse_json_text(json, "the marketplace index");
    } catch (const Error& e) {
        throw Error(Errc::invalid_argument, e.message());
    }
    if (!doc.IsObject() || !doc.HasMember("packages") || !doc["packages"].IsArray())
        throw Error(Errc::invalid_argument, "the marketplace index has no 'packages' array");
    std::vector<CataloguePackage> out;
    for (const auto& p : doc["packages"].GetArray()) {
        CataloguePackage pkg{str(p, "name"), str(p, "display_name"), str(p, "description"), {}};
        if (pkg.name.empty() || !p.HasMember("versions") || !p["versions"].IsArray())
            throw Error(Errc::invalid_argument, "a marketplace package lacks 'name' or 'versions'");
        for (const auto& v : p["versions"].GetArray())
            pkg.versions.push_back({str(v, "version"), str(v, "file"), str(v, "sha256"), str(v, "signature"),
                                    str(v, "min_abi"), str(v, "release_notes")});
        std::sort(pkg.versions.begin(), pkg.versions.end(),
                  [](const auto& a, const auto& b) { return compare_versions(a.version, b.version) < 0; });
        out.push_back(std::move(pkg));
    }
    return out;
}

bool abi_compatible(std::string_view min_abi) {
    const auto v = parse_abi_tag(std::string(JN_ABI_TAG_PREFIX) + std::string(min_abi.empty() ? "1.0" : min_abi) + "]");
    return v && v->major == JN_ABI_VERSION_MAJOR && v->minor <= JN_ABI_VERSION_MINOR;
}

Marketplace::Marketplace(std::string source, fs::path trusted_key_file,
                         ConnectorRegistry& registry, ConnectorUpdates& updates, HttpOptions http)
    : source_(std::move(source)),
      trusted_key_file_(std::move(trusted_key_file)),
      registry_(registry),
      updates_(updates),
      http_(std::move(http)) {}

TrustedKeys Marketplace::trusted_keys() const {
    TrustedKeys keys = TrustedKeys::read(trusted_key_file_, trusted_keys_folder_);
    if (keys.empty())
        throw Error(Errc::invalid_argument,
                    "no trusted marketplace key is configured; set marketplace-key to the "
                    "publisher's Ed25519 public key (PEM), or put it in the trusted-keys folder");
    return keys;
}

std::string Marketplace::fetch(const std::string& relative) {
    if (!configured())
        throw Error(Errc::invalid_argument, "no marketplace is configured; set marketplace to a "
                                            "catalogue directory or URL");
    if (relative.find("..") != std::string::npos || relative.starts_with("/"))
        throw Error(Errc::plugin_rejected, "the catalogue names a file outside itself: " + relative);
    if (!is_url(source_)) return read_all(fs::path(source_) / relative);

    std::string base = source_;
    while (!base.empty() && base.back() == '/') base.pop_back();
    const std::string url = base + "/" + relative;
    HttpClient http(http_);
    HttpClient::Result received;
    std::string error;
    if (!http.send("GET", url, {}, {}, received, error))
        throw Error(Errc::io, "cannot fetch " + url + ": " + error);
    if (received.status != 200)
        throw Error(Errc::io, "fetching " + url + " answered HTTP " + std::to_string(received.status));
    return std::move(received.body);
}

std::vector<CataloguePackage> Marketplace::list(std::string_view search) {
    auto all = parse_catalogue(fetch("index.json"));
    if (search.empty()) return all;
    std::erase_if(all, [&](const CataloguePackage& p) {
        return !contains_ci(p.name, search) && !contains_ci(p.display_name, search) &&
               !contains_ci(p.description, search);
    });
    return all;
}

CataloguePackage Marketplace::show(std::string_view name) {
    for (auto& p : list())
        if (p.name == name) return p;
    throw Error(Errc::not_found, "the marketplace has no connector '" + std::string(name) + "'");
}

PackageInfo Marketplace::install(std::string_view name, std::string_view version, const std::string& actor) {
    const CataloguePackage pkg = show(name);
    const CatalogueVersion* chosen = nullptr;
    for (const auto& v : pkg.versions) {
        if (!version.empty() ? v.version == version : abi_compatible(v.min_abi)) chosen = &v;
    }
    if (!chosen)
        throw Error(Errc::not_found, "the marketplace has no " +
                                         (version.empty() ? "compatible version" : "version " + std::string(version)) +
                                         " of " + std::string(name));
    if (!abi_compatible(chosen->min_abi))
        throw Error(Errc::plugin_rejected, pkg.name + " " + chosen->version + " needs plugin ABI " +
                                               chosen->min_abi + "; this host speaks " +
                                               std::to_string(JN_ABI_VERSION_MAJOR) + "." +
                                               std::to_string(JN_ABI_VERSION_MINOR));
    const TrustedKeys keys = trusted_keys();
    const std::string bytes = fetch(chosen->file);
    // Named as the registry recognises it: a library, or a definition an engine runs. The
    // bytes are checked as the registry stages them, so what is checked is what installs.
    const std::string file_name =
        pkg.name + "-" + chosen->version + (is_definition_package(chosen->file) ? ".connector.json" : ".so");
    const std::string subject = pkg.name + "@" + chosen->version;
    PackageInfo info = registry_.install_bytes(bytes, file_name, [&](const std::string&, const std::string& sha) {
        if (sha != chosen->sha256)
            throw Error(Errc::plugin_rejected,
                        "the downloaded package's sha256 (" + sha.substr(0, 12) +
                            "...) does not match the catalogue's (" + chosen->sha256.substr(0, 12) +
                            "...); refusing it",
                        subject);
        auto signer = keys.signer_of(sha, chosen->signature);
        if (!signer)
            throw Error(Errc::plugin_rejected, "the package's signature was not made by a trusted key; refusing it",
                        subject);
        return *signer;
    });
    updates_.on_installed(info, actor);
    log_info("marketplace", "installed " + info.id() + " (hash and signature verified)");
    return info;
}

std::vector<UpdateOffer> Marketplace::updates() {
    std::vector<UpdateOffer> out;
    for (const auto& pkg : list()) {
        ConnectorStatus status;
        try {
            status = updates_.status(pkg.name);
        } catch (const Error&) {
            continue;  // not installed here
        }
        const CatalogueVersion* newest = nullptr;
        for (const auto& v : pkg.versions)
            if (abi_compatible(v.min_abi)) newest = &v;
        if (newest && compare_versions(newest->version, status.state.active_version) > 0)
            out.push_back({pkg.name, status.state.active_version, newest->version, newest->release_notes});
    }
    return out;
}

}  // namespace junction::core
