// The regex condition through RE2: search semantics as before, any value length without
// recursion, and every pattern RE2 refuses reported as a problem at its JSON path.
#include <doctest/doctest.h>

#include <junction/core/flows/condition.hpp>

#include <string>

using namespace junction::core;
using namespace junction::core::flows;

namespace {

rapidjson::Document regex_condition(const std::string& pattern) {
    rapidjson::Document d(rapidjson::kObjectType);
    auto& a = d.GetAllocator();
    d.AddMember("field", "/v", a);
    d.AddMember("op", "regex", a);
    d.AddMember("value", rapidjson::Value(pattern.c_str(), static_cast<rapidjson::SizeType>(pattern.size()), a), a);
    return d;
}

bool matches(const std::string& pattern, const std::string& value) {
    const auto c = regex_condition(pattern);
    Problems problems;
    auto parsed = Condition::parse(Spec(c, "/condition", problems));
    REQUIRE_MESSAGE(parsed, (problems.empty() ? "" : problems.front()));
    rapidjson::Document record(rapidjson::kObjectType);
    record.AddMember("v", rapidjson::Value(value.c_str(), static_cast<rapidjson::SizeType>(value.size()), record.GetAllocator()),
                     record.GetAllocator());
    return parsed->matches(record);
}

std::string refusal(const std::string& pattern) {
    const auto c = regex_condition(pattern);
    Problems problems;
    CHECK_FALSE(Condition::parse(Spec(c, "/shapes/2/condition", problems)));
    REQUIRE(problems.size() == 1);
    return problems[0];
}

}  // namespace

TEST_CASE("regex conditions search the value, like regex_search did") {
    CHECK(matches("b", "abc"));
    CHECK_FALSE(matches("^b", "abc"));
    CHECK(matches(R"(^SKU-\d{3}$)", "SKU-042"));
    CHECK(matches("(?i)^paid$", "PAID"));
    CHECK_FALSE(matches("^a$", "a\nb"));  // $ is the end of the value, not of a line
}

TEST_CASE("a multi-megabyte value is matched without recursion on its length") {
    const std::string local(4 << 20, 'a');
    CHECK(matches(R"(^[^@]+@example\.com$)", local + "@example.com"));
    CHECK_FALSE(matches(R"(^[^@]+@example\.com$)", local + "@example.org"));
    CHECK_FALSE(matches("^(a+)+$", local + "!"));  // catastrophic for a backtracking engine
}

TEST_CASE("patterns RE2 refuses are problems at their JSON path with RE2's reason") {
    CHECK(refusal("(a") == "at /shapes/2/condition/value: is not a regular expression RE2 accepts: missing ): (a "
                           "(RE2 has no backreferences or lookaround; see docs/flows.md)");
    CHECK(refusal(R"((a)\1)").find("at /shapes/2/condition/value: is not a regular expression RE2 accepts: invalid "
                                  "escape sequence: \\1") == 0);
    CHECK(refusal("a(?=b)").find("at /shapes/2/condition/value: is not a regular expression RE2 accepts: ") == 0);
    CHECK(refusal("a{2000}").find("at /shapes/2/condition/value: is not a regular expression RE2 accepts: ") == 0);
    CHECK(refusal("((((((((((a{1000}){1000}){1000}){1000}))))))))").find("at /shapes/2/condition/value: ") == 0);
}
