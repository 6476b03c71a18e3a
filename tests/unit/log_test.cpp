#include <doctest/doctest.h>

#include <junction/core/common/log.hpp>

#include <rapidjson/document.h>

#include <string>
#include <vector>

using namespace junction::core;

TEST_CASE("log lines carry time, level, component and message; JSON on request") {
    std::vector<std::string> lines;
    set_log_sink([&](std::string_view l) { lines.emplace_back(l); });
    configure_log({LogLevel::info, false});
    log_info("registry", "installed jsonl@1.0.0");
    log(LogLevel::debug, "registry", "hidden below the level");
    configure_log({LogLevel::info, true});
    log_warn("loader", "a \"quoted\" word");
    configure_log({});
    set_log_sink(nullptr);

    REQUIRE(lines.size() == 2);
    CHECK(lines[0].find(" info [registry] installed jsonl@1.0.0") != std::string::npos);
    CHECK(lines[0].substr(10, 1) == "T");
    rapidjson::Document doc;
    doc.Parse(lines[1].c_str());
    REQUIRE(doc.IsObject());
    CHECK(std::string(doc["level"].GetString()) == "warn");
    CHECK(std::string(doc["component"].GetString()) == "loader");
    CHECK(std::string(doc["message"].GetString()) == "a \"quoted\" word");
}

namespace {

// The lines one call to log() produces, in the given mode.
std::vector<std::string> lines_of(bool json, std::string_view component, std::string_view message) {
    std::vector<std::string> lines;
    set_log_sink([&](std::string_view l) { lines.emplace_back(l); });
    configure_log({LogLevel::info, json});
    log_warn(component, message);
    configure_log({});
    set_log_sink(nullptr);
    return lines;
}

}  // namespace

TEST_CASE("control characters in a logged value cannot forge a second line") {
    const std::string forged = "refused /plugins/evil\n2026-12-03T07:00:00.000Z error [registry] forged\r\x1b[2J\t\x7f";
    const auto plain = lines_of(false, "regi\nstry", forged);
    REQUIRE(plain.size() == 1);
    CHECK(plain[0].find_first_of("\n\r\x1b\x7f\t") == std::string::npos);
    CHECK(plain[0].find(" warn [regi\\nstry] refused /plugins/evil\\n2026-12-03T07:00:00.000Z error [registry] "
                        "forged\\r\\x1b[2J\\t\\x7f") != std::string::npos);

    const auto json = lines_of(true, "registry", forged);
    REQUIRE(json.size() == 1);
    CHECK(json[0].find_first_of("\n\r\x1b\x7f\t") == std::string::npos);
    rapidjson::Document doc;
    doc.Parse(json[0].c_str());
    REQUIRE(doc.IsObject());
    // The same visible escapes as the plain line, whatever reads the JSON.
    CHECK(std::string(doc["message"].GetString()) ==
          "refused /plugins/evil\\n2026-12-03T07:00:00.000Z error [registry] forged\\r\\x1b[2J\\t\\x7f");
}

TEST_CASE("invalid UTF-8 in a logged value becomes U+FFFD and the JSON line stays valid") {
    const std::string bad = std::string("caf\xc3\xa9 ok, lone \xff, cut \xe2\x82, overlong \xc0\xaf, surrogate \xed\xa0\x80, "
                                        "C1 \xc2\x9b, end \xf0\x9f\x98");
    const auto json = lines_of(true, "loader", bad);
    REQUIRE(json.size() == 1);
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(json[0].c_str());
    REQUIRE_FALSE(doc.HasParseError());
    const std::string message = doc["message"].GetString();
    CHECK(message.find("caf\xc3\xa9 ok, lone \xef\xbf\xbd, cut \xef\xbf\xbd\xef\xbf\xbd, overlong "
                       "\xef\xbf\xbd\xef\xbf\xbd, surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd, C1 \\u009b, end "
                       "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd") == 0);
    const auto plain = lines_of(false, "loader", bad);
    REQUIRE(plain.size() == 1);
    CHECK(plain[0].find(message) != std::string::npos);
}
