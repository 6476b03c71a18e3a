// The redactor replaces every known value in text, the longest first where values overlap.
// (That it keeps none of them in clear is shown on a core of junctiond: host.secrets_hygiene.)
#include <doctest/doctest.h>

#include <junction/core/common/json.hpp>
#include <junction/core/secrets/redactor.hpp>

using namespace junction::core;

TEST_CASE("the redactor replaces each value wherever it is, at the ends, repeated and adjacent") {
    const Redactor r({"s3cr3t-token", "hunter22"});
    CHECK(r.apply("s3cr3t-token") == "***");
    CHECK(r.apply("key=s3cr3t-token; pw=hunter22.") == "key=***; pw=***.");
    CHECK(r.apply("hunter22hunter22") == "******");
    CHECK(r.apply("no secret here") == "no secret here");
    CHECK(r.apply("s3cr3t-toke") == "s3cr3t-toke");  // a prefix is not the value
    CHECK(r.apply("") == "");
}

TEST_CASE("overlapping values are covered whole") {
    const Redactor r({"abcd1234", "1234wxyz", "client-7"});
    CHECK(r.apply("abcd1234wxyz") == "***");
    CHECK(r.apply("[abcd1234wxyz] [1234wxyz]") == "[***] [***]");
    CHECK(r.apply("secret=client-7-s3cret, id=client-7") == "secret=***-s3cret, id=***");
}

TEST_CASE("the redactor prefers the longest value at a place and ignores values under 4 bytes") {
    const Redactor r({"abcd", "abcdefgh", "xyz"});
    CHECK(r.apply("[abcdefgh]") == "[***]");
    CHECK(r.apply("[abcdefg]") == "[***efg]");
    CHECK(r.apply("xyz") == "xyz");
    CHECK(Redactor().apply("anything") == "anything");
}

TEST_CASE("the redactor takes a config's string secret fields") {
    const std::string secret = "sk_live_redactor_takes_config";
    const auto config = parse_json_text(R"({"label":"shop","api_key":")" + secret + R"(","pin":1234})", "config");
    Redactor r;
    r.add_config(config, {"api_key", "pin", "missing"});
    CHECK(r.apply("refused " + secret) == "refused ***");
    CHECK(r.apply("label shop, pin 1234") == "label shop, pin 1234");
}
