// Reading a flow document: a part of it with its JSON path, and the list of problems found
// so far. Every reader reports into the list and goes on, so saving a flow names every
// problem at once ("at /shapes/2/fields/1/source: ..."), not the first only.
#pragma once

#include <junction/core/flows/record_batch.hpp>

#include <rapidjson/pointer.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace junction::core::flows {

using Problems = std::vector<std::string>;
using Pointer = rapidjson::Pointer;

class Spec {
public:
    Spec(const Json& value, std::string path, Problems& problems)
        : value_(value), path_(std::move(path)), problems_(problems) {}

    const Json& json() const { return value_; }
    const std::string& path() const { return path_; }
    Problems& problems() const { return problems_; }
    // The path of a member: "/shapes/2" + "next" -> "/shapes/2/next".
    std::string at(std::string_view member) const { return path_ + "/" + std::string(member); }

    // Adds "at PATH[/member]: why".
    void problem(std::string_view why) const;
    void problem(std::string_view member, std::string_view why) const;

    const Json* member(const char* key) const;
    // Wrong types are problems; absent members give the fallback (or a problem when required).
    std::string string(const char* key, bool required = false) const;
    std::optional<int64_t> integer(const char* key, int64_t min, int64_t max) const;
    bool boolean(const char* key, bool fallback) const;
    // The member as a part of its own: an object when `object` (else any value).
    std::optional<Spec> child(const char* key, bool required, bool object = true) const;
    std::vector<Spec> array(const char* key, bool required) const;
    // Members not listed are problems: a typo must not pass as "not set".
    void allow_only(std::initializer_list<const char*> keys) const;
    // A JSON pointer member ("/customer/email"); nullopt (and a problem) when malformed.
    std::optional<Pointer> pointer(const char* key, bool required) const;

private:
    const Json& value_;
    std::string path_;
    Problems& problems_;
};

// Parses "/a/b" (or "a/b", read as "/a/b"); nullopt when it is not a JSON pointer.
std::optional<Pointer> parse_pointer(std::string_view text);
// The largest list position a flow's path may name (Spec::pointer refuses more).
constexpr size_t kMaxPathIndex = 9'999;

}  // namespace junction::core::flows
