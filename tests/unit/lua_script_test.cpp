// The script shape's Lua sandbox on its own: records in and out as tables, what the sandbox
// leaves out, and the budget, deadline and memory cap failing runaway code record by record.
#include <doctest/doctest.h>

#include <junction/core/flows/lua_script.hpp>

#include <rapidjson/document.h>

#include <string>
#include <vector>

using namespace junction::core::flows;
using namespace std::chrono_literals;

namespace {

rapidjson::Document doc(const std::string& json) {
    rapidjson::Document d;
    d.Parse(json.c_str());
    REQUIRE_MESSAGE(!d.HasParseError(), json);
    return d;
}

// What the script returns for `record`, each as compact JSON.
std::vector<std::string> run_on(LuaScript& script, const std::string& record) {
    Batch batch;
    std::vector<Json> out;
    const auto in = doc(record);
    script.run(in, out, batch.allocator());
    std::vector<std::string> texts;
    for (const auto& v : out) texts.push_back(to_json(v));
    return texts;
}

std::vector<std::string> run_once(const std::string& source, const std::string& record, ScriptLimits limits = {}) {
    LuaScript script(source, limits);
    return run_on(script, record);
}

// The same JSON, whatever the order of object members.
bool same_json(const std::string& a, const std::string& b) { return doc(a) == doc(b); }

std::string failure(LuaScript& script, const std::string& record) {
    try {
        run_on(script, record);
    } catch (const ScriptError& e) {
        return e.what();
    }
    return "(no failure)";
}

std::string failure_once(const std::string& source, const std::string& record = "{}", ScriptLimits limits = {}) {
    LuaScript script(source, limits);
    return failure(script, record);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

const std::string kOrder = R"({"id": 820982911946154508, "email": "jon@example.com", "total_price": "199.65",
    "currency": "EUR", "taxes_included": false, "discount": null, "tags": [], "note_attributes": {},
    "customer": {"id": 115310627314723954, "first_name": "Jon", "last_name": "Snow"},
    "line_items": [{"sku": "IPOD-342-N", "quantity": 1, "price": "199.00"}, {"sku": "CASE-1", "quantity": 2, "price": 0.325}]})";

}  // namespace

TEST_CASE("script: a record in as a table, new records out, JSON types kept") {
    const auto out = run_once(R"(
        local lines = array()
        for _, l in ipairs(record.line_items) do
            lines[#lines + 1] = {sku = l.sku, qty = l.quantity, price = tonumber(l.price)}
        end
        return {externalId = "SHOP-" .. record.id, email = string.lower(record.email),
                name = record.customer.first_name .. " " .. record.customer.last_name,
                total = tonumber(record.total_price), tax = record.taxes_included, discount = record.discount,
                tags = record.tags, attributes = record.note_attributes, lines = lines, none = array()})",
                              kOrder);
    REQUIRE(out.size() == 1);
    CHECK(same_json(out[0], R"({"externalId": "SHOP-820982911946154508", "email": "jon@example.com",
        "name": "Jon Snow", "total": 199.65, "tax": false, "discount": null, "tags": [], "attributes": {},
        "lines": [{"sku": "IPOD-342-N", "qty": 1, "price": 199.0}, {"sku": "CASE-1", "qty": 2, "price": 0.325}],
        "none": []})"));
    // The record itself, changed in place, goes on whole: integers stay integers.
    const auto same = run_once("record.seen = true; record.customer.first_name = nil; return record", kOrder);
    REQUIRE(same.size() == 1);
    auto expected = doc(kOrder);
    expected.AddMember("seen", true, expected.GetAllocator());
    expected["customer"].RemoveMember("first_name");
    CHECK(doc(same[0]) == expected);
    CHECK(contains(same[0], R"("id":820982911946154508)"));
}

