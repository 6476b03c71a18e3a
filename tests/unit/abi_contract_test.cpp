// What ABI 1 promised stays promised: status values, retryable ranges, table sizes, tags.
#include <doctest/doctest.h>

#include <junction/core/loading/plugin_library.hpp>
#include <junction/core/common/status.hpp>
#include <junction/plugin_api.h>

using namespace junction::core;

TEST_CASE("status codes are frozen") {
    static_assert(JN_OK == 0);
    static_assert(JN_ERR_RATE_LIMITED == 100 && JN_ERR_TRANSIENT == 101 && JN_ERR_TIMEOUT == 102);
    static_assert(JN_ERR_AUTH == 200 && JN_ERR_INVALID_CONFIG == 201 && JN_ERR_NOT_FOUND == 202);
    static_assert(JN_ERR_INVALID_REQUEST == 203 && JN_ERR_UNSUPPORTED == 204);
    static_assert(JN_ERR_INTERNAL == 205 && JN_ERR_CANCELLED == 206 && JN_ERR_TOO_LARGE == 207);
    static_assert(JN_ERR_CONFLICT == 208);  // 1.3
    CHECK(JN_STATUS_IS_RETRYABLE(JN_ERR_RATE_LIMITED));
    CHECK(JN_STATUS_IS_RETRYABLE(JN_ERR_TRANSIENT));
    CHECK(JN_STATUS_IS_RETRYABLE(JN_ERR_TIMEOUT));
    for (jn_status s : {JN_OK, JN_ERR_AUTH, JN_ERR_INVALID_CONFIG, JN_ERR_NOT_FOUND,
                        JN_ERR_INVALID_REQUEST, JN_ERR_UNSUPPORTED, JN_ERR_INTERNAL,
                        JN_ERR_CANCELLED, JN_ERR_TOO_LARGE, JN_ERR_CONFLICT})
        CHECK_FALSE(JN_STATUS_IS_RETRYABLE(s));
}

TEST_CASE("status names for people, unknown values flagged") {
    CHECK(status_name(JN_ERR_AUTH) == "auth");
    CHECK(status_name(JN_ERR_RATE_LIMITED) == "rate_limited");
    CHECK(is_known_status(JN_ERR_TOO_LARGE));
    CHECK_FALSE(is_known_status(12345));
    CHECK(status_name(12345) == "unknown(12345)");
}

TEST_CASE("ABI 1.x table sizes: 1.0 is a prefix, later minors only append") {
    CHECK(JN_CONNECTOR_API_V1_0_SIZE == offsetof(jn_connector_api, migrate_config));
    CHECK(JN_CONNECTOR_API_V1_0_SIZE < sizeof(jn_connector_api));
    CHECK(JN_HOST_API_V1_0_SIZE == offsetof(jn_host_api, http_request_batch));  // 1.3 appended it
    CHECK(JN_HOST_API_V1_0_SIZE < sizeof(jn_host_api));
    CHECK(offsetof(jn_host_api, call_log) == offsetof(jn_host_api, credential_swap) + sizeof(void*));  // 1.4 appended it
    CHECK(sizeof(jn_host_api) == offsetof(jn_host_api, call_log) + sizeof(void*));
    CHECK(offsetof(jn_connector_api, struct_size) == 0);
    CHECK(offsetof(jn_host_api, struct_size) == 0);
    CHECK(offsetof(jn_negotiate_request, struct_size) == 0);
    CHECK(offsetof(jn_http_request, struct_size) == 0);
    CHECK(offsetof(jn_http_request, start_after_ms) == offsetof(jn_http_request, body) + sizeof(jn_str));  // 1.5 appended it
}

TEST_CASE("the ABI tag parses and rejects garbage") {
    auto v = parse_abi_tag(JN_ABI_TAG);
    REQUIRE(v);
    CHECK(v->major == JN_ABI_VERSION_MAJOR);
    CHECK(v->minor == JN_ABI_VERSION_MINOR);
    auto v2 = parse_abi_tag("JN_ABI=[2.13]");
    REQUIRE(v2);
    CHECK(v2->major == 2);
    CHECK(v2->minor == 13);
    for (const char* bad : {"", "JN_ABI=[1]", "JN_ABI=[1.]", "JN_ABI=[.1]", "JN_ABI=[a.b]",
                            "JN_ABI=1.0", "ABI=[1.0]", "JN_ABI=[1.0"})
        CHECK_FALSE(parse_abi_tag(bad));
}
