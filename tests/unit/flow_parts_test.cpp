// The pieces of flows that need no store or plugin: conditions, field mappings and their
// transforms, cron schedules in time zones, cursor order.
#include <doctest/doctest.h>

#include <junction/core/common/error.hpp>
#include <junction/core/flows/condition.hpp>
#include <junction/core/flows/cron_schedule.hpp>
#include <junction/core/flows/field_mapping.hpp>
#include <junction/core/flows/time_values.hpp>

using namespace junction::core;
using namespace junction::core::flows;

namespace {

rapidjson::Document doc(const char* json) {
    rapidjson::Document d;
    d.Parse(json);
    REQUIRE(!d.HasParseError());
    return d;
}

bool matches(const char* condition, const char* record) {
    const auto c = doc(condition);
    Problems problems;
    auto parsed = Condition::parse(Spec(c, "/condition", problems));
    REQUIRE_MESSAGE(parsed, (problems.empty() ? "" : problems.front()));
    return parsed->matches(doc(record));
}

std::string map_one(const char* field, const char* record) {
    const auto f = doc(field);
    Problems problems;
    auto mapping = FieldMapping::parse(Spec(f, "/fields/0", problems));
    REQUIRE_MESSAGE(mapping, (problems.empty() ? "" : problems.front()));
    rapidjson::Document out(rapidjson::kObjectType);
    const auto in = doc(record);
    mapping->apply(in, out, out.GetAllocator());
    return to_json(out);
}

// The problems a field's spec has (empty when it parses).
std::string map_problems(const char* field) {
    const auto f = doc(field);
    Problems problems;
    auto mapping = FieldMapping::parse(Spec(f, "/fields/0", problems));
    std::string all;
    for (const auto& p : problems) all += p + "\n";
    if (mapping) CHECK(problems.empty());
    return all;
}

// One transform on one value: {"v": <value>} through [transform] to {"v": ...}.
std::string transformed(const std::string& transform, const std::string& value) {
    const std::string field = R"({"target": "/v", "source": "/v", "transforms": [)" + transform + "]}";
    const std::string record = R"({"v": )" + value + "}";
    return map_one(field.c_str(), record.c_str());
}

}  // namespace

