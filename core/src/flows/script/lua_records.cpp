#include "lua_records.hpp"

#include "script_state.hpp"

#include <junction/core/flows/lua_script.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace junction::core::flows::script {

namespace {

// Pushes a scalar and returns true; returns false (pushing nothing) for an object or array.
bool push_scalar(lua_State* L, const Json& v) {
    switch (v.GetType()) {
        case rapidjson::kNullType: lua_pushlightuserdata(L, null_sentinel()); return true;
        case rapidjson::kFalseType: lua_pushboolean(L, 0); return true;
        case rapidjson::kTrueType: lua_pushboolean(L, 1); return true;
        case rapidjson::kStringType: lua_pushlstring(L, v.GetString(), v.GetStringLength()); return true;
        case rapidjson::kNumberType:
            if (v.IsInt64()) lua_pushinteger(L, v.GetInt64());
            else lua_pushnumber(L, v.GetDouble());  // a fraction, or an integer past int64
            return true;
        default: return false;
    }
}

}  // namespace

void push_record(lua_State* L, const Json& record) {
    if (push_scalar(L, record)) return;
    // Trivially destructible on purpose: a Lua error here unwinds with longjmp.
    struct Frame {
        const Json* value;
        rapidjson::SizeType next;
    };
    Frame frames[kMaxDepth];
    int depth = 0;
    const int array_metatable = ScriptState::of(L).array_metatable;
    auto open = [&](const Json& v) {
        if (depth == kMaxDepth) luaL_error(L, "the record nests deeper than %d levels", kMaxDepth);
        luaL_checkstack(L, 4, "the record nests too deep");
        if (v.IsArray()) {
            lua_createtable(L, static_cast<int>(v.Size()), 0);
            lua_rawgeti(L, LUA_REGISTRYINDEX, array_metatable);
            lua_setmetatable(L, -2);
        } else {
            lua_createtable(L, 0, static_cast<int>(v.MemberCount()));
        }
        frames[depth++] = Frame{&v, 0};
    };
    open(record);
    while (depth > 0) {
        Frame& f = frames[depth - 1];
        const bool array = f.value->IsArray();
        if (f.next == (array ? f.value->Size() : f.value->MemberCount())) {
            // The table at the top is complete: set it into its parent.
            if (--depth == 0) break;
            if (frames[depth - 1].value->IsArray()) lua_rawseti(L, -2, frames[depth - 1].next);
            else lua_rawset(L, -3);
            continue;
        }
        if (array) {
            const Json& item = (*f.value)[f.next++];
            if (push_scalar(L, item)) lua_rawseti(L, -2, f.next);
            else open(item);
        } else {
            const auto& member = f.value->MemberBegin()[f.next++];
            lua_pushlstring(L, member.name.GetString(), member.name.GetStringLength());
            if (push_scalar(L, member.value)) lua_rawset(L, -3);
            else open(member.value);
        }
    }
}

namespace {

class RecordWriter {
public:
    RecordWriter(lua_State* L, Allocator& allocator, size_t& bytes_left)
        : L_(L), allocator_(allocator), bytes_left_(bytes_left) {}

    Json write(int index) {
        Json scalar;
        if (lua_type(L_, index) != LUA_TTABLE) {
            this->scalar(index, scalar);
            return scalar;
        }
        lua_pushvalue(L_, index);  // every table being written sits on the top part of the stack
        open(lua_gettop(L_));
        Json result;
        while (!frames_.empty()) {
            tick();
            Frame& f = frames_.back();
            if (f.array) {
                if (f.next > f.size) {
                    close(result);
                    continue;
                }
                lua_rawgeti(L_, f.table, f.next);
                if (lua_type(L_, -1) == LUA_TTABLE) {
                    open(lua_gettop(L_));
                    continue;
                }
                Json v;
                this->scalar(-1, v);
                f.value.PushBack(v, allocator_);
                lua_pop(L_, 1);
                ++f.next;
            } else {
                if (!lua_next(L_, f.table)) {
                    close(result);
                    continue;
                }
                if (lua_type(L_, -1) == LUA_TTABLE) {
                    open(lua_gettop(L_));
                    continue;
                }
                Json v;
                this->scalar(-1, v);
                f.value.AddMember(key(-2), v, allocator_);
                lua_pop(L_, 1);
            }
        }
        return result;
    }

private:
    struct Frame {
        int table;  // absolute stack index; an object's current key sits just above it
        bool array;
        lua_Integer next;
        lua_Integer size;
        Json value;
    };

    [[noreturn]] void fail(const std::string& why) {
        std::string at;
        for (const auto& f : frames_) {
            if (f.array) at += "/" + std::to_string(f.next - 1);
            else if (lua_type(L_, f.table + 1) == LUA_TSTRING) at += "/" + std::string(lua_tostring(L_, f.table + 1));
        }
        throw ScriptError("the script returned " + why + (at.empty() ? std::string() : " at " + at));
    }

    // Every result of one record shares the bytes (a table returned twice counts twice).
    void charge(size_t bytes) {
        if (bytes > bytes_left_)
            fail("records larger than " + std::to_string(ScriptState::of(L_).memory_limit >> 20) +
                 " MB together (max_memory_mb)");
        bytes_left_ -= bytes;
    }

