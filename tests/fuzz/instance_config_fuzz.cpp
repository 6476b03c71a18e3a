// Fuzzes an instance config document against a real connector's config schema (Shopify's
// REST manifest, as the engine turns it into a connector manifest): the checks creating an
// instance makes (instance_service.cpp validate_config), then which fields are secrets.
#include "definition.hpp"

#include <junction/core/common/error.hpp>
#include <junction/core/instances/instance_service.hpp>
#include <junction/core/common/json_schema.hpp>
#include <junction/core/bridge/manifest.hpp>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

namespace {

namespace core = junction::core;

const core::Manifest& shopify() {
    static const core::Manifest manifest = [] {
        std::ifstream in(JUNCTION_SHOPIFY_MANIFEST);
        const std::string text((std::istreambuf_iterator<char>(in)), {});
        return core::parse_manifest(junction::rest::parse_definition(text)->manifest());
    }();
    return manifest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const core::Manifest& m = shopify();
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    rapidjson::Document config;
    try {
        config = core::parse_json_text(text, "the config");
    } catch (const core::Error&) {
        return 0;  // not JSON: refused with a message
    }
    if (!config.IsObject()) return 0;
    std::vector<std::string> problems = m.config_schema.validate_fields(config);
    for (const auto& auth : m.auth_methods)
        for (const auto& field : auth.fields) (void)config.HasMember(field.c_str());
    for (const auto& member : config.GetObject())
        (void)core::is_secret_field(m, std::string_view(member.name.GetString(), member.name.GetStringLength()));
    return 0;
}
