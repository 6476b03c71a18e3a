// JSON for connector authors: RapidJSON types plus the few helpers every connector needs.
#pragma once

#include <junction/json/bounded_reader.hpp>
#include <junction/json/utf8_writer.hpp>
#include <junction/sdk/error.hpp>

#include <rapidjson/document.h>

#include <string>
#include <string_view>

namespace junction::sdk {

using Json = rapidjson::Value;
using JsonDocument = rapidjson::Document;

// Parses text into a document with Junction's one bounded reader (iterative, at most
// `limits.max_depth` levels, valid UTF-8, no duplicate keys, finite numbers); a failure
// becomes an Error with `status` naming `what` was parsed and where it broke.
inline JsonDocument parse_json(std::string_view text, std::string_view what,
                               jn_status status = JN_ERR_INVALID_REQUEST,
                               const junction::json::ReadLimits& limits = {}) {
    JsonDocument doc;
    if (auto problem = junction::json::read(text, doc, limits))
        throw Error(status, std::string(what) + " " + *problem);
    return doc;
}

// `value` as compact JSON, always valid UTF-8 (invalid sequences become U+FFFD).
inline std::string to_json(const Json& value) { return junction::json::write(value); }

// `text` as a JSON string literal, quotes included, always valid UTF-8.
inline std::string json_quote(std::string_view text) { return junction::json::quote(text); }

// Typed, read-only access to a JSON object (an instance config or a request), with errors
// that name the field. Missing optional fields take the default given.
class JsonObject {
public:
    JsonObject(const Json& object, std::string what, jn_status status)
        : object_(object), what_(std::move(what)), status_(status) {}

    bool has(const char* key) const { return object_.IsObject() && object_.HasMember(key); }

    const Json* find(const char* key) const {
        if (!object_.IsObject()) return nullptr;
        auto it = object_.FindMember(key);
        return it == object_.MemberEnd() ? nullptr : &it->value;
    }

    std::string string(const char* key) const {
        const Json* v = find(key);
        if (!v) fail(key, "is required");
        if (!v->IsString()) fail(key, "must be a string");
        return std::string(v->GetString(), v->GetStringLength());
    }
    std::string string_or(const char* key, std::string fallback) const {
        return has(key) ? string(key) : fallback;
    }
    int64_t integer(const char* key) const {
        const Json* v = find(key);
        if (!v) fail(key, "is required");
        if (!v->IsInt64()) fail(key, "must be an integer");
        return v->GetInt64();
    }
    int64_t integer_or(const char* key, int64_t fallback) const {
        return has(key) ? integer(key) : fallback;
    }
    bool boolean_or(const char* key, bool fallback) const {
        const Json* v = find(key);
        if (!v) return fallback;
        if (!v->IsBool()) fail(key, "must be true or false");
        return v->GetBool();
    }
    const Json& json() const { return object_; }

    [[noreturn]] void fail(const char* key, const char* why) const {
        throw Error(status_, what_ + " field '" + key + "' " + why);
    }

private:
    const Json& object_;
    std::string what_;
    jn_status status_;
};

}  // namespace junction::sdk
