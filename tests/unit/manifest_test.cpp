#include <doctest/doctest.h>

#include <junction/core/common/error.hpp>
#include <junction/core/bridge/manifest.hpp>

using namespace junction::core;

namespace {
const char* kGood = R"({
  "name": "shopify", "version": "1.2.0", "display_name": "Shopify", "description": "Orders",
  "auth_methods": [{"name": "access_token", "display_name": "Admin API token", "fields": ["token"]}],
  "config_schema": {"type": "object", "properties": {
      "shop": {"type": "string"}, "token": {"type": "string", "writeOnly": true}}},
  "operations": [{"name": "orders.list", "direction": "receive", "entity": "order"},
                 {"name": "orders.create", "direction": "send", "entity": "order"}],
  "x-future-field": "ignored by this host"
})";

std::string rejection(const std::string& json) {
    try {
        parse_manifest(json);
    } catch (const Error& e) {
        CHECK(e.code() == Errc::plugin_rejected);
        return e.what();
    }
    FAIL("accepted: " << json);
    return {};
}

std::string with(std::string json, const std::string& from, const std::string& to) {
    json.replace(json.find(from), from.size(), to);
    return json;
}
}  // namespace

TEST_CASE("a good manifest parses into its parts") {
    const Manifest m = parse_manifest(kGood);
    CHECK(m.id() == "shopify@1.2.0");
    REQUIRE(m.operations.size() == 2);
    CHECK(m.find_operation("orders.create")->direction == Direction::send);
    CHECK(m.find_operation("orders.delete") == nullptr);
    CHECK(m.auth_methods[0].fields == std::vector<std::string>{"token"});
    CHECK(m.secret_fields == std::vector<std::string>{"token"});
}

TEST_CASE("each broken field is named") {
    const std::string good = kGood;
    CHECK(rejection(with(good, R"("name": "shopify")", R"("name": "Shop Ify")"))
              .find("at /name: does not match") != std::string::npos);
    CHECK(rejection(with(good, R"("version": "1.2.0")", R"("version": "v1")"))
              .find("at /version") != std::string::npos);
    CHECK(rejection(with(good, R"("direction": "send")", R"("direction": "both")"))
              .find("at /operations/1/direction") != std::string::npos);
    CHECK(rejection(with(good, R"("fields": ["token"])", R"("fields": ["password"])"))
              .find("'password' is not a property") != std::string::npos);
    CHECK(rejection(with(good, R"("orders.create")", R"("orders.list")"))
              .find("listed twice") != std::string::npos);
    CHECK(rejection(with(good, R"("config_schema": {"type": "object")",
                         R"("config_schema": {"type": "array")"))
              .find("must have \"type\": \"object\"") != std::string::npos);
    CHECK(rejection("[]").find("at /: has the wrong type") != std::string::npos);
    CHECK(rejection("{").find("not valid JSON") != std::string::npos);
}