TEST_CASE("script: nil drops the record, several values are several records, no return is an error") {
    CHECK(run_once("if record.skip then return nil end return record", R"({"skip": true})").empty());
    const auto lines = run_once("return table.unpack(record.line_items)", kOrder);
    REQUIRE(lines.size() == 2);
    CHECK(same_json(lines[1], R"({"sku": "CASE-1", "quantity": 2, "price": 0.325})"));
    CHECK(run_once("return 1, 'two', {3}", "{}") == std::vector<std::string>{"1", "\"two\"", "[3]"});
    CHECK(contains(failure_once("record.x = 1"), "returned nothing: end it with `return record`"));
    // Globals live for the run: a counter across records.
    LuaScript counter("n = (n or 0) + 1; return {n = n}", {});
    CHECK(run_on(counter, "{}") == std::vector<std::string>{R"({"n":1})"});
    CHECK(run_on(counter, "{}") == std::vector<std::string>{R"({"n":2})"});
}

TEST_CASE("script: errors name the line; values JSON cannot hold are refused with where they are") {
    CHECK(failure_once("local a = 1\nreturn record.customer.name", "{}") ==
          "script:2: attempt to index a nil value (field 'customer')");
    CHECK(failure_once("error('no currency for ' .. record.id)", R"({"id": 7})") == "script:1: no currency for 7");
    CHECK(failure_once("error({code = 1})") == "raised an error that is not a string (a table)");
    CHECK(failure_once("return {a = {b = {print = type}}}") ==
          "the script returned a function, which JSON cannot hold at /a/b/print");
    CHECK(failure_once("return {items = {1, 2, {x = 0/0}}}") ==
          "the script returned a number JSON cannot hold (-nan) at /items/2/x");
    CHECK(contains(failure_once("local t = {} t.self = t return t"), "nested deeper than 128 levels"));
    CHECK(contains(failure_once("return {1, 2, x = 3}"), "both numbered and named keys"));
    CHECK(contains(failure_once("return {[1] = 1, [3] = 3}"), "numbered with gaps"));
    CHECK(contains(failure_once("local a = array() a.x = 1 return a"), "an array (from the record, or made with array())"));
    try {
        LuaScript bad("return (", {});
        FAIL("compiled");
    } catch (const ScriptError& e) {
        CHECK(std::string(e.what()) == "the script does not compile: script:1: unexpected symbol near <eof>");
    }
}

TEST_CASE("script: the sandbox has no io, os, require, load, debug or print, and no Lua patterns") {
    for (const char* name : {"io", "os", "require", "package", "debug", "load", "loadfile", "dofile", "print", "warn",
                             "collectgarbage", "loadstring"}) {
        CAPTURE(name);
        CHECK(run_once(std::string("return {t = type(") + name + ")}", "{}") == std::vector<std::string>{R"({"t":"nil"})"});
    }
    CHECK(run_once("return {t = type(string.dump)}", "{}") == std::vector<std::string>{R"({"t":"nil"})"});
    CHECK(contains(failure_once("setmetatable({}, {__gc = function() while true do end end})"), "__gc is not available"));
    CHECK(contains(failure_once("return record.s:match('(%d+)')", R"({"s": "a1"})"),
                   "string.match is not available in scripts: Lua patterns can take exponential time; use re.match"));
    CHECK(contains(failure_once("return string.gsub('a', 'a', 'b')"), "use re.gsub"));
    CHECK(contains(failure_once("return string.find('a.b', '.')"), "string.find takes plain text here"));
    CHECK(run_once("return {string.find('a.b.c', '.b', 1, true)}", "{}") == std::vector<std::string>{"[2,3]"});
    CHECK(run_once("return {('order-42'):find('42')}", "{}") == std::vector<std::string>{"[7,8]"});
    // A string's metatable is the script's own; the array marker cannot be taken or changed.
    CHECK(run_once("return {getmetatable(array())}", "{}") == std::vector<std::string>{R"(["array"])"});
    CHECK(contains(failure_once("setmetatable(record.tags, {})", kOrder), "cannot change a protected metatable"));
    // Bytecode cannot come in: only text compiles.
    try {
        LuaScript bytecode(std::string("\x1bLua\x54\x00", 6), {});
        FAIL("compiled");
    } catch (const ScriptError& e) {
        CHECK(contains(e.what(), "does not compile"));
    }
}

