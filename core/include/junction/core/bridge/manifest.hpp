// A connector's manifest, as its describe() returns it: who it is, how an instance
// authenticates, what an instance config looks like, and which operations it offers.
// An engine's manifest ("kind": "engine") only says who it is.
#pragma once

#include <junction/core/common/json_schema.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace junction::core {

enum class Direction { receive, send };

const char* direction_name(Direction d);

struct AuthMethod {
    std::string name;
    std::string display_name;
    std::vector<std::string> fields;  // config_schema properties this method uses
};

struct Operation {
    std::string name;
    Direction direction = Direction::receive;
    std::string entity;
    std::string description;
    std::string primary_key;   // the field that identifies a record, when declared
    std::string cursor_field;  // receive: the field an incremental read resumes after
    std::vector<std::string> filters;  // receive: the filter parameters it accepts
};

struct Manifest {
    std::string name;
    std::string version;
    std::string display_name;
    std::string description;
    bool is_engine = false;  // "kind": "engine": runs connectors defined by data, no instances
    std::vector<AuthMethod> auth_methods;
    std::vector<Operation> operations;
    std::vector<std::string> secret_fields;  // properties marked "writeOnly": true
    JsonSchema config_schema;
    std::string config_schema_json;  // the schema as text: two versions with the same text
                                     // accept exactly the same configs
    std::string json;  // the manifest as the plugin returned it

    std::string id() const { return name + "@" + version; }
    const Operation* find_operation(std::string_view operation) const;
};

// Parses and validates a manifest. Throws Error(plugin_rejected) that says which field is
// wrong and why (JSON path), so a plugin author can fix it.
Manifest parse_manifest(std::string_view json);

// The JSON Schema every manifest must satisfy (published in docs/plugin-abi.md).
std::string_view manifest_schema();

}  // namespace junction::core
