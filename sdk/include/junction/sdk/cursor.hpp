// Incremental reads: how cursor values compare, and the newest one among the records a
// receive emits. The order is junctiond's own (junction/json/cursor_order.hpp, which flows
// use as they keep the newest value at each checkpoint and pass it back as {"since": ...}),
// so a connector built with this SDK version agrees with the host on which record is
// newest. docs/plugin-abi.md, Cursors.
//
//   sdk::NewestCursor newest("updated_at");
//   for (const auto& record : page.GetArray()) newest.see(record);
//   host().state_set("cursor", newest.value());
#pragma once

#include <junction/json/cursor_order.hpp>
#include <junction/sdk/json.hpp>

#include <rapidjson/pointer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace junction::sdk {

// The one cursor order (junction/json/cursor_order.hpp), which junctiond's flows use too.
using junction::json::compare_cursor;
using junction::json::cursor_instant_ms;
using junction::json::cursor_text;

// The newest value of a record field ("updated_at", or a JSON pointer "/meta/updated") among
// the records seen, as the host will keep it.
class NewestCursor {
public:
    explicit NewestCursor(std::string_view field, std::string since = {})
        : path_(field.empty() || field.front() == '/' ? std::string(field) : "/" + std::string(field)),
          pointer_(path_.c_str(), path_.size()),
          newest_(std::move(since)) {}

    // Takes a record into account; true when it moved the cursor.
    bool see(const Json& record) {
        const Json* v = pointer_.IsValid() ? pointer_.Get(record) : nullptr;
        const std::string c = v ? cursor_text(*v) : std::string();
        if (c.empty() || (!newest_.empty() && compare_cursor(c, newest_) <= 0)) return false;
        newest_ = c;
        return true;
    }
    // "" until a record had the field (or the `since` given).
    const std::string& value() const { return newest_; }

private:
    std::string path_;
    rapidjson::Pointer pointer_;
    std::string newest_;
};

}  // namespace junction::sdk
