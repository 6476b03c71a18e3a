// A compiled JSON Schema (RapidJSON's validator) whose failures read as "at /path: why".
#pragma once

#include <junction/core/common/json.hpp>  // parse_json_text, the one bounded parse

#include <rapidjson/document.h>
#include <rapidjson/schema.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <map>
#include <string_view>
#include <vector>

namespace junction::core {

class JsonSchema {
public:
    // Compiles `schema`. Throws Error(invalid_argument) naming `what` when the schema
    // itself is not valid JSON Schema (checked against a draft-07 meta-schema subset).
    static JsonSchema compile(const rapidjson::Value& schema, std::string_view what);

    // An empty schema: accepts every document.
    JsonSchema() = default;

    // nullopt when `document` conforms; otherwise the first problem, with its JSON path.
    std::optional<std::string> validate(const rapidjson::Value& document) const;

    // Every problem of an object document, one per field where the schema allows it to be
    // said per field (missing, unknown, or failing its property's schema); empty when the
    // document conforms.
    std::vector<std::string> validate_fields(const rapidjson::Value& document) const;

private:
    std::shared_ptr<rapidjson::Document> source_;  // the schema JSON, kept for messages
    std::shared_ptr<rapidjson::SchemaDocument> compiled_;
    std::shared_ptr<std::mutex> validating_;  // see validate()
    std::shared_ptr<std::map<std::string, JsonSchema>> properties_;  // per-field schemas
};

// The draft-07 subset Junction accepts for config schemas, as JSON text.
std::string_view json_meta_schema();

}  // namespace junction::core
