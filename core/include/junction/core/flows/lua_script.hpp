// A flow's Lua 5.4 script (the script shape): compiled once per run, called once per record
// with the record as a table, returning the records to pass on. Sandboxed: no io, os,
// require, debug, load or bytecode; Lua patterns give way to RE2 (linear time). Each record
// has an instruction budget and a deadline, and the script's memory has a cap, so runaway
// code fails the record at hand and the next record starts afresh. See docs/flows.md.
#pragma once

#include <junction/core/flows/record_batch.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct lua_State;

namespace junction::core::flows {

namespace script {
struct ScriptState;
}

// A record the script failed on, or a script that does not compile; the message says which
// line and why ("script:3: attempt to index a nil value (field 'customer')").
class ScriptError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ScriptLimits {
    int64_t max_instructions = 1'000'000;          // per record
    size_t max_memory = size_t{64} << 20;          // everything the script holds at once
    std::chrono::milliseconds timeout{1000};       // per record, wall clock
    int max_log_lines = 100;                       // per run
};

class LuaScript {
public:
    // Compiles `source` as the body of a function of `record`; throws ScriptError when it
    // does not compile.
    LuaScript(std::string_view source, ScriptLimits limits);
    ~LuaScript();
    LuaScript(const LuaScript&) = delete;
    LuaScript& operator=(const LuaScript&) = delete;

    // Where log(...) lines go (the run log); none: they are dropped.
    void set_log(std::function<void(std::string_view)> log);

    // Runs the script on `record` and appends what it returns to `out`, allocated in
    // `allocator`: nothing for `return nil`, several records for several values. Throws
    // ScriptError when the script fails, runs out of budget or returns what JSON cannot hold.
    void run(const Json& record, std::vector<Json>& out, Allocator& allocator);

    // Bytes the script's state holds now (for tests and the benchmark).
    size_t memory_used() const;

private:
    std::unique_ptr<script::ScriptState> state_;
    lua_State* L_ = nullptr;
    int function_ = 0;  // registry reference of the compiled body
};

}  // namespace junction::core::flows
