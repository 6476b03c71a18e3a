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

}  // namespace

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