    // The record's deadline holds here too: walking a table costs its capacity, not its
    // count, and a table can be reached many times.
    void tick() {
        if (++steps_ % 1024 != 0) return;
        const auto& state = ScriptState::of(L_);
        if (std::chrono::steady_clock::now() > state.deadline)
            fail("more than it could write as JSON within " + std::to_string(state.timeout.count()) +
                 " ms (timeout_ms)");
    }

    Json key(int index) {
        size_t n = 0;
        const char* s = lua_tolstring(L_, index, &n);  // a string already: no conversion
        charge(n + 16);
        return Json(s, static_cast<rapidjson::SizeType>(n), allocator_);
    }

    void scalar(int index, Json& out) {
        charge(16);
        switch (lua_type(L_, index)) {
            case LUA_TNIL: out.SetNull(); return;  // only a top-level nil reaches here
            case LUA_TBOOLEAN: out.SetBool(lua_toboolean(L_, index) != 0); return;
            case LUA_TNUMBER:
                if (lua_isinteger(L_, index)) {
                    out.SetInt64(lua_tointeger(L_, index));
                } else {
                    const double d = lua_tonumber(L_, index);
                    if (!std::isfinite(d)) fail("a number JSON cannot hold (" + std::to_string(d) + ")");
                    out.SetDouble(d);
                }
                return;
            case LUA_TSTRING: {
                size_t n = 0;
                const char* s = lua_tolstring(L_, index, &n);
                charge(n);
                out.SetString(s, static_cast<rapidjson::SizeType>(n), allocator_);
                return;
            }
            case LUA_TLIGHTUSERDATA:
                if (lua_touserdata(L_, index) == null_sentinel()) {
                    out.SetNull();
                    return;
                }
                break;
            default: break;
        }
        fail(std::string("a ") + lua_typename(L_, lua_type(L_, index)) + ", which JSON cannot hold");
    }

    // Reads the table's keys once to tell an array from an object.
    void classify(int table, bool& array, lua_Integer& size) {
        bool marked = false;
        if (lua_getmetatable(L_, table)) {
            lua_rawgeti(L_, LUA_REGISTRYINDEX, ScriptState::of(L_).array_metatable);
            marked = lua_rawequal(L_, -1, -2) != 0;
            lua_pop(L_, 2);
        }
        lua_Integer count = 0, max = 0;
        bool all_numbered = true, all_named = true;
        lua_pushnil(L_);
        while (lua_next(L_, table)) {
            tick();
            lua_pop(L_, 1);
            ++count;
            const int type = lua_type(L_, -1);
            if (type == LUA_TSTRING) {
                all_numbered = false;
            } else if (lua_isinteger(L_, -1)) {
                all_named = false;
                if (lua_tointeger(L_, -1) >= 1) max = std::max(max, lua_tointeger(L_, -1));
                else all_numbered = false;
            } else {
                lua_pop(L_, 1);  // the key: fail() reads the path from the frames
                fail(std::string("a table with a ") + (type == LUA_TNUMBER ? "fractional number" : lua_typename(L_, type)) +
                     " key, which JSON cannot hold");
            }
        }
        if (count == 0 || (all_numbered && max == count)) {
            array = marked || count > 0;
            size = count;
            return;
        }
        if (marked) fail("an array (from the record, or made with array()) with keys other than 1.." + std::to_string(count));
        if (!all_named)
            fail(all_numbered ? "a table numbered with gaps (keys 1.." + std::to_string(count) + " expected)"
                              : "a table with both numbered and named keys, which JSON cannot hold");
        array = false;
        size = count;
    }

    void open(int table) {
        if (frames_.size() == static_cast<size_t>(kMaxDepth))
            fail("tables nested deeper than " + std::to_string(kMaxDepth) + " levels (does a table contain itself?)");
        if (!lua_checkstack(L_, 4)) fail("tables nested too deep for the stack");
        bool array = false;
        lua_Integer size = 0;
        classify(table, array, size);
        charge(16);
        Frame f{table, array, 1, size, Json(array ? rapidjson::kArrayType : rapidjson::kObjectType)};
        if (array) f.value.Reserve(static_cast<rapidjson::SizeType>(size), allocator_);
        frames_.push_back(std::move(f));
        if (!array) lua_pushnil(L_);  // the first key
    }

    void close(Json& result) {
        Json value = std::move(frames_.back().value);
        const int table = frames_.back().table;
        frames_.pop_back();
        lua_settop(L_, table - 1);  // leaves an object parent's key on top
        if (frames_.empty()) {
            result = std::move(value);
            return;
        }
        Frame& parent = frames_.back();
        if (parent.array) {
            parent.value.PushBack(value, allocator_);
            ++parent.next;
        } else {
            parent.value.AddMember(key(-1), value, allocator_);
        }
    }

    lua_State* L_;
    Allocator& allocator_;
    size_t& bytes_left_;
    uint64_t steps_ = 0;
    std::vector<Frame> frames_;
};

}  // namespace

Json to_record(lua_State* L, int index, Allocator& allocator, size_t& bytes_left) {
    const int top = lua_gettop(L);
    RecordWriter writer(L, allocator, bytes_left);
    try {
        Json out = writer.write(lua_absindex(L, index));
        lua_settop(L, top);
        return out;
    } catch (...) {
        lua_settop(L, top);
        throw;
    }
}

}  // namespace junction::core::flows::script