TEST_CASE("script: re gives RE2 patterns for match, find, gmatch, gsub and test") {
    const auto dates = run_once(R"lua(local y, m, d = re.match(record.at, "(\\d{4})-(\\d\\d)-(\\d\\d)")
        return {y = y, m = m, d = d, whole = re.match(record.at, "\\d+"), none = re.match("x", "\\d") == nil})lua",
                                R"({"at": "2026-12-05T10:00:00Z"})");
    REQUIRE(dates.size() == 1);
    CHECK(same_json(dates[0], R"({"y":"2026","m":"12","d":"05","whole":"2026","none":true})"));
    CHECK(run_once(R"lua(return {re.find("order 42 of 7", "(\\d+)")})lua", "{}") ==
          std::vector<std::string>{R"([7,8,"42"])"});
    CHECK(run_once(R"lua(local out = array()
        for w in re.gmatch("a1 b22 c333", "[a-z](\\d+)") do out[#out + 1] = w end return out)lua",
                   "{}") == std::vector<std::string>{R"(["1","22","333"])"});
    CHECK(run_once(R"lua(return {re.gsub("2026-12-05", "(\\d+)-(\\d+)-(\\d+)", "\\3.\\2.\\1")})lua", "{}") ==
          std::vector<std::string>{R"(["05.12.2026",1])"});
    CHECK(run_once(R"lua(return {re.gsub("a-b-c", "-", function() return "+" end, 1)})lua", "{}") ==
          std::vector<std::string>{R"(["a+b-c",1])"});
    CHECK(run_once(R"lua(return {re.gsub("GB FR", "[A-Z]+", {GB = "United Kingdom"})})lua", "{}") ==
          std::vector<std::string>{R"(["United Kingdom FR",2])"});
    CHECK(run_once(R"lua(return {(re.gsub("h\u{e9}llo", "", "."))})lua", "{}") ==
          std::vector<std::string>{"[\".h.\u00e9.l.l.o.\"]"});
    CHECK(run_once(R"lua(return {re.test("abc", "^a"), re.test("abc", "^b")})lua", "{}") ==
          std::vector<std::string>{"[true,false]"});
    CHECK(contains(failure_once(R"lua(return re.match("a", "(a"))lua"), "re: the pattern (a missing )"));
    CHECK(contains(failure_once(R"lua(return re.match("a", "(a)\\1"))lua"), "re: the pattern"));
}

TEST_CASE("script: the instruction budget stops a loop, even one that catches its own errors") {
    ScriptLimits limits;
    limits.max_instructions = 100'000;
    LuaScript script("if record.loop then while true do end end return record", limits);
    CHECK(failure(script, R"({"loop": true})") ==
          "the script ran more than 100000 Lua instructions on this record (max_instructions)");
    // The next record starts with a whole budget.
    CHECK(run_on(script, R"({"id": 2})") == std::vector<std::string>{R"({"id":2})"});

    for (const char* runaway : {"while true do pcall(function() while true do end end) end",
                                "while true do local ok = pcall(error, 'x') end",
                                "local f f = function() return pcall(f) end while true do f() end",
                                "while true do coroutine.wrap(function() while true do end end)() end",
                                "while true do pcall(coroutine.wrap(function() while true do end end)) end"}) {
        CAPTURE(runaway);
        CHECK(contains(failure_once(runaway, "{}", limits), "(max_instructions)"));
    }
    // Work inside one C call counts too: a regex over a long string, again and again.
    CHECK(contains(failure_once("local s = string.rep('a', 1000000) while true do re.test(s, 'b') end", "{}", limits),
                   "(max_instructions)"));
}

TEST_CASE("script: the deadline stops what the budget allows but the clock does not") {
    ScriptLimits limits;
    limits.max_instructions = 1'000'000'000;
    limits.timeout = 100ms;
    LuaScript script("if record.slow then local x = 0 while true do x = x + 1 end end return record", limits);
    CHECK(failure(script, R"({"slow": true})") == "the script took longer than 100 ms on this record (timeout_ms)");
    CHECK(run_on(script, R"({"id": 3})") == std::vector<std::string>{R"({"id":3})"});
}

TEST_CASE("script: the memory cap fails the record that reaches it, and the next record has its memory back") {
    ScriptLimits limits;
    limits.max_memory = size_t{8} << 20;
    limits.max_instructions = 1'000'000'000;
    limits.timeout = 10s;
    LuaScript script(R"(if record.grow == "table" then local t = {} for i = 1, 1e9 do t[i] = i end end
                        if record.grow == "string" then local s = "x" while true do s = s .. s end end
                        if record.grow == "kept" then kept = kept or {} for i = 1, 1e9 do kept[#kept + 1] = i end end
                        return {id = record.id})",
                     limits);
    CHECK(failure(script, R"({"grow": "table"})") == "the script used more than 8 MB of memory (max_memory_mb)");
    CHECK(failure(script, R"({"grow": "string"})") == "the script used more than 8 MB of memory (max_memory_mb)");
    CHECK(run_on(script, R"({"id": 4})") == std::vector<std::string>{R"({"id":4})"});
    CHECK(script.memory_used() < (size_t{1} << 20));
    // A table in a global is the record's own: the next record starts without it.
    CHECK(failure(script, R"({"grow": "kept"})") == "the script used more than 8 MB of memory (max_memory_mb)");
    CHECK(run_on(script, R"({"id": 5})") == std::vector<std::string>{R"({"id":5})"});
    // An answer larger than the cap (one table many times over) is refused while it is written.
    LuaScript wide("local t = {} for i = 1, 100 do t[i] = string.rep('x', 60000) end local all = array() "
                   "for i = 1, 200 do all[i] = t end return {all = all}",
                   limits);
    CHECK(contains(failure(wide, "{}"), "records larger than 8 MB together (max_memory_mb)"));
    // So is one table returned many times as separate records: one budget for them all.
    LuaScript many("local t = {} for i = 1, 50 do t[i] = string.rep('x', 60000) end local all = {} "
                   "for i = 1, 4 do all[i] = t end return table.unpack(all)",
                   limits);
    CHECK(contains(failure(many, "{}"), "records larger than 8 MB together (max_memory_mb)"));
    CHECK(contains(failure_once("local all = {} for i = 1, 10001 do all[i] = i end return table.unpack(all)"),
                   "the script returned 10001 values; at most 10000 records come from one record"));
}

TEST_CASE("script: log lines go to the run log, a bounded number per run") {
    ScriptLimits limits;
    limits.max_log_lines = 3;
    LuaScript script("log('order', record.id, 'has', #record.lines, 'lines', nil, true) return nil", limits);
    std::vector<std::string> lines;
    script.set_log([&](std::string_view line) { lines.emplace_back(line); });
    for (int i = 0; i < 5; ++i) run_on(script, R"({"id": 9, "lines": [1, 2]})");
    CHECK(lines == std::vector<std::string>{"order 9 has 2 lines nil true", "order 9 has 2 lines nil true",
                                            "order 9 has 2 lines nil true",
                                            "(the script's further log lines in this run are dropped)"});
}

TEST_CASE("script: a record at the depth cap goes in and out") {
    std::string deep;
    for (int i = 0; i < 127; ++i) deep += R"({"a":)";
    deep += "1";
    for (int i = 0; i < 127; ++i) deep += "}";
    const auto out = run_once("return record", deep);
    REQUIRE(out.size() == 1);
    CHECK(out[0] == deep);
}

TEST_CASE("script: the examples of docs/flows.md do what the docs say") {
    const std::string sales_order = R"lua(if record.cancelled_at ~= null then return nil end
local lines = array()
for _, l in ipairs(record.line_items) do
  lines[#lines + 1] = {itemId = l.sku, quantity = l.quantity, rate = tonumber(l.price)}
end
local first, last = re.match(record.customer.name or '', [[^(\S+)\s+(.*)$]])
return {externalId = 'SHOP-' .. record.id, firstName = first, lastName = last,
        tranDate = record.created_at:sub(1, 10), item = lines})lua";
    const auto out = run_once(sales_order, R"({"id": 1001, "cancelled_at": null, "created_at": "2026-03-01T10:00:00Z",
        "customer": {"name": "Ada King Lovelace"}, "line_items": [{"sku": "A", "quantity": 2, "price": "9.50"}]})");
    REQUIRE(out.size() == 1);
    CHECK(same_json(out[0], R"({"externalId": "SHOP-1001", "firstName": "Ada", "lastName": "King Lovelace",
        "tranDate": "2026-03-01", "item": [{"itemId": "A", "quantity": 2, "rate": 9.5}]})"));
    CHECK(run_once(sales_order, R"({"cancelled_at": "2026-03-02T00:00:00Z"})").empty());

    const auto lines = run_once(R"lua(local out = {}
for i, l in ipairs(record.line_items) do out[i] = {order = record.id, sku = l.sku, qty = l.quantity} end
return table.unpack(out))lua",
                                R"({"id": 7, "line_items": [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 3}]})");
    REQUIRE(lines.size() == 2);
    CHECK(same_json(lines[1], R"({"order": 7, "sku": "B", "qty": 3})"));
}

