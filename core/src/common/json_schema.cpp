#include <junction/core/common/json_schema.hpp>

#include <mutex>

#include <junction/core/common/error.hpp>

#include <rapidjson/error/en.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace junction::core {

namespace {

// A draft-07 subset: enough to catch a config schema that is not a schema at all.
constexpr std::string_view kMetaSchema = R"({
  "definitions": {
    "schemaArray": {"type": "array", "minItems": 1, "items": {"$ref": "#"}},
    "typeName": {"enum": ["array", "boolean", "integer", "null", "number", "object", "string"]},
    "stringArray": {"type": "array", "items": {"type": "string"}},
    "count": {"type": "integer", "minimum": 0}
  },
  "type": ["object", "boolean"],
  "properties": {
    "$schema": {"type": "string"}, "$id": {"type": "string"}, "$ref": {"type": "string"},
    "title": {"type": "string"}, "description": {"type": "string"},
    "type": {"anyOf": [{"$ref": "#/definitions/typeName"},
                       {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/typeName"}}]},
    "properties": {"type": "object", "additionalProperties": {"$ref": "#"}},
    "patternProperties": {"type": "object", "additionalProperties": {"$ref": "#"}},
    "additionalProperties": {"$ref": "#"},
    "items": {"anyOf": [{"$ref": "#"}, {"$ref": "#/definitions/schemaArray"}]},
    "required": {"$ref": "#/definitions/stringArray"},
    "enum": {"type": "array"},
    "const": {},
    "default": {},
    "examples": {"type": "array"},
    "multipleOf": {"type": "number", "exclusiveMinimum": 0},
    "minimum": {"type": "number"}, "maximum": {"type": "number"},
    "exclusiveMinimum": {"type": "number"}, "exclusiveMaximum": {"type": "number"},
    "minLength": {"$ref": "#/definitions/count"}, "maxLength": {"$ref": "#/definitions/count"},
    "minItems": {"$ref": "#/definitions/count"}, "maxItems": {"$ref": "#/definitions/count"},
    "minProperties": {"$ref": "#/definitions/count"}, "maxProperties": {"$ref": "#/definitions/count"},
    "uniqueItems": {"type": "boolean"},
    "pattern": {"type": "string"}, "format": {"type": "string"},
    "allOf": {"$ref": "#/definitions/schemaArray"},
    "anyOf": {"$ref": "#/definitions/schemaArray"},
    "oneOf": {"$ref": "#/definitions/schemaArray"},
    "not": {"$ref": "#"},
    "dependencies": {"type": "object"},
    "readOnly": {"type": "boolean"}, "writeOnly": {"type": "boolean"}
  }
})";

std::string pointer_text(const rapidjson::Pointer& p) {
    rapidjson::StringBuffer sb;
    p.Stringify(sb);
    std::string s(sb.GetString(), sb.GetSize());
    return s.empty() ? "/" : s;
}

// RapidJSON names the failing keyword; say it in words, and for `required` name the
// missing fields (RapidJSON 1.1 does not).
std::string describe_failure(const rapidjson::SchemaValidator& v,
                             const rapidjson::Document& schema,
                             const rapidjson::Value& document) {
    const std::string keyword = v.GetInvalidSchemaKeyword();
    const rapidjson::Pointer doc_ptr = v.GetInvalidDocumentPointer();
    const std::string where = pointer_text(doc_ptr);
    const rapidjson::Value* schema_node = v.GetInvalidSchemaPointer().Get(schema);

    if (keyword == "required" && schema_node && schema_node->HasMember("required")) {
        const rapidjson::Value* obj = doc_ptr.Get(document);
        std::string missing;
        for (const auto& r : (*schema_node)["required"].GetArray()) {
            if (!r.IsString()) continue;
            if (obj && obj->IsObject() && obj->HasMember(r)) continue;
            missing += (missing.empty() ? "'" : ", '") + std::string(r.GetString()) + "'";
        }
        std::string base = where == "/" ? "" : where;
        return "at " + where + ": missing required field " + missing +
               (base.empty() ? "" : " (in " + base + ")");
    }
    std::string why;
    if (keyword == "type") why = "has the wrong type";
    else if (keyword == "enum") why = "is not one of the allowed values";
    else if (keyword == "pattern") why = "does not match the required pattern";
    else if (keyword == "additionalProperties") why = "has a field that is not allowed";
    else if (keyword == "minimum" || keyword == "exclusiveMinimum") why = "is too small";
    else if (keyword == "maximum" || keyword == "exclusiveMaximum") why = "is too large";
    else if (keyword == "minLength") why = "is too short";
    else if (keyword == "maxLength") why = "is too long";
    else if (keyword == "minItems") why = "has too few items";
    else if (keyword == "maxItems") why = "has too many items";
    else why = "fails the schema's '" + keyword + "' rule";
    if (schema_node && schema_node->IsObject() && schema_node->HasMember(keyword.c_str())) {
        rapidjson::StringBuffer sb;
        rapidjson::Writer<rapidjson::StringBuffer> w(sb);
        (*schema_node)[keyword.c_str()].Accept(w);
        if (sb.GetSize() <= 200) why += " (" + keyword + ": " + sb.GetString() + ")";
    }
    return "at " + where + ": " + why;
}

std::optional<std::string> validate_with(const rapidjson::SchemaDocument& compiled,
                                         const rapidjson::Document& schema_json,
                                         const rapidjson::Value& document) {
    rapidjson::SchemaValidator validator(compiled);
    if (document.Accept(validator)) return std::nullopt;
    return describe_failure(validator, schema_json, document);
}

struct MetaSchema {
    rapidjson::Document json;
    std::unique_ptr<rapidjson::SchemaDocument> compiled;
    MetaSchema() {
        json = parse_json_text(kMetaSchema, "the JSON Schema meta-schema");
        compiled = std::make_unique<rapidjson::SchemaDocument>(json);
    }
};

}  // namespace

std::string_view json_meta_schema() { return kMetaSchema; }

JsonSchema JsonSchema::compile(const rapidjson::Value& schema, std::string_view what) {
    static const MetaSchema meta;
    static std::mutex meta_validating;  // the same RapidJSON regex state as in validate()
    std::unique_lock lock(meta_validating);
    auto problem = validate_with(*meta.compiled, meta.json, schema);
    lock.unlock();
    if (problem) {
        throw Error(Errc::invalid_argument,
                    std::string(what) + " is not a valid JSON Schema: " + *problem);
    }
    JsonSchema out;
    out.source_ = std::make_shared<rapidjson::Document>();
    out.source_->CopyFrom(schema, out.source_->GetAllocator());
    out.compiled_ = std::make_shared<rapidjson::SchemaDocument>(*out.source_);
    out.validating_ = std::make_shared<std::mutex>();
    out.properties_ = std::make_shared<std::map<std::string, JsonSchema>>();
    if (schema.IsObject() && schema.HasMember("properties") && schema["properties"].IsObject()) {
        for (const auto& p : schema["properties"].GetObject()) {
            const std::string name(p.name.GetString(), p.name.GetStringLength());
            out.properties_->emplace(name, compile(p.value, std::string(what) + " property " + name));
        }
    }
    return out;
}

std::vector<std::string> JsonSchema::validate_fields(const rapidjson::Value& document) const {
    auto whole = validate(document);
    if (!whole) return {};
    if (!document.IsObject() || !source_->IsObject()) return {*whole};

    std::vector<std::string> problems;
    const auto& schema = *source_;
    if (schema.HasMember("required") && schema["required"].IsArray()) {
        for (const auto& r : schema["required"].GetArray())
            if (r.IsString() && !document.HasMember(r))
                problems.push_back("field '" + std::string(r.GetString()) + "' is required");
    }
    const bool closed = schema.HasMember("additionalProperties") &&
                        schema["additionalProperties"].IsFalse();
    for (const auto& m : document.GetObject()) {
        const std::string name(m.name.GetString(), m.name.GetStringLength());
        auto it = properties_->find(name);
        if (it == properties_->end()) {
            if (closed) problems.push_back("field '" + name + "' is not a known setting");
            continue;
        }
        if (auto p = it->second.validate(m.value)) {
            // "at /: is too large" -> "field 'limit' is too large"
            const size_t colon = p->find(": ");
            problems.push_back("field '" + name + "' " +
                               (colon == std::string::npos ? *p : p->substr(colon + 2)));
        }
    }
    if (problems.empty()) problems.push_back(*whole);  // a rule that spans fields
    return problems;
}

std::optional<std::string> JsonSchema::validate(const rapidjson::Value& document) const {
    if (!compiled_) return std::nullopt;
    // RapidJSON 1.1's "pattern" regexes keep their matching state inside the compiled
    // schema: two threads validating against one schema at once corrupt each other's
    // match (seen as valid configs refused under concurrent sends). One at a time.
    std::lock_guard lock(*validating_);
    return validate_with(*compiled_, *source_, document);
}

}  // namespace junction::core