TEST_CASE("map transforms on text: substring, replace, regex_extract, split, join, pad, counted in characters") {
    // substring: start (negative from the end), length or end; characters, not bytes.
    CHECK(transformed(R"({"op": "substring", "length": 10})", R"("2026-03-01T10:00:00+05:30")") == R"({"v":"2026-03-01"})");
    CHECK(transformed(R"({"op": "substring", "start": -6})", R"("2026-03-01T10:00:00+05:30")") == R"({"v":"+05:30"})");
    CHECK(transformed(R"({"op": "substring", "start": 1, "end": -1})", R"("[abc]")") == R"({"v":"abc"})");
    CHECK(transformed(R"({"op": "substring", "start": 1, "length": 2})", R"("Zürich")") == R"({"v":"ür"})");
    CHECK(transformed(R"({"op": "substring", "start": 50})", R"("short")") == R"({"v":""})");
    CHECK(transformed(R"({"op": "substring", "start": 3, "end": 1})", R"("abcdef")") == R"({"v":""})");
    CHECK(transformed(R"({"op": "substring", "length": 3})", "12345") == R"({"v":"123"})");
    CHECK(map_problems(R"({"target": "/v", "source": "/v", "transforms": [{"op": "substring", "length": 1, "end": 2}]})")
              .find("either length or end") != std::string::npos);

    // replace: every occurrence of plain text, or a pattern with \1 groups.
    CHECK(transformed(R"({"op": "replace", "find": "-", "with": ""})", R"("2026-03-01")") == R"({"v":"20260301"})");
    CHECK(transformed(R"({"op": "replace", "find": "aa", "with": "a"})", R"("aaaa")") == R"({"v":"aa"})");
    CHECK(transformed(R"({"op": "replace", "pattern": "(\\d{4})-(\\d{2})-(\\d{2})\\b", "with": "\\3.\\2.\\1"})",
                      R"("on 2026-03-01")") == R"({"v":"on 01.03.2026"})");
    CHECK(transformed(R"({"op": "replace", "pattern": "\\s+", "with": " "})", R"("a  b\t\nc")") == R"({"v":"a b c"})");
    CHECK(transformed(R"({"op": "replace", "pattern": "x*", "with": "-"})", R"("aüb")") == R"({"v":"-a-ü-b-"})");
    CHECK(transformed(R"({"op": "replace", "pattern": "x*", "with": "-"})", R"("xxa")") == R"({"v":"-a-"})");  // as RE2
    {  // split and join are bounded like replace
        const std::string commas(1'100'000, ',');  // 1.1M parts of 16 bytes: over 16 MiB
        CHECK_THROWS_WITH_AS(transformed(R"({"op": "split", "separator": ","})", "\"" + commas + "\""),
                             doctest::Contains("split: the result would be longer"), MapError);
    }
    CHECK(transformed(R"({"op": "replace", "pattern": "(b+)c?", "with": "<\\1\\0>"})", R"("abbcd")") == R"({"v":"a<bbbbc>d"})");
    {  // a result over a record's size fails the record, not the daemon
        const std::string many(200'000, 'a');
        CHECK_THROWS_WITH_AS(transformed(R"({"op": "replace", "find": "a", "with": ")" + std::string(100, 'b') + "\"}", "\"" + many + "\""),
                             doctest::Contains("the result would be longer than a record may be"), MapError);
        CHECK_THROWS_WITH_AS(transformed(R"({"op": "replace", "pattern": "a", "with": ")" + std::string(100, 'b') + "\"}", "\"" + many + "\""),
                             doctest::Contains("max-record-bytes"), MapError);
    }
    CHECK(map_problems(R"({"target": "/v", "source": "/v", "transforms": [{"op": "replace", "pattern": "(a)x", "with": "\\2"}]})")
              .find("is not a replacement for this pattern") != std::string::npos);
    CHECK(map_problems(R"({"target": "/v", "source": "/v", "transforms": [{"op": "replace", "pattern": "(?=a)b", "with": ""}]})")
              .find("RE2") != std::string::npos);
    CHECK(map_problems(R"({"target": "/v", "source": "/v", "transforms": [{"op": "replace", "with": ""}]})")
              .find("give find") != std::string::npos);

    // regex_extract: group 1 by default when there is one; no match leaves nothing.
    CHECK(transformed(R"({"op": "regex_extract", "pattern": "#(\\d+)\\b"})", R"("Order #1001 paid")") == R"({"v":"1001"})");
    CHECK(transformed(R"({"op": "regex_extract", "pattern": "[A-Z]{3}"})", R"("12.50 EUR")") == R"({"v":"EUR"})");
    CHECK(transformed(R"({"op": "regex_extract", "pattern": "#(\\d+)\\b"})", R"("no number")") == "{}");
    CHECK(map_one(R"({"target": "/v", "source": "/v", "transforms": [{"op": "regex_extract", "pattern": "#(\\d+)\\b"}, {"op": "default", "value": "none"}]})",
                  R"({"v": "x"})") == R"({"v":"none"})");
    CHECK_THROWS_WITH_AS(map_one(R"({"target": "/v", "source": "/v", "required": true, "transforms": [{"op": "regex_extract", "pattern": "#(\\d+)\\b"}]})",
                                 R"({"v": "x"})"),
                         "/v: the record has no value for it", MapError);
    CHECK(map_problems(R"({"target": "/v", "source": "/v", "transforms": [{"op": "regex_extract", "pattern": "(a)x", "group": 2}]})")
              .find("the pattern has 1 group(s)") != std::string::npos);

    // split and join, and the two together.
    CHECK(transformed(R"({"op": "split", "separator": ","})", R"("a,b,,c")") == R"({"v":["a","b","","c"]})");
    CHECK(transformed(R"({"op": "split", "separator": ",", "trim": true, "skip_empty": true})", R"(" a , b ,, ")") ==
          R"({"v":["a","b"]})");
    CHECK(transformed(R"({"op": "join", "separator": "; "})", R"(["a", 2, null, true])") == R"({"v":"a; 2; true"})");
    CHECK(map_one(R"({"target": "/v", "source": "/v", "transforms": [{"op": "split", "separator": " "}, {"op": "join", "separator": "-"}]})",
                  R"({"v": "one two"})") == R"({"v":"one-two"})");
    CHECK_THROWS_WITH_AS(transformed(R"({"op": "join"})", R"("text")"), "/v: join: the value is not a list", MapError);
    CHECK(map_problems(R"({"target": "/v", "source": "/v", "transforms": [{"op": "split", "separator": ""}]})")
              .find("separator: must not be empty") != std::string::npos);

    // pad to a length in characters, left by default.
    CHECK(transformed(R"({"op": "pad", "length": 6, "with": "0"})", "42") == R"({"v":"000042"})");
    CHECK(transformed(R"({"op": "pad", "length": 4, "side": "right", "with": "·"})", R"("ab")") == R"({"v":"ab··"})");
    CHECK(transformed(R"({"op": "pad", "length": 2})", R"("long")") == R"({"v":"long"})");
    CHECK(map_problems(R"({"target": "/v", "source": "/v", "transforms": [{"op": "pad", "length": 3, "with": "ab"}]})")
              .find("one character") != std::string::npos);

    // Text transforms leave nothing alone; an object is not text.
    CHECK(transformed(R"({"op": "substring", "length": 2})", "null") == R"({"v":null})");
    CHECK_THROWS_WITH_AS(transformed(R"({"op": "replace", "find": "a"})", R"({"a": 1})"), "/v: replace: the value is not text",
                         MapError);
    CHECK(map_problems(R"({"target": "/v", "source": "/v", "transforms": [{"op": "slice"}]})").find("regex_extract, split") !=
          std::string::npos);
}

TEST_CASE("map dates: keep_offset writes a date in the offset its text states, of either sign") {
    const char* day = R"({"op": "date", "to": "%Y-%m-%d %H:%M %Ez", "keep_offset": true})";
    CHECK(transformed(day, R"("2026-03-01T23:30:00+05:30")") == R"({"v":"2026-03-01 23:30 +05:30"})");
    CHECK(transformed(day, R"("2026-03-01T23:30:00-03:00")") == R"({"v":"2026-03-01 23:30 -03:00"})");
    CHECK(transformed(day, R"("2026-03-01T23:30:00-0930")") == R"({"v":"2026-03-01 23:30 -09:30"})");
    CHECK(transformed(day, R"("2026-03-01T23:30:00+14")") == R"({"v":"2026-03-01 23:30 +14:00"})");
    CHECK(transformed(day, R"("2026-03-01T23:30:00Z")") == R"({"v":"2026-03-01 23:30 +00:00"})");
    CHECK(transformed(day, R"("2026-03-01T23:30:00.250-00:00")") == R"({"v":"2026-03-01 23:30 +00:00"})");
    // The same instant without keep_offset is written in UTC (the next day here).
    CHECK(transformed(R"({"op": "date", "to": "%Y-%m-%d"})", R"("2026-03-01T23:30:00-03:00")") == R"({"v":"2026-03-02"})");
    CHECK(transformed(R"({"op": "date", "to": "%Y-%m-%d", "keep_offset": true})", R"("2026-03-01T23:30:00-03:00")") ==
          R"({"v":"2026-03-01"})");
    // Text with no offset was in from_time_zone, and stays there; a date alone has no offset.
    CHECK(transformed(R"({"op": "date", "to": "%H:%M %Ez", "keep_offset": true, "from_time_zone": "Europe/Paris"})",
                      R"("2026-07-01T10:00:00")") == R"({"v":"10:00 +02:00"})");
    CHECK(transformed(R"({"op": "date", "to": "%Y-%m-%d %Ez", "keep_offset": true})", R"("2026-01-05")") ==
          R"({"v":"2026-01-05 +00:00"})");
    CHECK(map_problems(R"({"target": "/v", "source": "/v", "transforms": [{"op": "date", "keep_offset": true, "time_zone": "UTC"}]})")
              .find("exclude each other") != std::string::npos);
    CHECK(stated_offset("2026-01-05") == std::nullopt);
    CHECK(stated_offset("10:00 -05") == -5 * 3600);
    CHECK(stated_offset("10:00+25:00") == std::nullopt);
}

TEST_CASE("map fields: a source of \"\" is the whole record, a target of \"\" merges into the top level") {
    CHECK(map_one(R"({"target": "/copy", "source": ""})", R"({"a": 1})") == R"({"copy":{"a":1}})");
    CHECK(map_one(R"({"target": "", "source": "/node"})", R"({"node": {"id": "gid://1", "name": "x"}, "cursor": "c"})") ==
          R"({"id":"gid://1","name":"x"})");
    CHECK(map_one(R"({"target": "", "source": ""})", R"({"a": 1, "b": [2]})") == R"({"a":1,"b":[2]})");
    CHECK_THROWS_WITH_AS(map_one(R"({"target": "", "source": "/n"})", R"({"n": 5})"),
                         "the record's top level (target \"\"): only an object can be merged into the record, not '5'",
                         MapError);
    // Fields after the merge add to it and replace what it brought.
    const auto fields = doc(R"([{"target": "", "source": "/node"}, {"target": "/name", "source": "/node/name", "transforms": [{"op": "upper"}]}])");
    Problems problems;
    rapidjson::Document out(rapidjson::kObjectType);
    const auto in = doc(R"({"node": {"id": 1, "name": "ada"}})");
    for (rapidjson::SizeType i = 0; i < fields.Size(); ++i) {
        auto m = FieldMapping::parse(Spec(fields[i], "/fields/" + std::to_string(i), problems));
        REQUIRE(m);
        m->apply(in, out, out.GetAllocator());
    }
    CHECK(to_json(out) == R"({"id":1,"name":"ADA"})");
}

TEST_CASE("conditions: comparisons, sets, presence, patterns and logic") {
    CHECK(matches(R"({"field": "/status", "op": "eq", "value": "paid"})", R"({"status": "paid"})"));
    CHECK(matches(R"({"field": "/n", "op": "eq", "value": 2})", R"({"n": 2.0})"));
    CHECK(matches(R"({"field": "/n", "op": "gt", "value": 10})", R"({"n": 11})"));
    CHECK_FALSE(matches(R"({"field": "/n", "op": "lt", "value": 10})", R"({"n": "abc"})"));
    CHECK(matches(R"({"field": "/at", "op": "lt", "value": "2026-01-01T12:00:00+02:00"})", R"({"at": "2026-01-01T10:30:00Z"})") == false);
    CHECK(matches(R"({"field": "/c", "op": "in", "value": ["EUR", "GBP"]})", R"({"c": "GBP"})"));
    CHECK(matches(R"({"field": "/x", "op": "exists", "value": false})", R"({"x": null})"));
    CHECK(matches(R"({"field": "/sku", "op": "regex", "value": "^SKU-0[0-9]+$"})", R"({"sku": "SKU-042"})"));
    CHECK(matches(R"({"and": [{"field": "/a", "op": "eq", "value": 1}, {"not": {"field": "/b", "op": "exists", "value": true}}]})",
                  R"({"a": 1})"));
    CHECK(matches(R"({"or": [{"field": "/a", "op": "eq", "value": 2}, {"field": "/a", "op": "ne", "value": 3}]})", R"({"a": 1})"));
    const auto bad = doc(R"({"field": "nope", "op": "like", "value": 1})");
    Problems problems;
    CHECK_FALSE(Condition::parse(Spec(bad, "/shapes/1/condition", problems)));
    REQUIRE(problems.size() == 1);
    CHECK(problems[0] == "at /shapes/1/condition/op: 'like' is not one of eq, ne, lt, le, gt, ge, in, exists, regex");
}

TEST_CASE("map fields: constants, transforms, dates in time zones, lists, and failures that name the field") {
    CHECK(map_one(R"({"target": "/id", "source": "/id", "transforms": [{"op": "to_string"}, {"op": "prefix", "value": "UK-"}]})",
                  R"({"id": 42})") == R"({"id":"UK-42"})");
    CHECK(map_one(R"({"target": "/a/b", "constant": true})", "{}") == R"({"a":{"b":true}})");
    CHECK(map_one(R"({"target": "/t", "source": "/p", "transforms": [{"op": "to_number"}, {"op": "multiply", "value": 1.2}, {"op": "round", "digits": 2}]})",
                  R"({"p": "10.005"})") == R"({"t":12.01})");
    CHECK(map_one(R"({"target": "/n", "source": "/first", "transforms": [{"op": "concat", "with": [{"source": "/last"}], "separator": " "}, {"op": "upper"}]})",
                  R"({"first": "ada", "last": "lovelace"})") == R"({"n":"ADA LOVELACE"})");
    CHECK(map_one(R"({"target": "/d", "source": "/at", "transforms": [{"op": "date", "to": "%Y-%m-%d %H:%M", "time_zone": "Europe/London"}]})",
                  R"({"at": "2026-07-01T23:30:00Z"})") == R"({"d":"2026-07-02 00:30"})");
    CHECK(map_one(R"({"target": "/c", "source": "/c", "transforms": [{"op": "lookup", "table": {"EUR": 1}, "default": 0}]})",
                  R"({"c": "USD"})") == R"({"c":0})");
    CHECK(map_one(R"({"target": "/x", "source": "/missing", "transforms": [{"op": "default", "value": "n/a"}]})", "{}") ==
          R"({"x":"n/a"})");
    CHECK(map_one(R"({"target": "/lines", "source": "/items", "each": [{"target": "/q", "source": "/qty", "transforms": [{"op": "to_number"}]}]})",
                  R"({"items": [{"qty": "2"}, {"qty": "3"}]})") == R"({"lines":[{"q":2},{"q":3}]})");
    CHECK(map_one(R"({"target": "/x", "source": "/missing"})", "{}") == "{}");
    CHECK_THROWS_WITH_AS(map_one(R"({"target": "/t", "source": "/p", "transforms": [{"op": "to_number"}]})", R"({"p": "ten"})"),
                         "/t: to_number: 'ten' is not a number", MapError);
    CHECK_THROWS_AS(map_one(R"({"target": "/d", "source": "/d", "transforms": [{"op": "date"}]})", R"({"d": "yesterday"})"), MapError);
}

TEST_CASE("time zones: names of the tz database only (cctz keeps every name it is asked to load)") {
    CHECK(known_time_zone("UTC"));
    CHECK(known_time_zone("Europe/London"));
    CHECK(known_time_zone("America/Argentina/Buenos_Aires"));
    CHECK_FALSE(known_time_zone(""));
    CHECK_FALSE(known_time_zone("Europe/Atlantis"));
    CHECK_FALSE(known_time_zone("../zoneinfo/UTC"));
    CHECK_FALSE(known_time_zone("/usr/share/zoneinfo/UTC"));
    CHECK_FALSE(known_time_zone("Europe/" + std::string(100000, 'x')));
    CHECK_THROWS_AS(CronSchedule::parse("* * * * *", "Europe/Atlantis"), Error);
    CHECK(CronSchedule::parse("* * * * *", "Europe/London").next_after(*parse_instant("2026-01-01T00:00:00Z")));
}

TEST_CASE("cron: fields, names, both day fields, time zones and DST") {
    auto utc = [](const char* text) { return *parse_instant(text); };
    const auto every15 = CronSchedule::parse("*/15 * * * *", "UTC");
    CHECK(every15.next_after(utc("2026-03-01T10:07:00Z")) == utc("2026-03-01T10:15:00Z"));
    const auto weekdays = CronSchedule::parse("0 6 * * mon-fri", "Europe/London");
    // Saturday 2026-03-07 -> Monday 09:00 06:00 London (GMT in March before the change).
    CHECK(weekdays.next_after(utc("2026-03-07T12:00:00Z")) == utc("2026-03-09T06:00:00Z"));
    // After the clocks go forward (29 March 2026), 06:00 London is 05:00 UTC.
    CHECK(weekdays.next_after(utc("2026-03-30T00:00:00Z")) == utc("2026-03-30T05:00:00Z"));
    // 01:30 does not exist in London on 29 March 2026: it fires at the change.
    CHECK(CronSchedule::parse("30 1 29 3 *", "Europe/London").next_after(utc("2026-03-28T00:00:00Z")) ==
          utc("2026-03-29T01:00:00Z"));
    // Day of month or day of week when both are restricted.
    CHECK(CronSchedule::parse("0 0 1 * sun", "UTC").next_after(utc("2026-03-02T00:00:00Z")) == utc("2026-03-08T00:00:00Z"));
    CHECK_FALSE(CronSchedule::parse("0 0 30 2 *", "UTC").next_after(utc("2026-01-01T00:00:00Z")));
    CHECK_THROWS_WITH_AS(CronSchedule::parse("61 * * * *", "UTC"), "cron '61 * * * *': minute must be 0-59, not '61'", Error);
    CHECK_THROWS_AS(CronSchedule::parse("* * * *", "UTC"), Error);
    CHECK_THROWS_AS(CronSchedule::parse("* * * * *", "Mars/Olympus"), Error);
}

TEST_CASE("cursors order numbers, instants and text") {
    CHECK(compare_cursor("9", "10") < 0);
    CHECK(compare_cursor("2026-01-01T10:00:00+02:00", "2026-01-01T09:00:00Z") < 0);
    CHECK(compare_cursor("b", "a") > 0);
    CHECK(compare_cursor("2026-01-01T09:00:00Z", "2026-01-01T09:00:00+00:00") == 0);
}

TEST_CASE("map fields: a path naming a list position past 10,000 is refused, not allocated") {
    // Found by map_fields_fuzz: writing at position 2,222,222,222 made a list that long.
    CHECK(map_problems(R"({"target": "/orders/2222222222/id", "source": "/id"})").find(
              "names list position 2222222222; a flow addresses at most the first 10000 items") != std::string::npos);
    CHECK(map_problems(R"({"target": "/v", "source": "/lines/10000"})").find("list position 10000") != std::string::npos);
    CHECK(map_one(R"({"target": "/lines/2/sku", "source": "/id"})", R"({"id": "A"})") ==
          R"({"lines":[null,null,{"sku":"A"}]})");
}
