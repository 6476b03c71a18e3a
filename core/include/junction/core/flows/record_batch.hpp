// Records travel through a flow in batches. A record is a RapidJSON value whose memory
// lives in an arena (a parsed page, or what a map built); a batch keeps its arenas alive,
// so moving records between batches (a route splitting a page) copies nothing, and a
// page's memory goes as soon as its last record has left the flow.
#pragma once

#include <junction/core/common/json.hpp>

#include <rapidjson/document.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace junction::core::flows {

using Json = rapidjson::Value;
using Allocator = rapidjson::MemoryPoolAllocator<>;

class Batch {
public:
    // An empty batch with a fresh arena.
    Batch();
    // The records of a JSON array (a page), none for an empty object (a webhook's ping, a
    // manual run's "{}"), or one record for any other JSON value.
    // Throws Error(invalid_argument) when `json` does not parse or breaks a limit (the
    // depth cap, and the size cap of `size`).
    static Batch parse(std::string_view json, std::string_view what, JsonSize size = JsonSize::any);

    // A batch with no records that shares this one's arenas: the place to move some of
    // its records to.
    Batch sibling() const;
    // A deep copy, in an arena of its own (a branch gives each path its own records).
    Batch copy() const;
    // Takes `other`'s records and arenas.
    void append(Batch&& other);

    // Where new values for this batch's records are allocated.
    Allocator& allocator() { return arenas_.front()->GetAllocator(); }
    size_t size() const { return records.size(); }
    bool empty() const { return records.empty(); }

    std::vector<Json> records;

private:
    std::vector<std::shared_ptr<rapidjson::Document>> arenas_;  // front(): new values go here
};

// A record as compact JSON text.
std::string to_json(const Json& value);

}  // namespace junction::core::flows
