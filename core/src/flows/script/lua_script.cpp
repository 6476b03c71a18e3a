#include <junction/core/flows/lua_script.hpp>

#include "lua_records.hpp"
#include "script_state.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace junction::core::flows {

using script::ScriptState;

namespace {

bool over_budget(ScriptState& state);
void count_hook(lua_State* L, lua_Debug*);

void be_careful(ScriptState& state) {
    state.careful = true;
    if (state.current) lua_sethook(state.current, count_hook, LUA_MASKCOUNT, 1);
}

// Every allocation of the state goes through here and is refused past the cap; Lua then
// collects garbage (a full collection, charged here) and tries again before it raises "not
// enough memory". What the script allocates is work too (one instruction per 16 bytes); a
// large allocation checks the budget and the clock, is refused once they are spent, and
// puts the record in careful mode.
void* allocate(void* ud, void* block, size_t old_size, size_t new_size) {
    auto& state = *static_cast<ScriptState*>(ud);
    const size_t had = block ? old_size : 0;  // without a block, old_size is a type tag
    if (new_size == 0) {
        std::free(block);
        state.memory_used -= had;
        return nullptr;
    }
    if (new_size > had) {
        const size_t grown = new_size - had;
        const bool large = grown >= script::kCheckedAllocation;
        if (large) {
            if (state.current && !state.careful) be_careful(state);
            // A long string literal in the script (while it compiles, nothing runs yet).
            if (!state.current && !block && old_size == LUA_TSTRING) state.careful_from_compile = true;
        }
        if (state.memory_used + grown > state.memory_limit) {
            state.memory_refused = true;
            if (state.charging) state.instructions += static_cast<int64_t>(state.memory_used / 64);
            return nullptr;
        }
        if (state.charging) state.instructions += static_cast<int64_t>(grown / 16);
        if (large && state.charging && over_budget(state)) return nullptr;
    }
    void* moved = std::realloc(block, new_size);
    if (!moved) return nullptr;
    state.memory_used = state.memory_used - had + new_size;
    return moved;
}

bool over_budget(ScriptState& state) {
    if (!state.spent) {
        if (state.instructions > state.instruction_limit) {
            state.spent = true;
            std::snprintf(state.message, sizeof state.message,
                          "ran more than %lld Lua instructions on this record (max_instructions)",
                          static_cast<long long>(state.instruction_limit));
        } else if (std::chrono::steady_clock::now() > state.deadline) {
            state.spent = true;
            std::snprintf(state.message, sizeof state.message, "took longer than %lld ms on this record (timeout_ms)",
                          static_cast<long long>(state.timeout.count()));
        }
    }
    return state.spent;
}

// Called every kHookEvery instructions (every one in careful mode). Once the budget or the
// deadline is spent it raises at every instruction, so a pcall in the script cannot
// swallow the error and go on.
void count_hook(lua_State* L, lua_Debug*) {
    auto& state = ScriptState::of(L);
    state.instructions += lua_gethookcount(L);
    if (over_budget(state)) {
        lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
        luaL_error(L, "%s", state.message);
    }
    // A thread that was not running when the record turned careful turns now.
    if (state.careful && lua_gethookcount(L) != 1) lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
}

struct Call {
    int function;
    const Json* record;
};

// The record's call, in protected mode: fresh globals, the record becomes a table, the
// body runs.
int call_in_protected_mode(lua_State* L) {
    const auto* call = static_cast<const Call*>(lua_touserdata(L, 1));
    lua_settop(L, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, call->function);
    script::push_record_globals(L);
    lua_setupvalue(L, 1, 1);  // the body's _ENV
    auto& state = ScriptState::of(L);
    state.charging = false;  // the host's work, not the script's
    script::push_record(L, *call->record);
    state.charging = true;
    lua_call(L, 1, LUA_MULTRET);
    return lua_gettop(L);
}

std::string error_text(lua_State* L) {
    size_t n = 0;
    const char* s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : nullptr;
    if (!s) return std::string("raised an error that is not a string (a ") + luaL_typename(L, -1) + ")";
    return std::string(s, std::min<size_t>(n, 2000));
}

}  // namespace

void script::switch_to(lua_State* thread) {
    auto& state = ScriptState::of(thread);
    state.current = thread;
    if (state.careful && lua_gethookcount(thread) != 1) lua_sethook(thread, count_hook, LUA_MASKCOUNT, 1);
    if (state.spent) luaL_error(thread, "%s", state.message);
}

void script::charge_work(lua_State* L, size_t bytes) {
    auto& state = ScriptState::of(L);
    state.instructions += static_cast<int64_t>(bytes / 16);
    if (over_budget(state)) {
        lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
        luaL_error(L, "%s", state.message);
    }
}

