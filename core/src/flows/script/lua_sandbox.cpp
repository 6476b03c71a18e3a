// The libraries a script sees. Left out, so that a script reaches nothing but its record:
// io, os, package/require, debug, load/loadfile/dofile (no other code, no bytecode), print
// and warn (they write to the daemon's stdout/stderr; log() writes to the run log), and
// collectgarbage. Lua patterns can take exponential time inside one C call, where no
// instruction budget can stop them, so string.match/gmatch/gsub point to `re` (RE2) and
// string.find searches plain text only. setmetatable refuses __gc: a finalizer runs with
// the budget hook off. What outlives a record is sealed in lua_globals.cpp. No address
// reaches a script's output (tostring, log, string.format print no pointers).
#include "script_state.hpp"

#include <cmath>
#include <cstring>

namespace junction::core::flows::script {

void* null_sentinel() {
    static const char sentinel = 0;
    return const_cast<char*>(&sentinel);
}

lua_Integer start_position(lua_State* L, int arg, size_t length) {
    lua_Integer init = luaL_optinteger(L, arg, 1);
    if (init < 0) init = init < -static_cast<lua_Integer>(length) ? 1 : static_cast<lua_Integer>(length) + init + 1;
    return init == 0 ? 1 : init;
}

namespace {

constexpr const char* kLuaPatternChars = "^$*+?.([%-";

enum class TableCall { other, unpack, sort };
constexpr size_t kMaxLogLine = 2000;

// string.find(s, text [, init [, plain]]): plain search in linear time (glibc's two-way memmem).
int find_plain(lua_State* L) {
    size_t length = 0, needle_length = 0;
    const char* s = luaL_checklstring(L, 1, &length);
    const char* needle = luaL_checklstring(L, 2, &needle_length);
    const lua_Integer init = start_position(L, 3, length);
    charge_work(L, needle_length);
    if (!lua_toboolean(L, 4) && std::strpbrk(needle, kLuaPatternChars) != nullptr)
        return luaL_error(L, "string.find takes plain text here (pass true as the 4th argument); Lua patterns are not "
                             "available in scripts, use re.find(s, pattern) (RE2, linear time)");
    if (init > static_cast<lua_Integer>(length) + 1) {
        lua_pushnil(L);
        return 1;
    }
    charge_work(L, length - static_cast<size_t>(init - 1));
    const char* from = s + init - 1;
    const void* at = memmem(from, length - (init - 1), needle, needle_length);
    if (!at) {
        lua_pushnil(L);
        return 1;
    }
    const lua_Integer start = static_cast<const char*>(at) - s + 1;
    lua_pushinteger(L, start);
    lua_pushinteger(L, start + static_cast<lua_Integer>(needle_length) - 1);
    return 2;
}

int no_lua_patterns(lua_State* L) {
    return luaL_error(L, "%s is not available in scripts: Lua patterns can take exponential time; use %s (RE2 syntax, "
                         "linear time)",
                      lua_tostring(L, lua_upvalueindex(1)), lua_tostring(L, lua_upvalueindex(2)));
}

int checked_setmetatable(lua_State* L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    const int type = lua_type(L, 2);
    luaL_argexpected(L, type == LUA_TNIL || type == LUA_TTABLE, 2, "nil or table");
    // rawget: an __index on the metatable itself must not add __gc between check and set.
    lua_pushliteral(L, "__gc");
    if (type == LUA_TTABLE && lua_rawget(L, 2) != LUA_TNIL)
        return luaL_error(L, "setmetatable: __gc is not available in scripts");
    lua_settop(L, 2);
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL) return luaL_error(L, "cannot change a protected metatable");
    lua_setmetatable(L, 1);
    return 1;
}

// array([t]): marks t (or a new table) as a JSON array, so that even an empty one is [].
int make_array(lua_State* L) {
    if (lua_isnoneornil(L, 1)) lua_newtable(L);
    else luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, ScriptState::of(L).array_metatable);
    if (lua_getmetatable(L, 1)) {
        if (!lua_rawequal(L, -1, -2)) return luaL_error(L, "array(t): t has a metatable of its own already");
        lua_settop(L, 1);
        return 1;  // marked already
    }
    lua_setmetatable(L, 1);
    return 1;
}