TEST_CASE("script: what a review found to escape the budget is refused or charged") {
    ScriptLimits limits;
    limits.max_instructions = 1'000'000;
    limits.timeout = 2000ms;
    // Handlers and finalizers would run with the budget hook off.
    CHECK(run_once("return {t = type(xpcall)}", "{}") == std::vector<std::string>{R"({"t":"nil"})"});
    CHECK(contains(failure_once(R"lua(local mt = setmetatable({}, {__index = function(m, k)
        if k == "__gc" then rawset(m, "__gc", function() while true do end end) end end})
        setmetatable({}, mt) error("x"))lua", "{}", limits), "script:3: x"));
    // Loops inside one C call.
    CHECK(contains(failure_once("return {n = #string.rep('', math.maxinteger)}", "{}", limits), "(max_instructions)"));
    CHECK(run_once("return {t = type(table.move)}", "{}") == std::vector<std::string>{R"({"t":"nil"})"});
    CHECK(contains(failure_once("table.remove(setmetatable({}, {__len = function() return math.maxinteger end}), 1)",
                                "{}", limits),
                   "table functions take plain tables"));
    CHECK(run_once("local t = {3, 1, 2} table.sort(t) table.insert(t, 4) return t", "{}") ==
          std::vector<std::string>{"[1,2,3,4]"});
    CHECK(run_once("local t = array() table.insert(t, 'a') return {table.concat(t, ','), table.unpack(t)}", "{}") ==
          std::vector<std::string>{R"(["a","a"])"});
    // Patterns: a callback compiling many patterns cannot free the one gsub is using.
    CHECK(contains(failure_once(R"lua(return {r = re.gsub(string.rep("ab", 50), "(a)(b)", function(a, b)
        for i = 1, 130 do re.test("x", "A" .. i) end return b .. a end)})lua", "{}", limits),
                   "different patterns a script may use in a run"));
    CHECK(contains(failure_once("return {re.test('x', string.rep('(?:ab)', 1000))}", "{}", limits),
                   "a pattern of more than 4096 bytes"));
}

