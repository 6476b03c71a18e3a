// Schema failures read as "at /path: why", and a schema that is not one is refused.
#include <doctest/doctest.h>

#include <junction/core/common/error.hpp>
#include <junction/core/common/json_schema.hpp>

using namespace junction::core;

namespace {
JsonSchema compile(const char* text) {
    auto doc = parse_json_text(text, "schema");
    return JsonSchema::compile(doc, "test schema");
}
std::string problem(const JsonSchema& s, const char* doc_text) {
    auto doc = parse_json_text(doc_text, "document");
    return s.validate(doc).value_or("");
}
}  // namespace

TEST_CASE("validation errors name the path and the reason") {
    const JsonSchema s = compile(R"({
      "type": "object", "required": ["shop", "token"],
      "properties": {
        "shop": {"type": "string", "pattern": "^[a-z]+$"},
        "token": {"type": "string"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 250},
        "region": {"enum": ["uk", "eu", "us"]},
        "nested": {"type": "object", "required": ["a"]}
      }
    })");
    CHECK(problem(s, R"({"shop":"abc","token":"t"})").empty());
    CHECK(problem(s, R"({"shop":"abc"})") == "at /: missing required field 'token'");
    CHECK(problem(s, R"({})") == "at /: missing required field 'shop', 'token'");
    CHECK(problem(s, R"({"shop":"ABC","token":"t"})").starts_with("at /shop: does not match"));
    CHECK(problem(s, R"({"shop":"a","token":"t","limit":500})").starts_with("at /limit: is too large"));
    CHECK(problem(s, R"({"shop":"a","token":"t","limit":"x"})").starts_with("at /limit: has the wrong type"));
    CHECK(problem(s, R"({"shop":"a","token":"t","region":"fr"})").starts_with("at /region: is not one of"));
    CHECK(problem(s, R"({"shop":"a","token":"t","nested":{}})") ==
          "at /nested: missing required field 'a' (in /nested)");
}

TEST_CASE("a schema that is not a JSON Schema is refused") {
    for (const char* bad : {R"({"type": 42})", R"({"type": "strnig"})",
                            R"({"properties": {"a": {"minimum": "one"}}})",
                            R"({"required": "a"})", R"([1, 2])"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(compile(bad), Error);
    }
    CHECK_NOTHROW(compile(R"({"type": ["string", "null"], "items": [{"type": "integer"}]})"));
}

TEST_CASE("an empty schema accepts everything") {
    JsonSchema any;
    auto doc = parse_json_text("[1,\"x\",null]", "doc");
    CHECK_FALSE(any.validate(doc));
}

TEST_CASE("malformed JSON text says where it broke") {
    try {
        parse_json_text("{\"a\": }", "the config");
        FAIL("accepted");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("the config is not valid JSON") != std::string::npos);
        CHECK(std::string(e.what()).find("offset 6") != std::string::npos);
    }
}
