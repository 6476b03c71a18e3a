// Records into and out of a script: JSON values as Lua values and back, both iterative and
// bounded (no recursion on a record's depth, nor on a table's).
//   JSON object -> table with string keys     JSON array -> table 1..n, marked as an array
//   null -> `null`   number -> integer or float   string, true, false -> the same
// Back to JSON, a table marked as an array (or with keys exactly 1..n) is an array, any
// other table an object (its keys must all be strings); an empty unmarked table is {}.
#pragma once

#include <junction/core/flows/record_batch.hpp>

struct lua_State;

namespace junction::core::flows::script {

// Pushes `record` onto L's stack. Allocates: call it in protected mode only.
void push_record(lua_State* L, const Json& record);

// The value at `index` as JSON, allocated in `allocator`. Only reads L, so it runs outside
// protected mode. Throws ScriptError when the value cannot be JSON (a function, NaN, a
// table with numbered and named keys, nesting deeper than 128), takes more than
// `bytes_left` (which it lowers: one budget for all of a record's results) or outlasts the
// record's deadline.
Json to_record(lua_State* L, int index, Allocator& allocator, size_t& bytes_left);

}  // namespace junction::core::flows::script