TEST_CASE("script: only scalar globals live from one record to the next, and the libraries are read-only") {
    LuaScript script(R"(n = (n or 0) + 1
        seen = seen or {}
        seen[#seen + 1] = n
        if record.step == "write string" then string.extra = 1 end
        if record.step == "rawset string" then rawset(string, "extra", 1) end
        if record.step == "rawset _ENV" then rawset(_ENV, 1.5, {}) end
        if record.step == "too many" then for i = 1, 1001 do _ENV["g" .. i] = i end end
        return {n = n, seen = #seen, g = _G == _ENV, meta = getmetatable(""), env = getmetatable(_ENV),
                extra = string.extra or null, text = tostring(null), name = name or null})",
                     ScriptLimits{});
    CHECK(same_json(run_on(script, "{}")[0],
                    R"({"n": 1, "seen": 1, "g": true, "meta": "string", "env": false, "extra": null, "text": "null", "name": null})"));
    CHECK(contains(run_on(script, "{}")[0], R"("seen":1)"));  // the table went with its record; n stayed
    CHECK(contains(run_on(script, "{}")[0], R"("n":3)"));
    CHECK(contains(failure(script, R"({"step": "write string"})"), "the libraries are read-only in scripts"));
    CHECK(contains(failure(script, R"({"step": "rawset string"})"), "the libraries are read-only in scripts"));
    CHECK(contains(run_on(script, R"({"step": "rawset _ENV"})")[0], R"("seen":1)"));
    CHECK(contains(failure(script, R"({"step": "too many"})"), "keeps at most 1000 globals from one record to the next"));
    CHECK(contains(run_on(script, "{}")[0], R"("n":8)"));  // the failed records counted too
    // Strings still have their methods.
    CHECK(run_once("return {s = ('ab'):upper() .. string.lower('C')}", "{}") == std::vector<std::string>{R"({"s":"ABc"})"});
}

