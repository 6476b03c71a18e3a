// The one bounded JSON entry point and the UTF-8-safe writer (issue 13).
#include <doctest/doctest.h>

#include <junction/core/common/error.hpp>
#include <junction/core/common/json.hpp>

#include <limits>
#include <string>

using junction::core::Error;
using junction::core::json_quote;
using junction::core::parse_json_text;
using junction::core::write_json;

namespace {

std::string nested_arrays(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// The message parse_json_text throws for `text`, "" when it parses.
std::string refusal(const std::string& text) {
    try {
        parse_json_text(text, "the body");
        return "";
    } catch (const Error& e) {
        return e.message();
    }
}

}  // namespace

TEST_CASE("json: depth exactly at the cap parses, one more is refused with its path and setting") {
    CHECK(refusal(nested_arrays(128)) == "");
    CHECK(refusal(nested_arrays(129)).find("the body nests deeper than 128 levels at /0/0/") == 0);
    CHECK(refusal(nested_arrays(129)).find("(json-max-depth)") != std::string::npos);
    std::string deep_path = "/a/0/b";
    for (int i = 0; i < 125; ++i) deep_path += "/0";
    CHECK(refusal(R"({"a":[{"b":)" + nested_arrays(126) + "}]}") ==
          "the body nests deeper than 128 levels at " + deep_path + " (json-max-depth)");
}

TEST_CASE("json: 500,000 levels are refused without recursion") {
    CHECK(refusal(std::string(500000, '[')).find("nests deeper than 128 levels") != std::string::npos);
    std::string objects;
    for (int i = 0; i < 500000; ++i) objects += R"({"":)";
    CHECK(refusal(objects).find("nests deeper than 128 levels") != std::string::npos);
}

TEST_CASE("json: a byte-order mark is refused") {
    CHECK(refusal("\xEF\xBB\xBF{}") == "the body starts with a UTF-8 byte-order mark; send the JSON without it");
}

TEST_CASE("json: invalid UTF-8 names the field") {
    CHECK(refusal("{\"settings\":{\"name\":\"a\xFF\"}}") == "the body has invalid UTF-8 in the string at /settings/name");
    CHECK(refusal("[1,\"\xC0\xAF\"]") == "the body has invalid UTF-8 in the string at /1");
    CHECK(refusal("{\"ok\":1,\"k\xFE\":2}") == "the body has invalid UTF-8 in a key of the object at the top level");
    CHECK(refusal("\"\xED\xA0\x80\"") == "the body has invalid UTF-8 in the string at the top level");
    CHECK(refusal(R"({"a":["\udc00"]})") ==
          "the body has an escaped lone surrogate (not a character) in the string at /a/0");
    CHECK(refusal(R"(["\ud83d\ude00"])") == "");  // a pair is one character
}

TEST_CASE("json: duplicate keys are refused") {
    CHECK(refusal(R"({"a":1,"b":{"x":1,"x":2}})") == "the body has the key \"x\" twice in the object at /b; keep one");
    CHECK(refusal(R"({"a":{"x":1},"b":{"x":2}})") == "");
    std::string many = "{";
    for (int i = 0; i < 100; ++i) many += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
    CHECK(refusal(many + "\"end\":0}") == "");  // past 32 keys the check uses a set
    CHECK(refusal(many + "\"k5\":0}") == "the body has the key \"k5\" twice in the object at the top level; keep one");
    CHECK(refusal(many + "\"k99\":0}").find("\"k99\" twice") != std::string::npos);
}

TEST_CASE("json: numbers outside the double range are refused; underflow to 0 is accepted") {
    CHECK(refusal(R"({"amount":2e308})").find("the body has a number outside the range of a double at /amount") == 0);
    CHECK(refusal(R"([-2e308])").find("outside the range of a double at /0") != std::string::npos);
    // 1e-400 is below the smallest double: it reads as 0, which is a number, so it is kept.
    const auto tiny = parse_json_text("[1e-400]", "tiny");
    CHECK(tiny[0].GetDouble() == 0.0);
}

TEST_CASE("json: a size cap names the setting") {
    junction::core::JsonLimits limits = junction::core::json_limits();
    const auto saved = limits;
    limits.max_record_bytes = 10;
    junction::core::set_json_limits(limits);
    try {
        parse_json_text(R"({"a":"0123456789"})", "the record", junction::core::JsonSize::record);
        FAIL("not refused");
    } catch (const Error& e) {
        CHECK(e.message() == "the record is larger than 10 bytes (max-record-bytes)");
    }
    junction::core::set_json_limits(saved);
}

TEST_CASE("json: each record of a page is within the record cap, whatever the page cap") {
    using junction::core::JsonSize;
    junction::core::JsonLimits limits = junction::core::json_limits();
    const auto saved = limits;
    limits.max_record_bytes = 20;
    junction::core::set_json_limits(limits);
    const auto page_refusal = [](const std::string& text) {
        try {
            parse_json_text(text, "the page", JsonSize::page);
            return std::string();
        } catch (const Error& e) {
            return e.message();
        }
    };
    const std::string twenty = R"({"a":"0123456789xy"})";  // exactly 20 bytes
    REQUIRE(twenty.size() == 20);
    CHECK(page_refusal("[" + twenty + "," + twenty + "]").empty());
    CHECK(page_refusal(twenty).empty());
    CHECK(page_refusal(R"([{"a":1},{"a":"0123456789xyz"}])") ==
          "the page has a record of 21 bytes at /1, more than 20 (max-record-bytes)");
    CHECK(page_refusal(R"({"a":"0123456789xyz"})") ==
          "the page has a record of 21 bytes at the top level, more than 20 (max-record-bytes)");
    CHECK(page_refusal(R"([1,"0123456789012345678901"])") ==
          "the page has a record of 22 bytes at /1, more than 20 (max-record-bytes)");
    // Nested values count toward their record, not as records of their own.
    CHECK(page_refusal(R"([{"b":[{"c":"0123456789012345"}]}])").find("at /0,") != std::string::npos);
    // Other texts have no record cap.
    CHECK_NOTHROW(parse_json_text(R"([{"a":"0123456789012345678901234"}])", "the body"));
    junction::core::set_json_limits(saved);
}

TEST_CASE("json: a syntax error says where") {
    CHECK(refusal(R"({"a":[1,2,}})").find("the body is not valid JSON: ") == 0);
    CHECK(refusal("{} x").find("is not valid JSON") != std::string::npos);
}

TEST_CASE("json: the writer turns invalid UTF-8 and control characters into valid JSON that parses back") {
    const std::string bad = std::string("a\xFF\xC0\xAF") + "b\n\x01\x7F\"\\" + "\xED\xA0\x80" + "\xF0\x9F\x98\x80";
    const std::string quoted = json_quote(bad);
    CHECK(quoted == "\"a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "b\\n\\u0001\\u007f\\\"\\\\"
                    "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xF0\x9F\x98\x80\"");
    CHECK(parse_json_text(quoted, "quoted").IsString());

    rapidjson::Document doc;
    doc.SetObject();
    doc.AddMember(rapidjson::Value(bad.c_str(), doc.GetAllocator()), rapidjson::Value(bad.c_str(), doc.GetAllocator()),
                  doc.GetAllocator());
    doc.AddMember("inf", std::numeric_limits<double>::infinity(), doc.GetAllocator());
    const std::string written = write_json(doc);
    const auto back = parse_json_text(written, "written");
    CHECK(back.IsObject());
    CHECK(back["inf"].IsNull());
}
