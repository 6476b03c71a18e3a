// What outlives a record in a script (decision 0022): nothing but the scalars it assigns to
// global names. Each record runs with fresh globals; the libraries are read-only views; the
// string and null metatables are protected. So no table can grow from record to record
// into one whose next rehash is quadratic (colliding float keys), and no record changes
// what the next one calls.
#include "script_state.hpp"

#include <cstring>

namespace junction::core::flows::script {

namespace {

// __newindex of a record's globals: a scalar assigned to a name is kept for the next record.
int keep_global(lua_State* L) {
    auto& state = ScriptState::of(L);
    const int type = lua_type(L, 3);
    const bool scalar = type == LUA_TNIL || type == LUA_TBOOLEAN || type == LUA_TNUMBER || type == LUA_TSTRING ||
                        (type == LUA_TLIGHTUSERDATA && lua_touserdata(L, 3) == null_sentinel());
    if (lua_type(L, 2) != LUA_TSTRING) {
        lua_rawset(L, 1);
        return 0;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, state.kept_globals);
    const int kept = lua_gettop(L);
    lua_pushvalue(L, 2);
    const bool had = lua_rawget(L, kept) != LUA_TNIL;
    lua_pop(L, 1);
    const bool keep = scalar && type != LUA_TNIL;
    if (keep && !had && state.kept_count >= kMaxKeptGlobals)
        return luaL_error(L, "a script keeps at most %d globals from one record to the next (use local variables)",
                          kMaxKeptGlobals);
    if (type == LUA_TSTRING && lua_rawlen(L, 3) > kMaxKeptString)
        return luaL_error(L, "a global keeps a string of at most %d bytes for the next record (use a local variable)",
                          static_cast<int>(kMaxKeptString));
    lua_pushvalue(L, 2);
    if (keep) lua_pushvalue(L, 3);
    else lua_pushnil(L);
    lua_rawset(L, kept);  // may raise (no memory): counted only once done
    state.kept_count += static_cast<int>(keep) - static_cast<int>(had);
    if (!scalar) {  // a table or function: the record's own
        lua_settop(L, 3);
        lua_rawset(L, 1);
    }
    return 0;
}

int read_only_library(lua_State* L) {
    return luaL_error(L, "the libraries are read-only in scripts (assign %s to a local or global instead)",
                      lua_tostring(L, 2) ? lua_tostring(L, 2) : "it");
}

// rawset: Lua's, refusing the read-only libraries.
int checked_rawset(lua_State* L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    if (luaL_getmetafield(L, 1, "__metatable") == LUA_TSTRING && std::strcmp(lua_tostring(L, -1), "library") == 0)
        return read_only_library(L);
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 1;
}

}  // namespace

// What outlives a record: the libraries become read-only views, the string and null
// metatables are protected, and the globals table the script was compiled with is replaced
// for each record by push_record_globals (a fresh table over the kept scalars, over these).
void seal_globals(lua_State* L, int globals) {
    for (const char* name : {LUA_STRLIBNAME, LUA_TABLIBNAME, LUA_MATHLIBNAME, LUA_UTF8LIBNAME, LUA_COLIBNAME, "re"}) {
        lua_newtable(L);  // the view
        lua_createtable(L, 0, 3);
        lua_getfield(L, globals, name);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, read_only_library);
        lua_setfield(L, -2, "__newindex");
        lua_pushliteral(L, "library");
        lua_setfield(L, -2, "__metatable");
        lua_setmetatable(L, -2);
        lua_setfield(L, globals, name);
    }
    lua_pushnil(L);
    lua_setfield(L, globals, "_G");  // each record's own globals are its _G
    lua_pushcfunction(L, checked_rawset);
    lua_setfield(L, globals, "rawset");

    lua_pushliteral(L, "");  // ("x"):upper() still finds the string library through it
    lua_getmetatable(L, -1);
    lua_pushliteral(L, "string");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);

    lua_pushlightuserdata(L, null_sentinel());  // the only light userdata a script sees
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, [](lua_State* L) -> int {
        lua_pushliteral(L, "null");
        return 1;
    });
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "null");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_pop(L, 1);

    auto& state = ScriptState::of(L);
    lua_newtable(L);  // the kept scalars, reading through to the libraries
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, globals);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    state.kept_globals = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_createtable(L, 0, 3);  // the metatable of each record's globals
    lua_insert(L, -2);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, keep_global);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    state.globals_metatable = luaL_ref(L, LUA_REGISTRYINDEX);
}


void push_record_globals(lua_State* L) {
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "_G");  // raw: the metatable comes after
    lua_rawgeti(L, LUA_REGISTRYINDEX, ScriptState::of(L).globals_metatable);
    lua_setmetatable(L, -2);
}

}  // namespace junction::core::flows::script