TEST_CASE("script: no address reaches what a script writes") {
    std::vector<std::string> lines;
    LuaScript script(R"(log(null, {}, print, coroutine.create(function() end))
        return {a = tostring({}), b = tostring(null), c = string.format("%s|%s|%5.1f", {}, null, 1.25),
                d = tostring(setmetatable({}, {__tostring = function() return "mine" end}))})",
                     ScriptLimits{});
    script.set_log([&](std::string_view line) { lines.emplace_back(line); });
    CHECK(same_json(run_on(script, "{}")[0], R"({"a": "table", "b": "null", "c": "table|null|  1.2", "d": "mine"})"));
    CHECK(lines == std::vector<std::string>{"null table nil thread"});
    CHECK(contains(failure_once("return {string.format('%p', {})}"), "%p is not available in scripts"));
}

TEST_CASE("script: tables JSON cannot hold, and array() on a table with a metatable, say what is wrong") {
    CHECK(contains(failure_once("return {a = {[true] = 1}}"), "a table with a boolean key, which JSON cannot hold at /a"));
    CHECK(contains(failure_once("return {a = {[1.5] = 1}}"), "a table with a fractional number key"));
    CHECK(contains(failure_once("return array(setmetatable({}, {}))"), "array(t): t has a metatable of its own already"));
    CHECK(run_once("local t = array() return array(t)", "{}") == std::vector<std::string>{"[]"});
}

TEST_CASE("script: re.gsub and re.gmatch skip an empty match where the last match ended, as Lua 5.4 does") {
    CHECK(run_once(R"(return {re.gsub("abc", [[\w*]], "-")})", "{}") == std::vector<std::string>{R"(["-",1])"});
    CHECK(run_once(R"(return {re.gsub("a,b", [[\w*]], "x")})", "{}") == std::vector<std::string>{R"(["x,x",2])"});
    CHECK(run_once(R"(return {re.gsub("", "x*", "-")})", "{}") == std::vector<std::string>{R"(["-",1])"});
    CHECK(run_once(R"(return {re.gsub("ab", "x*", "-")})", "{}") == std::vector<std::string>{R"(["-a-b-",3])"});
    CHECK(run_once(R"(local t = array() for w in re.gmatch("a,b", [[\w*]]) do t[#t + 1] = w end return t)", "{}") ==
          std::vector<std::string>{R"(["a","b"])"});
    CHECK(run_once(R"(local t = array() for w in re.gmatch("ab", "x*") do t[#t + 1] = w end return {#t})", "{}") ==
          std::vector<std::string>{"[3]"});
}

