// JSON for connector authors: RapidJSON types plus the few helpers every connector needs.
#pragma once

#include <junction/sdk/error.hpp>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <string_view>

namespace junction::sdk {

using Json = rapidjson::Value;
using JsonDocument = rapidjson::Document;

// Parses text into a document; a parse failure becomes an Error with `status`, naming
// `what` was being parsed and where it broke.
inline JsonDocument parse_json(std::string_view text, std::string_view what,
                               jn_status status = JN_ERR_INVALID_REQUEST) {
    JsonDocument doc;
    doc.Parse(text.data(), text.size());
    if (doc.HasParseError()) {
        throw Error(status, std::string(what) + " is not valid JSON: " +
                                rapidjson::GetParseError_En(doc.GetParseError()) +
                                " at offset " + std::to_string(doc.GetErrorOffset()));
    }
    return doc;
}

inline std::string to_json(const Json& value) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    value.Accept(writer);
    return std::string(buffer.GetString(), buffer.GetSize());
}

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
