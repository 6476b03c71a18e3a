// What the tests of connector processes share: junctiond with the misbehaving fixture
// dropped into its plugin folder, and instance tests that wait out a restart's backoff.
#pragma once

#include <doctest/doctest.h>

#include "service_processes.hpp"

#include <rapidjson/document.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <string>
#include <thread>

namespace junction::testing {

inline rapidjson::Document json_of(const HttpAnswer& a) {
    rapidjson::Document d;
    d.Parse(a.body.c_str());
    return d;
}

inline std::filesystem::path plugin_folder(const JunctiondProcess& d) {
    return d.state_dir().parent_path() / "plugins";
}

// Drops a fixture library into the plugin folder and waits for `connector` to be installed.
inline void install(JunctiondProcess& d, const std::string& fixture_name, const std::string& connector) {
    using namespace std::chrono_literals;
    std::filesystem::copy_file(fixture(fixture_name), plugin_folder(d) / (fixture_name + ".so"));
    d.signal(SIGHUP);
    for (int i = 0; i < 400 && d.call("GET", "/v1/connectors/" + connector).status != 200; ++i)
        std::this_thread::sleep_for(25ms);
    REQUIRE_MESSAGE(d.call("GET", "/v1/connectors/" + connector).status == 200, read_text(d.log_file()));
}

// Tests an instance; returns the test's detail. A connector process that ended is started
// again after a backoff (at most 1 s in these tests): until then a test says so, and is
// asked again.
inline std::string test_detail(const JunctiondProcess& d, const std::string& name) {
    using namespace std::chrono_literals;
    std::string detail;
    for (int i = 0; i < 40; ++i) {
        const HttpAnswer answer = d.call("POST", "/v1/instances/" + name + "/test");
        INFO(answer.body);
        CHECK(answer.status == 200);
        const auto view = json_of(answer);
        detail = view.HasMember("status_detail") && view["status_detail"].IsString() ? view["status_detail"].GetString() : "";
        if (detail.find("it is started again in") == std::string::npos) break;
        std::this_thread::sleep_for(100ms);
    }
    return detail;
}

// Tests an instance whose test segfaults until its version is quarantined (after
// --connector-crash-limit crashes); returns the last detail.
inline std::string crash_until_quarantined(const JunctiondProcess& d, const std::string& name) {
    std::string detail;
    for (int i = 0; i < 20 && detail.find("quarantined") == std::string::npos; ++i) detail = test_detail(d, name);
    return detail;
}

inline std::string instance_status(const JunctiondProcess& d, const std::string& name) {
    const auto view = json_of(d.call("GET", "/v1/instances/" + name));
    return view.IsObject() && view.HasMember("status") ? view["status"].GetString() : "";
}

}  // namespace junction::testing