LuaScript::LuaScript(std::string_view source, ScriptLimits limits) : state_(std::make_unique<ScriptState>()) {
    state_->memory_limit = limits.max_memory;
    state_->instruction_limit = limits.max_instructions;
    state_->timeout = limits.timeout;
    state_->log_lines_left = limits.max_log_lines;
    L_ = lua_newstate(allocate, state_.get());
    if (!L_) throw ScriptError("the script's Lua state could not be created (max_memory_mb too small?)");
    *static_cast<ScriptState**>(lua_getextraspace(L_)) = state_.get();
    lua_atpanic(L_, [](lua_State* L) -> int {
        // Only reached on a bug here (a Lua call outside protected mode that failed).
        std::fprintf(stderr, "junction: Lua panic in a script: %s\n", lua_tostring(L, -1));
        std::abort();
    });
    // The libraries and the compiled body, in protected mode (both allocate).
    state_->deadline = std::chrono::steady_clock::now() + limits.timeout;
    // The source is read in two pieces: `record` is the body's argument, on the same line so
    // line numbers stay the source's; no copy of the whole source is made (as a string, it
    // would look like a long literal).
    struct Setup {
        const char* pieces[2];
        size_t sizes[2];
        int next;
    } setup{{"local record = ...; ", source.data()}, {std::strlen("local record = ...; "), source.size()}, 0};
    lua_pushcfunction(L_, [](lua_State* L) -> int {
        auto* s = static_cast<Setup*>(lua_touserdata(L, 1));
        script::open_sandbox(L);
        const auto read = [](lua_State*, void* data, size_t* size) -> const char* {
            auto* s = static_cast<Setup*>(data);
            if (s->next == 2) {
                *size = 0;
                return nullptr;
            }
            *size = s->sizes[s->next];
            return s->pieces[s->next++];
        };
        if (lua_load(L, read, s, "=script", "t") != LUA_OK) return lua_error(L);
        return 1;
    });
    lua_pushlightuserdata(L_, &setup);
    if (lua_pcall(L_, 1, 1, 0) != LUA_OK) {
        std::string why = state_->memory_refused ? "needs more memory than max_memory_mb to load" : error_text(L_);
        lua_close(L_);
        L_ = nullptr;
        throw ScriptError("the script does not compile: " + why);
    }
    function_ = luaL_ref(L_, LUA_REGISTRYINDEX);
    // Many short-lived tables per record: the generational collector suits them.
    lua_gc(L_, LUA_GCGEN, 0, 0);
}

LuaScript::~LuaScript() {
    if (L_) lua_close(L_);
}

void LuaScript::set_log(std::function<void(std::string_view)> log) { state_->log = std::move(log); }

size_t LuaScript::memory_used() const { return state_->memory_used; }

void LuaScript::run(const Json& record, std::vector<Json>& out, Allocator& allocator) {
    auto& state = *state_;
    state.instructions = 0;
    state.spent = false;
    state.memory_refused = false;
    state.deadline = std::chrono::steady_clock::now() + state.timeout;
    state.careful = state.careful_from_compile;
    state.current = L_;
    lua_sethook(L_, count_hook, LUA_MASKCOUNT, state.careful ? 1 : script::kHookEvery);

    lua_settop(L_, 0);
    Call call{function_, &record};
    lua_pushcfunction(L_, call_in_protected_mode);
    lua_pushlightuserdata(L_, &call);
    const int status = lua_pcall(L_, 1, LUA_MULTRET, 0);
    lua_sethook(L_, nullptr, 0, 0);
    state.current = nullptr;
    state.charging = false;
    if (status != LUA_OK) {
        std::string why = error_text(L_);
        if (state.spent)
            why = std::string("the script ") + state.message;  // wherever it was raised
        else if (status == LUA_ERRMEM || (state.memory_refused && why == "not enough memory"))
            why = "the script used more than " + std::to_string(state.memory_limit >> 20) + " MB of memory (max_memory_mb)";
        lua_settop(L_, 0);
        // What a failed record left behind goes now, not in the middle of the next one; only
        // when it is much (the collection costs what the record allocated, which was charged).
        if (state.memory_used > state.memory_limit / 2) lua_gc(L_, LUA_GCCOLLECT);
        throw ScriptError(why);
    }
    if (state.spent) {  // spent in the allocator, caught by a pcall, then returned before the hook fired
        lua_settop(L_, 0);
        throw ScriptError(std::string("the script ") + state.message);
    }
    const int results = lua_gettop(L_);
    if (results == 0) {
        throw ScriptError("the script returned nothing: end it with `return record` (or `return nil` to drop the record)");
    }
    if (results > script::kMaxResults) {
        lua_settop(L_, 0);
        throw ScriptError("the script returned " + std::to_string(results) + " values; at most " +
                          std::to_string(script::kMaxResults) + " records come from one record");
    }
    try {
        size_t bytes_left = state.memory_limit;  // for all of this record's results together
        for (int i = 1; i <= results; ++i) {
            if (lua_isnil(L_, i)) continue;  // dropped
            out.push_back(script::to_record(L_, i, allocator, bytes_left));
        }
    } catch (...) {
        lua_settop(L_, 0);
        throw;
    }
    lua_settop(L_, 0);
}

}  // namespace junction::core::flows
