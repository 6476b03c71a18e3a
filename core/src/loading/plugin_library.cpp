#include <junction/core/loading/plugin_library.hpp>

#include <junction/core/common/error.hpp>
#include <junction/core/common/status.hpp>
#include <junction/core/loading/elf_symbols.hpp>

#include <cstring>

namespace junction::core {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void reject(const fs::path& file, const std::string& why) {
    throw Error(Errc::plugin_rejected, why, file.filename().string());
}

std::string host_abi_text() {
    return std::to_string(JN_ABI_VERSION_MAJOR) + "." + std::to_string(JN_ABI_VERSION_MINOR);
}

// Everything that can be checked without running the library's code.
AbiVersion check_file(const fs::path& file) {
    const ElfExports exports = read_elf_exports(file);
    if (!exports.find(JN_ENTRY_SYMBOL))
        reject(file, "the library does not export jn_plugin_negotiate, so it is not a Junction "
                     "connector; build it with the Junction SDK (JUNCTION_CONNECTOR macro)");
    for (const auto& s : exports.symbols) {
        if (s.is_gnu_unique)
            reject(file, "the library exports the GNU-unique symbol '" + s.name +
                             "', which would keep it loaded forever; build it with "
                             "junction_add_connector (it passes -fno-gnu-unique and a version "
                             "script)");
    }
    const auto tag = read_elf_data_symbol(file, JN_TAG_SYMBOL);
    if (!tag)
        reject(file, "the library does not export the ABI tag jn_abi_tag; build it with the "
                     "Junction SDK");
    const auto abi = parse_abi_tag(std::string_view(tag->c_str()));
    if (!abi) reject(file, "the ABI tag jn_abi_tag is malformed: expected JN_ABI=[major.minor]");
    if (abi->major != JN_ABI_VERSION_MAJOR)
        reject(file, "the library was built for plugin ABI " + std::to_string(abi->major) + "." +
                         std::to_string(abi->minor) + " but this host speaks ABI " +
                         host_abi_text() + "; rebuild it with a matching Junction SDK");
    return *abi;
}

}  // namespace

std::optional<AbiVersion> parse_abi_tag(std::string_view tag) {
    constexpr std::string_view prefix = JN_ABI_TAG_PREFIX;
    if (!tag.starts_with(prefix) || !tag.ends_with("]")) return std::nullopt;
    tag.remove_prefix(prefix.size());
    tag.remove_suffix(1);
    const size_t dot = tag.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == tag.size()) return std::nullopt;
    AbiVersion v;
    auto parse = [](std::string_view digits, uint32_t& out) {
        if (digits.size() > 6) return false;
        out = 0;
        for (char c : digits) {
            if (c < '0' || c > '9') return false;
            out = out * 10 + static_cast<uint32_t>(c - '0');
        }
        return true;
    };
    if (!parse(tag.substr(0, dot), v.major) || !parse(tag.substr(dot + 1), v.minor))
        return std::nullopt;
    return v;
}

std::shared_ptr<PluginLibrary> PluginLibrary::load(const fs::path& file, const jn_host_api* host) {
    check_file(file);

    std::shared_ptr<PluginLibrary> lib(new PluginLibrary());
    lib->file_ = file;
    boost::dll::fs::error_code ec;
    lib->library_.load(file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local,
                       ec);
    if (ec)
        reject(file, "the dynamic loader refused the library (" + ec.message() +
                         "); check that every library it needs is installed and that it was "
                         "linked with -z defs");

    auto& negotiate = lib->library_.get<jn_status(const jn_negotiate_request*,
                                                  jn_negotiate_response*)>(JN_ENTRY_SYMBOL);
    jn_negotiate_request request{};
    request.struct_size = sizeof request;
    request.host_abi_major = JN_ABI_VERSION_MAJOR;
    request.host_abi_minor = JN_ABI_VERSION_MINOR;
    request.host = host;
    jn_negotiate_response response{};
    response.struct_size = sizeof response;

    const jn_status s = negotiate(&request, &response);
    if (s != JN_OK)
        reject(file, "the plugin declined negotiation with status " + status_name(s) +
                         " (host ABI " + host_abi_text() + "); rebuild it with a matching SDK");
    if (response.struct_size < offsetof(jn_negotiate_response, connector) + sizeof(void*))
        reject(file, "the negotiation response is too small (struct_size " +
                         std::to_string(response.struct_size) + ")");
    if (response.plugin_abi_major != JN_ABI_VERSION_MAJOR)
        reject(file, "the plugin negotiated ABI " + std::to_string(response.plugin_abi_major) +
                         "." + std::to_string(response.plugin_abi_minor) +
                         " but this host speaks ABI " + host_abi_text() +
                         "; rebuild it with a matching Junction SDK");
    const jn_connector_api* api = response.connector;
    if (!api) reject(file, "the plugin returned no connector table");
    if (api->struct_size < JN_CONNECTOR_API_V1_0_SIZE)
        reject(file, "the connector table is smaller (" + std::to_string(api->struct_size) +
                         " bytes) than ABI 1.0 requires (" +
                         std::to_string(JN_CONNECTOR_API_V1_0_SIZE) +
                         " bytes); the plugin was built against a broken header");
    std::memcpy(&lib->connector_, api, std::min<size_t>(api->struct_size, sizeof lib->connector_));
    const jn_connector_api& c = lib->connector_;
    if (!c.describe || !c.instance_create || !c.instance_destroy || !c.test_connection ||
        !c.invoke)  // the 1.0 functions; later ones may be NULL
        reject(file, "the connector table has a missing (NULL) function; ABI 1.0 requires all "
                     "of describe, instance_create, instance_destroy, test_connection, invoke");
    lib->abi_ = {response.plugin_abi_major, response.plugin_abi_minor};
    return lib;
}

}  // namespace junction::core
