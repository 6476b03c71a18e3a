// What the sandbox's C functions share with the script that runs them: the limits, what has
// been spent, the run log. One per lua_State, reached through lua_getextraspace (also from
// coroutines, which copy it). Everything here is trivially destructible where a Lua error
// can unwind past it: Lua is C and unwinds with longjmp, which runs no destructor.
#pragma once

#include <lua.hpp>
#include <re2/re2.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace junction::core::flows::script {

// The instruction count between two calls of the budget hook.
inline constexpr int kHookEvery = 1000;
// Tables nest no deeper than JSON does (json-max-depth).
inline constexpr int kMaxDepth = 128;
// Records one record's script may return.
inline constexpr int kMaxResults = 10000;
// Globals kept from one record to the next (strings, numbers, booleans, null).
inline constexpr int kMaxKeptGlobals = 1000;
// An allocation at least this large checks the clock (one instruction, a concatenation,
// can copy megabytes between two calls of the count hook) and puts the record in careful
// mode: the hook then fires at every instruction, because where large strings and tables
// are, one instruction (a comparison of two long strings, a rehash) can cost milliseconds.
inline constexpr size_t kCheckedAllocation = size_t{16} << 10;
// A string kept from one record to the next is at most this long (well under the size
// that puts a record in careful mode).
inline constexpr size_t kMaxKeptString = 4096;

struct ScriptState {
    // Memory: every byte the Lua state holds, checked by the allocator.
    size_t memory_limit = 0;
    size_t memory_used = 0;
    bool memory_refused = false;  // the allocator said no since the record started

    // Time: instructions and wall clock, checked by the count hook.
    int64_t instruction_limit = 0;
    int64_t instructions = 0;
    bool charging = false;  // allocations count as work (not while the host builds the record)
    bool careful = false;   // the hook fires at every instruction for the rest of the record
    bool careful_from_compile = false;  // the script holds a long string literal
    lua_State* current = nullptr;  // the thread running now (the record's, or a coroutine)
    std::chrono::steady_clock::time_point deadline;
    std::chrono::milliseconds timeout{0};
    bool spent = false;  // once true, every hook call raises again (no pcall can swallow it)

    // The marker of arrays; the metatable of each record's globals, and the globals kept
    // from one record to the next (decision 0022).
    int array_metatable = LUA_NOREF;
    int globals_metatable = LUA_NOREF;
    int kept_globals = LUA_NOREF;
    int kept_count = 0;

    // log(): lines left in this run, and where they go.
    int log_lines_left = 0;
    std::function<void(std::string_view)> log;

    // re.*: compiled patterns, a few per script (a pattern built per record compiles per record).
    std::unordered_map<std::string, std::unique_ptr<const re2::RE2>> patterns;
    char message[256] = {};  // an error's text, kept here while Lua unwinds

    static ScriptState& of(lua_State* L) { return **static_cast<ScriptState**>(lua_getextraspace(L)); }
};

// Counts work done inside one C call (a regex over a long string) against the record's
// instruction budget, one instruction per 16 bytes, and raises when the budget or the
// deadline is spent.
void charge_work(lua_State* L, size_t bytes);

// Makes `thread` the running one (coroutine.resume/wrap/close, before and after): a large
// allocation puts the running thread in careful mode at once; raises when the budget is
// spent, so no coroutine starts after it.
void switch_to(lua_State* thread);

// The optional 1-based start position at `arg`, as string.find reads it (negative: from
// the end; 0 or before the start: 1).
lua_Integer start_position(lua_State* L, int arg, size_t length);

// The JSON null inside a script: `null`, a light userdata at this address.
void* null_sentinel();

// Pushes a fresh table of globals for one record: what it assigns lives in it and goes with
// it, except strings, numbers, booleans and null assigned to a name, which are kept for the
// next record (at most kMaxKeptGlobals); reads fall through to those, then to the libraries.
void push_record_globals(lua_State* L);

// Makes the libraries in `globals` read-only views, protects the string and null
// metatables and prepares what push_record_globals needs (lua_globals.cpp).
void seal_globals(lua_State* L, int globals);

// Opens the sandbox's libraries in `L`: base (without load, dofile, loadfile, print, warn,
// collectgarbage; setmetatable refuses __gc), string (find plain only, no dump, Lua
// patterns replaced by re), table, math, utf8, coroutine, and re, log, null, array.
void open_sandbox(lua_State* L);
// The `re` table: RE2 patterns (linear time) for what Lua patterns would do.
void open_regex(lua_State* L);

}  // namespace junction::core::flows::script
