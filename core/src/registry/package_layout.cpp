#include <junction/core/registry/package_layout.hpp>

#include <junction/core/common/error.hpp>
#include <junction/core/common/json.hpp>
#include <junction/core/registry/package_file.hpp>

#include <rapidjson/document.h>

#include <fstream>
#include <iterator>
#include <system_error>

namespace junction::core {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kDefinitionSuffix = ".connector.json";

std::string read_all(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

fs::path sidecar_path(const fs::path& package) {
    const std::string name = package.string();
    const std::string suffix = package_suffix(package);
    return name.substr(0, name.size() - suffix.size()) + ".manifest.json";
}

std::string signer_json(const PackageSigner& s) {
    if (!s.is_signed()) return "null";
    return R"({"key_id":)" + json_quote(s.key_id) + R"(,"key_file":)" + json_quote(s.key_file) +
           R"(,"signature":)" + json_quote(s.signature) + "}";
}

PackageSigner signer_of(const rapidjson::Value& doc) {
    auto it = doc.FindMember("signed_by");
    if (it == doc.MemberEnd() || !it->value.IsObject()) return {};
    const auto text = [&](const char* key) {
        auto m = it->value.FindMember(key);
        return m != it->value.MemberEnd() && m->value.IsString() ? std::string(m->value.GetString()) : "";
    };
    return {text("key_id"), text("key_file"), text("signature")};
}

}  // namespace

bool is_package_file(const fs::directory_entry& e) {
    return e.is_regular_file() && (e.path().extension() == ".so" || is_definition_package(e.path())) &&
           !e.path().filename().string().starts_with(".");
}

std::string package_suffix(const fs::path& file) {
    return is_definition_package(file) ? std::string(kDefinitionSuffix) : ".so";
}

std::string sha256_in_name(const fs::path& installed) {
    const std::string name = installed.filename().string();
    const std::string stem = name.substr(0, name.size() - package_suffix(installed).size());
    const size_t dash = stem.rfind('-');
    return dash == std::string::npos ? "" : stem.substr(dash + 1);
}

std::string engine_of_definition(const fs::path& file) {
    rapidjson::Document doc;
    try {
        doc = parse_json_text(read_all(file), "the connector definition", JsonSize::manifest);
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

void write_sidecar(const fs::path& package, const PackageInfo& info) {
    const fs::path file = sidecar_path(package);
    const fs::path tmp = file.string() + ".tmp";
    fs::create_directories(file.parent_path());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << R"({"abi":")" << info.abi.major << "." << info.abi.minor << R"(","engine":")" << info.engine
            << R"(","signed_by":)" << signer_json(info.signed_by) << R"(,"manifest":)" << info.manifest->json << "}";
        out.flush();
        if (!out) throw Error(Errc::io, "cannot write the manifest beside the package", tmp.string());
    }
    rename_durably(tmp, file);
}

std::optional<PackageInfo> read_sidecar(const fs::path& package, const std::string& sha) {
    std::ifstream probe(sidecar_path(package), std::ios::binary);
    if (!probe) return std::nullopt;
    rapidjson::Document doc;
    try {
        doc = parse_json_text(read_all(sidecar_path(package)), "the manifest sidecar", JsonSize::manifest);
    } catch (const Error&) {
        return std::nullopt;  // as if absent: the library is described again
    }
    if (!doc.IsObject() || !doc.HasMember("manifest") || !doc.HasMember("abi") || !doc["abi"].IsString())
        return std::nullopt;
    auto manifest = std::make_shared<const Manifest>(parse_manifest(write_json(doc["manifest"])));
    const auto abi = parse_abi_tag(std::string(JN_ABI_TAG_PREFIX) + doc["abi"].GetString() + "]");
    auto engine = doc.FindMember("engine");
    return PackageInfo{manifest->name, manifest->version, sha, package, abi.value_or(AbiVersion{}), manifest,
                       engine != doc.MemberEnd() && engine->value.IsString() ? engine->value.GetString() : "",
                       signer_of(doc)};
}

void remove_sidecar(const fs::path& package) {
    std::error_code ec;
    fs::remove(sidecar_path(package), ec);
}

std::string file_stamp(const fs::path& file) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    const auto time = fs::last_write_time(file, ec).time_since_epoch().count();
    return std::to_string(size) + ":" + std::to_string(time);
}

fs::path signature_path(const fs::path& package) { return package.string() + ".sig"; }

std::string drop_stamp(const fs::path& file) { return file_stamp(file) + "|" + file_stamp(signature_path(file)); }

}  // namespace junction::core