TEST_CASE("script: work inside one instruction is charged: large allocations and long strings") {
    ScriptLimits limits;
    limits.max_instructions = 1'000'000;
    limits.timeout = 60000ms;
    // 100 concatenations of 2 MB: a few hundred instructions, 12.5 million charged.
    CHECK(contains(failure_once("local s = string.rep('x', 2^20) for i = 1, 100 do local t = s .. s end return {}", "{}",
                                limits),
                   "(max_instructions)"));
    // A refused allocation caught by pcall, the record returned before the hook fires: still failed.
    CHECK(contains(failure_once("local ok = pcall(function() local s = string.rep('x', 2^20) "
                                "for i = 1, 1e6 do local t = s .. s end end) return {ok = ok}",
                                "{}", limits),
                   "(max_instructions)"));
    // Walks of a long string that allocate nothing.
    for (const char* call : {"s:byte(-1)", "utf8.len(s)", "s:find('y', 1, true)", "utf8.offset(s, -1)"}) {
        CHECK_MESSAGE(contains(failure_once(std::string("local s = string.rep('x', 2^20) for i = 1, 100 do local v = ") +
                                                call + " end return {}",
                                            "{}", limits),
                               "(max_instructions)"),
                      call);
    }
}

TEST_CASE("script: a second review's escapes are refused or charged") {
    ScriptLimits limits;
    limits.max_instructions = 200'000;
    limits.timeout = 60000ms;
    // A tree of coroutines, each starting more after the budget is spent: none starts after it.
    CHECK(contains(failure_once(R"lua(local function node(d)
          if d == 0 then while true do end end
          while true do coroutine.resume(coroutine.create(node), d - 1) end
        end
        coroutine.resume(coroutine.create(node), 4) return record)lua",
                                "{}", limits),
                   "(max_instructions)"));
    CHECK(contains(failure_once(R"lua(local function node(d)
          if d == 0 then while true do end end
          while true do pcall(coroutine.wrap(node), d - 1) end
        end
        pcall(coroutine.wrap(node), 4) return record)lua",
                                "{}", limits),
                   "(max_instructions)"));
    // Coroutines still work.
    CHECK(run_once(R"lua(local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
        local co = coroutine.create(function(a) local b = coroutine.yield(a + 1) return b * 2 end)
        local _, x = coroutine.resume(co, 1) local _, y = coroutine.resume(co, 10)
        return {gen(), gen(), gen(), x, y})lua",
                   "{}") == std::vector<std::string>{"[1,2,3,2,20]"});
    // Sorting strings: their bytes are charged, and strings with \0 need a comparison function.
    CHECK(contains(failure_once("local s = string.rep('a', 4096) local t = {} for i = 1, 2000 do t[i] = s end "
                                "table.sort(t) return {}",
                                "{}", limits),
                   "(max_instructions)"));
    CHECK(contains(failure_once("table.sort({'b', 'a\\0x'}) return {}"), "item 2 is a string with a \\0 byte"));
    CHECK(run_once("local t = {'b', 'a\\0x'} table.sort(t, function(x, y) return x < y end) return {#t[1]}", "{}") ==
          std::vector<std::string>{"[3]"});
    // unpack is charged for the range it is asked for, not the table's length.
    CHECK(contains(failure_once("return {select('#', table.unpack({}, 1, 500000))}", "{}", limits), "(max_instructions)"));
    // The record the host builds is not charged to the script.
    const std::string big = R"({"body": ")" + std::string(4 << 20, 'x') + R"("})";
    CHECK(run_once("return {n = #record.body}", big, limits) == std::vector<std::string>{R"({"n":4194304})"});
    // math.randomseed() would answer with an address; with a seed it answers nothing.
    CHECK(contains(failure_once("return {math.randomseed()}"), "bad argument #1 to 'randomseed'"));
    CHECK(run_once("return {select('#', math.randomseed(7)), math.random(1, 1)}", "{}") ==
          std::vector<std::string>{"[0,1]"});
    // A kept string is short; a longer one stays a local's.
    CHECK(contains(failure_once("kept = string.rep('x', 5000) return {}"), "a string of at most 4096 bytes"));
    // A long string in a careful record still runs (every instruction checked).
    CHECK(run_once("local s = string.rep('\\0', 100000) local n = 0 for i = 1, 100 do if s < s .. 'x' then n = n + 1 end end "
                   "return {n}",
                   "{}") == std::vector<std::string>{"[100]"});
}