// The text of any value, as tostring gives it but without an address: a table is "table"
// (or its __name), never "table: 0x55d4...", which would tell a script where the heap is.
const char* push_text(lua_State* L, int index) {
    index = lua_absindex(L, index);
    if (luaL_callmeta(L, index, "__tostring")) {
        if (!lua_isstring(L, -1)) luaL_error(L, "'__tostring' must return a string");
        return lua_tostring(L, -1);
    }
    switch (lua_type(L, index)) {
        case LUA_TNUMBER:
        case LUA_TSTRING:
        case LUA_TBOOLEAN:
        case LUA_TNIL: return luaL_tolstring(L, index, nullptr);
        default:
        {
            const int name = luaL_getmetafield(L, index, "__name");
            if (name == LUA_TSTRING) return lua_tostring(L, -1);
            if (name != LUA_TNIL) lua_pop(L, 1);
            lua_pushstring(L, luaL_typename(L, index));
            return lua_tostring(L, -1);
        }
    }
}

int safe_tostring(lua_State* L) {
    luaL_checkany(L, 1);
    push_text(L, 1);
    return 1;
}

// string.format: Lua's, with %s of a table or function through push_text and no %p.
int safe_format(lua_State* L) {
    size_t length = 0;
    const char* format = luaL_checklstring(L, 1, &length);
    int arg = 1;
    for (size_t i = 0; i < length; ++i) {
        if (format[i] != '%') continue;
        if (++i < length && format[i] == '%') continue;
        while (i < length && std::strchr("-+ #0123456789.", format[i]) != nullptr) ++i;
        if (i >= length) break;
        ++arg;
        if (format[i] == 'p') return luaL_error(L, "string.format: %%p is not available in scripts");
        if (format[i] == 's' && arg <= lua_gettop(L) && !lua_isstring(L, arg)) {
            push_text(L, arg);
            lua_replace(L, arg);
        }
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

// A string function that walks its whole first argument without allocating (byte, len,
// offset, codepoint) or before allocating (upper, lower, reverse): charged for its length.
int charged_by_length(lua_State* L) {
    size_t length = 0;
    if (lua_type(L, 1) == LUA_TSTRING) lua_tolstring(L, 1, &length);
    charge_work(L, length);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

// log(...): one line in the run log, its values as tostring gives them, space-separated.
int log_line(lua_State* L) {
    auto& state = ScriptState::of(L);
    const int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; ++i) {
        if (i > 1) luaL_addchar(&b, ' ');
        push_text(L, i);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    if (state.log_lines_left <= 0) return 0;
    --state.log_lines_left;
    size_t length = 0;
    const char* text = lua_tolstring(L, -1, &length);
    try {
        if (state.log) {
            state.log(std::string_view(text, std::min(length, kMaxLogLine)));
            if (state.log_lines_left == 0) state.log("(the script's further log lines in this run are dropped)");
        }
    } catch (...) {
        // A line that cannot be logged is not the record's failure.
    }
    return 0;
}

// string.rep(s, n [, sep]): Lua's, charged for its n rounds before it starts (an empty
// string repeated 2^63 times is a loop inside one C call).
int checked_rep(lua_State* L) {
    size_t length = 0, separator = 0;
    luaL_checklstring(L, 1, &length);
    const lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &separator);
    if (n > 0) {
        const double work = static_cast<double>(n) * static_cast<double>(length + separator + 16);
        charge_work(L, work >= 1e18 ? static_cast<size_t>(1e18) : static_cast<size_t>(work));
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

// table.insert/remove/concat/unpack/sort: Lua's, on plain tables only (no __len or __index
// to make them loop for ever inside one call), charged for their rounds first: the table's
// length (unpack: the range asked for); sort n log n, and the bytes of the strings it
// compares log n times. Lua compares strings piece by piece between \0 bytes, a C call
// each, so sorting strings that hold \0 without a comparison function is refused: with one,
// each comparison is script code the budget sees.
int checked_table(lua_State* L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    if (lua_getmetatable(L, 1)) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, ScriptState::of(L).array_metatable);
        const bool marker = lua_rawequal(L, -1, -2) != 0;
        lua_pop(L, 2);
        if (!marker) return luaL_error(L, "table functions take plain tables in scripts (this one has a metatable)");
    }
    const auto kind = static_cast<TableCall>(lua_tointeger(L, lua_upvalueindex(2)));
    const lua_Integer length = static_cast<lua_Integer>(lua_rawlen(L, 1));
    double n = static_cast<double>(length) + 1;
    if (kind == TableCall::unpack) {
        const lua_Integer first = luaL_optinteger(L, 2, 1);
        const lua_Integer last = luaL_optinteger(L, 3, length);
        n = std::max(n, static_cast<double>(last) - static_cast<double>(first) + 2);
    }
    if (kind != TableCall::sort) {
        charge_work(L, n >= 1e17 ? static_cast<size_t>(1e18) : static_cast<size_t>(n * 16));
    } else {
        const double rounds = std::log2(n + 1);
        charge_work(L, static_cast<size_t>(n * rounds * 16));
        double bytes = 0;
        for (lua_Integer i = 1; i <= length; ++i) {
            if (lua_rawgeti(L, 1, i) == LUA_TSTRING) bytes += static_cast<double>(lua_rawlen(L, -1));
            lua_pop(L, 1);
        }
        charge_work(L, bytes * rounds >= 1e18 ? static_cast<size_t>(1e18) : static_cast<size_t>(bytes * rounds));
        if (lua_isnoneornil(L, 2)) {
            for (lua_Integer i = 1; i <= length; ++i) {
                size_t size = 0;
                const char* text = lua_rawgeti(L, 1, i) == LUA_TSTRING ? lua_tolstring(L, -1, &size) : nullptr;
                const bool zero = text != nullptr && std::memchr(text, 0, size) != nullptr;
                lua_pop(L, 1);
                if (zero)
                    return luaL_error(L, "table.sort: item %d is a string with a \\0 byte; sort such strings with a "
                                         "comparison function",
                                      static_cast<int>(i));
            }
        }
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

// Calls Lua's function (upvalue 1) with the arguments while `thread` is the running one
// (so a large allocation in it turns careful at once); refused once the budget is spent.
int call_on(lua_State* L, lua_State* thread) {
    switch_to(thread);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    const int status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
    switch_to(L);
    if (status != LUA_OK) return lua_error(L);
    return lua_gettop(L);
}

// coroutine.resume and close: Lua's, run on the thread they take.
int tracked_resume(lua_State* L) {
    lua_State* co = lua_tothread(L, 1);
    return call_on(L, co ? co : L);
}

// What coroutine.wrap returns: Lua's function (upvalue 1) around its thread (upvalue 2).
int tracked_wrapped_call(lua_State* L) { return call_on(L, lua_tothread(L, lua_upvalueindex(2))); }

int tracked_wrap(lua_State* L) {
    switch_to(L);  // raises once the budget is spent: no new coroutine after it
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    lua_getupvalue(L, -1, 1);  // Lua's wrapper keeps its thread as its one upvalue
    luaL_argcheck(L, lua_type(L, -1) == LUA_TTHREAD, 1, "coroutine.wrap changed shape in this Lua");
    lua_pushcclosure(L, tracked_wrapped_call, 2);
    return 1;
}

int checked_create(lua_State* L) {
    switch_to(L);  // raises once the budget is spent
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

// math.randomseed(n): Lua's without its answer (called with no argument it would return
// an address).
int checked_randomseed(lua_State* L) {
    luaL_checknumber(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 0);
    return 0;
}

void remove(lua_State* L, int table, std::initializer_list<const char*> names) {
    for (const char* name : names) {
        lua_pushnil(L);
        lua_setfield(L, table, name);
    }
}

// Replaces each function `names` of the library at `library` by `wrapper` around it.
void wrap(lua_State* L, int library, std::initializer_list<const char*> names, lua_CFunction wrapper) {
    for (const char* name : names) {
        lua_getfield(L, library, name);
        lua_pushcclosure(L, wrapper, 1);
        lua_setfield(L, library, name);
    }
}

}  // namespace

void open_sandbox(lua_State* L) {
    const luaL_Reg libraries[] = {{LUA_GNAME, luaopen_base},        {LUA_STRLIBNAME, luaopen_string},
                                  {LUA_TABLIBNAME, luaopen_table},  {LUA_MATHLIBNAME, luaopen_math},
                                  {LUA_UTF8LIBNAME, luaopen_utf8},  {LUA_COLIBNAME, luaopen_coroutine}};
    for (const auto& library : libraries) {
        luaL_requiref(L, library.name, library.func, 1);
        lua_pop(L, 1);
    }
    lua_pushglobaltable(L);
    const int globals = lua_gettop(L);
    // xpcall: its message handler runs with the budget hook off.
    remove(L, globals, {"dofile", "loadfile", "load", "print", "warn", "collectgarbage", "xpcall"});
    lua_pushcfunction(L, checked_setmetatable);
    lua_setfield(L, globals, "setmetatable");
    lua_pushcfunction(L, safe_tostring);
    lua_setfield(L, globals, "tostring");

    lua_getglobal(L, LUA_STRLIBNAME);
    const int string = lua_gettop(L);
    remove(L, string, {"dump"});
    lua_pushcfunction(L, find_plain);
    lua_setfield(L, string, "find");
    lua_getfield(L, string, "rep");
    lua_pushcclosure(L, checked_rep, 1);
    lua_setfield(L, string, "rep");
    lua_getfield(L, string, "format");
    lua_pushcclosure(L, safe_format, 1);
    lua_setfield(L, string, "format");
    wrap(L, string, {"byte", "upper", "lower", "reverse"}, charged_by_length);
    const char* replaced[][2] = {{"string.match", "re.match"}, {"string.gmatch", "re.gmatch"}, {"string.gsub", "re.gsub"}};
    for (const auto& [name, instead] : replaced) {
        lua_pushstring(L, name);
        lua_pushstring(L, instead);
        lua_pushcclosure(L, no_lua_patterns, 2);
        lua_setfield(L, string, name + std::strlen("string."));
    }
    lua_pop(L, 1);
    lua_getglobal(L, LUA_UTF8LIBNAME);
    wrap(L, lua_gettop(L), {"len", "offset", "codepoint"}, charged_by_length);
    lua_pop(L, 1);

    // table.move copies up to 2^63 slots of a plain table inside one call: left out.
    lua_getglobal(L, LUA_TABLIBNAME);
    const int table = lua_gettop(L);
    remove(L, table, {"move"});
    for (const char* name : {"insert", "remove", "concat", "unpack", "sort"}) {
        lua_getfield(L, table, name);
        const TableCall kind = std::strcmp(name, "sort") == 0     ? TableCall::sort
                               : std::strcmp(name, "unpack") == 0 ? TableCall::unpack
                                                                  : TableCall::other;
        lua_pushinteger(L, static_cast<lua_Integer>(kind));
        lua_pushcclosure(L, checked_table, 2);
        lua_setfield(L, table, name);
    }
    lua_pop(L, 1);

    lua_getglobal(L, LUA_COLIBNAME);
    wrap(L, lua_gettop(L), {"resume", "close"}, tracked_resume);
    wrap(L, lua_gettop(L), {"wrap"}, tracked_wrap);
    wrap(L, lua_gettop(L), {"create"}, checked_create);
    lua_pop(L, 1);
    lua_getglobal(L, LUA_MATHLIBNAME);
    wrap(L, lua_gettop(L), {"randomseed"}, checked_randomseed);
    lua_pop(L, 1);

    // The array marker: protected, so a script can neither read it nor give it a __gc.
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "array");
    lua_setfield(L, -2, "__metatable");
    ScriptState::of(L).array_metatable = luaL_ref(L, LUA_REGISTRYINDEX);

    lua_pushlightuserdata(L, null_sentinel());
    lua_setfield(L, globals, "null");
    lua_pushcfunction(L, make_array);
    lua_setfield(L, globals, "array");
    lua_pushcfunction(L, log_line);
    lua_setfield(L, globals, "log");
    open_regex(L);
    seal_globals(L, globals);
    lua_pop(L, 1);
}

}  // namespace junction::core::flows::script
