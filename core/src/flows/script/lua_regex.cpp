// re: regular expressions for scripts, in RE2 syntax and linear time (docs/flows.md).
//   re.test(s, p)              -> true when p matches somewhere in s
//   re.match(s, p [, init])    -> the captures (or the whole match), nil when none
//   re.find(s, p [, init])     -> start, end (1-based, inclusive) and the captures
//   re.gmatch(s, p)            -> an iterator over the matches, as string.gmatch
//   re.gsub(s, p, r [, n])     -> s with matches replaced, and their count; r is a string
//                                 (\0 the match, \1-\9 captures, \\ a backslash), a table
//                                 (looked up by the first capture) or a function
// Compiled patterns are kept per script (a few dozen); each call counts its input against
// the record's budget.
#include "../flow_regex.hpp"
#include "script_state.hpp"

#include <re2/re2.h>

#include <cstdint>
#include <string>

namespace junction::core::flows::script {

namespace {

constexpr int kMaxGroups = 32;  // captures + the whole match
constexpr size_t kMaxPatterns = 64;       // per run; never evicted: a running call may hold one
constexpr size_t kMaxPatternBytes = 4096;
constexpr int kMaxProgramSize = 20000;    // RE2 instructions: matching costs bytes x program

// The pattern at `arg`, compiled once per script. Raises when RE2 refuses it.
const RE2& pattern_at(lua_State* L, int arg) {
    size_t length = 0;
    const char* text = luaL_checklstring(L, arg, &length);
    auto& state = ScriptState::of(L);
    if (length > kMaxPatternBytes) luaL_error(L, "re: a pattern of more than %d bytes", static_cast<int>(kMaxPatternBytes));
    charge_work(L, length * 64);  // compiling (or looking up) is work too
    const RE2* re = nullptr;
    try {  // C++ objects live only inside this block: a Lua error must not unwind past them
        std::string key(text, length);
        auto it = state.patterns.find(key);
        if (it != state.patterns.end()) {
            re = it->second.get();
        } else {
            std::string error;
            auto compiled = compile_flow_regex(key, error);
            if (compiled && compiled->NumberOfCapturingGroups() >= kMaxGroups)
                error = "has more than " + std::to_string(kMaxGroups - 1) + " capturing groups";
            else if (compiled && compiled->ProgramSize() > kMaxProgramSize)
                error = "is too large once compiled (" + std::to_string(compiled->ProgramSize()) + " RE2 instructions, at most " +
                        std::to_string(kMaxProgramSize) + ")";
            else if (state.patterns.size() >= kMaxPatterns)
                error = "is one more than the " + std::to_string(kMaxPatterns) + " different patterns a script may use in a run";
            if (compiled && error.empty()) {
                re = state.patterns.emplace(std::move(key), std::move(compiled)).first->second.get();
            } else {
                std::snprintf(state.message, sizeof state.message, "re: the pattern %.60s %s", text,
                              error.c_str());
            }
        }
    } catch (const std::exception&) {
        std::snprintf(state.message, sizeof state.message, "re: no memory to compile the pattern");
    }
    if (!re) luaL_error(L, "%s", state.message);
    return *re;
}

// Finds the first match at or after byte `from` (0-based); fills groups[0..count).
// Charges the bytes it went through: to the match's end, or to the end of `s`.
bool search(lua_State* L, const RE2& re, const char* s, size_t length, size_t from, re2::StringPiece* groups, int count) {
    // A large program can fall back to RE2's NFA (bytes x program): charged before it runs.
    if (re.ProgramSize() > 1000) charge_work(L, (length - from) * static_cast<size_t>(re.ProgramSize() / 256));
    re2::StringPiece whole;
    if (count == 0) {
        groups = &whole;
        count = 1;
    }
    const bool found = re.Match(re2::StringPiece(s, length), from, length, RE2::UNANCHORED, groups, count);
    charge_work(L, (found ? static_cast<size_t>(groups[0].data() - s) + groups[0].size() : length) - from);
    return found;
}

void push_piece(lua_State* L, const re2::StringPiece& piece) {
    if (piece.data() == nullptr) lua_pushlightuserdata(L, null_sentinel());  // a group that took no part
    else lua_pushlstring(L, piece.data(), piece.size());
}

// Pushes the captures, or the whole match when there are none; returns how many.
int push_captures(lua_State* L, const re2::StringPiece* groups, int count) {
    if (count == 1) {
        push_piece(L, groups[0]);
        return 1;
    }
    luaL_checkstack(L, count, "too many captures");
    for (int i = 1; i < count; ++i) push_piece(L, groups[i]);
    return count - 1;
}

// After an empty match, the next search starts one character on (a UTF-8 sequence is one).
size_t step_past_empty(const char* s, size_t length, size_t at) {
    ++at;
    while (at < length && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80) ++at;
    return at;
}

int re_test(lua_State* L) {
    size_t length = 0;
    const char* s = luaL_checklstring(L, 1, &length);
    const RE2& re = pattern_at(L, 2);
    lua_pushboolean(L, search(L, re, s, length, 0, nullptr, 0));
    return 1;
}

int find_or_match(lua_State* L, bool find) {
    size_t length = 0;
    const char* s = luaL_checklstring(L, 1, &length);
    const RE2& re = pattern_at(L, 2);
    const lua_Integer init = start_position(L, 3, length);
    re2::StringPiece groups[kMaxGroups];
    const int count = 1 + re.NumberOfCapturingGroups();
    if (init > static_cast<lua_Integer>(length) + 1 ||
        !search(L, re, s, length, static_cast<size_t>(init - 1), groups, count)) {
        lua_pushnil(L);
        return 1;
    }
    if (!find) return push_captures(L, groups, count);
    const lua_Integer start = groups[0].data() - s + 1;
    lua_pushinteger(L, start);
    lua_pushinteger(L, start + static_cast<lua_Integer>(groups[0].size()) - 1);
    if (count == 1) return 2;
    return 2 + push_captures(L, groups, count);
}

int re_find(lua_State* L) { return find_or_match(L, true); }
int re_match(lua_State* L) { return find_or_match(L, false); }

// The iterator: upvalues are the subject, the pattern text, the next byte to search from
// and where the last match ended. As in Lua 5.4, an empty match where the previous match
// ended is skipped ("abc" and "\\w*" give "abc" once, not "abc" then "").
int gmatch_next(lua_State* L) {
    size_t length = 0;
    const char* s = lua_tolstring(L, lua_upvalueindex(1), &length);
    const RE2& re = pattern_at(L, lua_upvalueindex(2));
    size_t from = static_cast<size_t>(lua_tointeger(L, lua_upvalueindex(3)));
    const lua_Integer last_end = lua_tointeger(L, lua_upvalueindex(4));
    re2::StringPiece groups[kMaxGroups];
    const int count = 1 + re.NumberOfCapturingGroups();
    size_t start = 0;
    for (;;) {
        if (from > length || !search(L, re, s, length, from, groups, count)) return 0;
        start = static_cast<size_t>(groups[0].data() - s);
        if (!groups[0].empty() || static_cast<lua_Integer>(start) != last_end) break;
        from = step_past_empty(s, length, start);
    }
    const size_t end = start + groups[0].size();
    lua_pushinteger(L, static_cast<lua_Integer>(groups[0].empty() ? step_past_empty(s, length, end) : end));
    lua_replace(L, lua_upvalueindex(3));
    lua_pushinteger(L, static_cast<lua_Integer>(end));
    lua_replace(L, lua_upvalueindex(4));
    return push_captures(L, groups, count);
}

int re_gmatch(lua_State* L) {
    luaL_checkstring(L, 1);
    pattern_at(L, 2);  // a bad pattern fails here, not at the first step
    lua_settop(L, 2);
    lua_pushinteger(L, 0);
    lua_pushinteger(L, -1);
    lua_pushcclosure(L, gmatch_next, 4);
    return 1;
}

// Adds the replacement of one match to `b`.
void add_replacement(lua_State* L, luaL_Buffer& b, const re2::StringPiece* groups, int count) {
    const int kind = lua_type(L, 3);
    if (kind == LUA_TSTRING || kind == LUA_TNUMBER) {
        size_t length = 0;
        const char* r = lua_tolstring(L, 3, &length);
        for (size_t i = 0; i < length; ++i) {
            if (r[i] != '\\' || i + 1 == length) {
                luaL_addchar(&b, r[i]);
                continue;
            }
            const char c = r[++i];
            if (c == '\\') {
                luaL_addchar(&b, '\\');
            } else if (c >= '0' && c <= '9') {
                const int group = c - '0';
                if (group >= count) luaL_error(L, "re.gsub: the replacement names \\%d, the pattern has %d captures", group, count - 1);
                luaL_addlstring(&b, groups[group].data(), groups[group].size());
            } else {
                luaL_error(L, "re.gsub: \\%c in the replacement: use \\0-\\9 or \\\\", c);
            }
        }
        return;
    }
    // A table or function gives the replacement; false or nil keeps the match.
    if (kind == LUA_TTABLE) {
        push_piece(L, groups[count > 1 ? 1 : 0]);
        lua_gettable(L, 3);
    } else {
        lua_pushvalue(L, 3);
        const int n = push_captures(L, groups, count);
        lua_call(L, n, 1);
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        luaL_addlstring(&b, groups[0].data(), groups[0].size());
    } else if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) {
        luaL_addvalue(&b);
    } else {
        luaL_error(L, "re.gsub: the replacement gave a %s (a string or number was expected)", luaL_typename(L, -1));
    }
}

int re_gsub(lua_State* L) {
    size_t length = 0;
    const char* s = luaL_checklstring(L, 1, &length);
    const RE2& re = pattern_at(L, 2);
    const int kind = lua_type(L, 3);
    luaL_argexpected(L, kind == LUA_TNUMBER || kind == LUA_TSTRING || kind == LUA_TFUNCTION || kind == LUA_TTABLE, 3,
                     "string/function/table");
    const lua_Integer max = luaL_optinteger(L, 4, static_cast<lua_Integer>(length) + 1);
    re2::StringPiece groups[kMaxGroups];
    const int count = 1 + re.NumberOfCapturingGroups();
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    size_t at = 0;
    size_t last_end = SIZE_MAX;
    lua_Integer replaced = 0;
    while (replaced < max && at <= length && search(L, re, s, length, at, groups, count)) {
        const size_t start = static_cast<size_t>(groups[0].data() - s);
        luaL_addlstring(&b, s + at, start - at);
        at = start;
        if (!groups[0].empty() || start != last_end) {  // Lua 5.4: no empty match where the last one ended
            add_replacement(L, b, groups, count);
            ++replaced;
            at = last_end = start + groups[0].size();
            if (!groups[0].empty()) continue;
        }
        const size_t next = step_past_empty(s, length, at);
        luaL_addlstring(&b, s + at, std::min(next, length) - at);
        at = next;
    }
    if (at < length) luaL_addlstring(&b, s + at, length - at);
    luaL_pushresult(&b);
    lua_pushinteger(L, replaced);
    return 2;
}

}  // namespace

void open_regex(lua_State* L) {
    const luaL_Reg functions[] = {{"test", re_test},     {"match", re_match}, {"find", re_find},
                                  {"gmatch", re_gmatch}, {"gsub", re_gsub},   {nullptr, nullptr}};
    luaL_newlib(L, functions);
    lua_setglobal(L, "re");
}

}  // namespace junction::core::flows::script
