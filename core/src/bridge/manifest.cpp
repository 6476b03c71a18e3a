#include <junction/core/bridge/manifest.hpp>

#include <junction/core/common/error.hpp>

#include <junction/json/utf8_writer.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <set>

namespace junction::core {

namespace {

// Who a manifest says it is: the same rules for connectors and engines.
constexpr std::string_view kIdentityProperties = R"(
    "name": {"type": "string", "pattern": "^[a-z][a-z0-9_-]{0,63}$"},
    "version": {"type": "string",
                "pattern": "^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$"},
    "display_name": {"type": "string", "minLength": 1, "maxLength": 128},
    "description": {"type": "string", "maxLength": 4096},)";

const std::string kManifestSchema = std::string(R"({
  "type": "object",
  "required": ["name", "version", "display_name", "description", "auth_methods",
               "config_schema", "operations"],
  "properties": {)") + std::string(kIdentityProperties) + R"(
    "auth_methods": {
      "type": "array", "minItems": 1,
      "items": {
        "type": "object", "required": ["name", "fields"],
        "properties": {
          "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"},
          "display_name": {"type": "string"},
          "fields": {"type": "array", "items": {"type": "string"}}
        }
      }
    },
    "kind": {"enum": ["connector"]},
    "config_schema": {"type": "object"},
    "operations": {
      "type": "array", "minItems": 1,
      "items": {
        "type": "object", "required": ["name", "direction"],
        "properties": {
          "name": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_.-]{0,127}$"},
          "direction": {"enum": ["receive", "send"]},
          "entity": {"type": "string"},
          "description": {"type": "string"},
          "primary_key": {"type": "string"},
          "cursor_field": {"type": "string"},
          "filters": {"type": "array", "items": {"type": "string"}}
        }
      }
    }
  }
})";

// An engine runs connectors defined by data; it has no instances of its own.
const std::string kEngineManifestSchema = std::string(R"({
  "type": "object",
  "required": ["name", "version", "display_name", "description", "kind"],
  "properties": {)") + std::string(kIdentityProperties) + R"(
    "kind": {"enum": ["engine"]}
  }
})";

[[noreturn]] void reject(const std::string& why) {
    throw Error(Errc::plugin_rejected, "invalid manifest: " + why);
}

std::string str(const rapidjson::Value& obj, const char* key) {
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd() || !it->value.IsString()) return {};
    return std::string(it->value.GetString(), it->value.GetStringLength());
}

// Who the manifest says it is; the rest is filled by the caller.
Manifest identity(const rapidjson::Value& doc, std::string_view json, bool engine, JsonSchema config_schema) {
    return Manifest{.name = str(doc, "name"),
                    .version = str(doc, "version"),
                    .display_name = str(doc, "display_name"),
                    .description = str(doc, "description"),
                    .is_engine = engine,
                    .auth_methods = {},
                    .operations = {},
                    .secret_fields = {},
                    .config_schema = std::move(config_schema),
                    .config_schema_json = {},
                    .json = std::string(json)};
}

}  // namespace

const char* direction_name(Direction d) { return d == Direction::receive ? "receive" : "send"; }

std::string_view manifest_schema() { return kManifestSchema; }

const Operation* Manifest::find_operation(std::string_view operation) const {
    for (const auto& op : operations)
        if (op.name == operation) return &op;
    return nullptr;
}

Manifest parse_manifest(std::string_view json) {
    static const JsonSchema schema = [] {
        rapidjson::Document d = parse_json_text(kManifestSchema, "manifest schema");
        return JsonSchema::compile(d, "manifest schema");
    }();

    static const JsonSchema engine_schema = [] {
        rapidjson::Document d = parse_json_text(kEngineManifestSchema, "engine manifest schema");
        return JsonSchema::compile(d, "engine manifest schema");
    }();

    rapidjson::Document doc;
    try {
        doc = parse_json_text(json, "the manifest", JsonSize::manifest);
    } catch (const Error& e) {
        reject(e.message());
    }
    if (doc.IsObject() && str(doc, "kind") == "engine") {
        if (auto problem = engine_schema.validate(doc)) reject(*problem);
        rapidjson::Document any = parse_json_text(R"({"type":"object"})", "engine config schema");
        return identity(doc, json, true, JsonSchema::compile(any, "config_schema"));
    }
    if (auto problem = schema.validate(doc)) reject(*problem);

    const rapidjson::Value& config_schema = doc["config_schema"];
    JsonSchema compiled = [&] {
        try {
            return JsonSchema::compile(config_schema, "config_schema");
        } catch (const Error& e) {
            reject(e.message());
        }
    }();
    if (str(config_schema, "type") != "object")
        reject("at /config_schema/type: an instance config schema must have \"type\": \"object\"");

    Manifest m = identity(doc, json, false, std::move(compiled));
    {
        rapidjson::StringBuffer b;
        json::Utf8Writer w(b);
        config_schema.Accept(w);
        m.config_schema_json = b.GetString();
    }

    std::set<std::string> properties;
    if (config_schema.HasMember("properties") && config_schema["properties"].IsObject()) {
        for (const auto& p : config_schema["properties"].GetObject()) {
            properties.emplace(p.name.GetString(), p.name.GetStringLength());
            auto w = p.value.IsObject() ? p.value.FindMember("writeOnly") : p.value.MemberEnd();
            if (p.value.IsObject() && w != p.value.MemberEnd() && w->value.IsTrue())
                m.secret_fields.emplace_back(p.name.GetString(), p.name.GetStringLength());
        }
    }

    std::set<std::string> seen;
    const auto& auths = doc["auth_methods"].GetArray();
    for (rapidjson::SizeType i = 0; i < auths.Size(); ++i) {
        AuthMethod a{str(auths[i], "name"), str(auths[i], "display_name"), {}};
        const std::string at = "at /auth_methods/" + std::to_string(i);
        if (!seen.insert(a.name).second) reject(at + ": auth method '" + a.name + "' is listed twice");
        for (const auto& f : auths[i]["fields"].GetArray()) {
            std::string field(f.GetString(), f.GetStringLength());
            if (!properties.count(field))
                reject(at + "/fields: '" + field + "' is not a property of config_schema");
            a.fields.push_back(std::move(field));
        }
        if (a.display_name.empty()) a.display_name = a.name;
        m.auth_methods.push_back(std::move(a));
    }

    seen.clear();
    const auto& ops = doc["operations"].GetArray();
    for (rapidjson::SizeType i = 0; i < ops.Size(); ++i) {
        Operation op;
        op.name = str(ops[i], "name");
        op.direction = str(ops[i], "direction") == "send" ? Direction::send : Direction::receive;
        op.entity = str(ops[i], "entity");
        op.description = str(ops[i], "description");
        op.primary_key = str(ops[i], "primary_key");
        op.cursor_field = str(ops[i], "cursor_field");
        if (auto f = ops[i].FindMember("filters"); f != ops[i].MemberEnd())
            for (const auto& name : f->value.GetArray()) op.filters.emplace_back(name.GetString());
        if (!seen.insert(op.name).second)
            reject("at /operations/" + std::to_string(i) + ": operation '" + op.name +
                   "' is listed twice");
        m.operations.push_back(std::move(op));
    }
    return m;
}

}  // namespace junction::core
