#include <doctest/doctest.h>

#include <junction/core/log.hpp>

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
