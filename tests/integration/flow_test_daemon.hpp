// What the flow tests share: junctiond with the shipped plugins, and the admin calls they
// make, each checked with doctest.
#pragma once

#include <doctest/doctest.h>

#include "service_processes.hpp"

#include <rapidjson/document.h>

#include <chrono>
#include <memory>
#include <thread>

namespace junction::testing {

using namespace std::chrono_literals;

struct Answer {
    int status = 0;
    std::string body;
    Answer(HttpAnswer a) : status(a.status), body(std::move(a.body)) {}
    rapidjson::Document json() const {
        rapidjson::Document d;
        d.Parse(body.c_str());
        return d;
    }
};

using Simulator = SimulatorProcess;

// A shape's count in a run's view: "in", "out" or "failed" (0 before it saw a record).
inline int64_t count(const rapidjson::Value& run, const char* shape, const char* what) {
    return run["counts"].HasMember(shape) ? run["counts"][shape][what].GetInt64() : 0;
}

// The NetSuite side of a test: a simulator that checks ES256 JWT assertions.
struct NetSuite {
    TempDir keys;
    std::unique_ptr<Simulator> sim;
    std::string private_key;
    NetSuite() {
        const std::string priv = (keys / "ns.pem").string(), pub = (keys / "ns.pub").string();
        REQUIRE(run_program({"/usr/bin/openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                             "-out", priv}).exit_code == 0);
        REQUIRE(run_program({"/usr/bin/openssl", "pkey", "-in", priv, "-pubout", "-out", pub}).exit_code == 0);
        private_key = read_text(priv);
        sim = std::make_unique<Simulator>(std::vector<std::string>{"--api", "netsuite", "--public-key", pub, "--client-id", "ns-client"});
    }
    std::string config() const {
        return R"({"account_url":")" + sim->url() + R"(","client_id":"ns-client","key_id":"k1","rate_limit_per_second":0,"private_key":)" +
               json_text(private_key) + "}";
    }
    rapidjson::Document received() const { return Answer(sim->control("GET", "/_sim/received")).json(); }
};

inline std::string shopify_config(const Simulator& shop, bool paced = true) {
    return R"({"store_url":")" + shop.url() + R"(","api_key":"shpat_test")" + (paced ? "" : R"(,"rate_limit_per_second":0)") + "}";
}

// junctiond with the shipped REST engine, manifests and jsonl in its plugin folder.
struct Daemon : JunctiondProcess {
    // `settings`: more junctiond arguments ("--store", URL...).
    explicit Daemon(std::vector<std::string> settings = {})
        : JunctiondProcess({"rest.so", "shopify.connector.json", "netsuite.connector.json", "woocommerce.connector.json",
                            "hubspot.connector.json", "voyado.connector.json", "jsonl.so"},
                           std::move(settings)) {}

    void add_instance(const std::string& connector, const std::string& name, const std::string& config) {
        const Answer a = call("POST", "/v1/instances",
                              R"({"connector":")" + connector + R"(","name":")" + name + R"(","config":)" + config + "}");
        REQUIRE_MESSAGE(a.status == 201, a.body);
    }
    std::string save_flow(const std::string& document) {
        const Answer a = call("POST", "/v1/flows", document);
        REQUIRE_MESSAGE((a.status == 201 || a.status == 200), a.body);
        return a.json()["id"].GetString();
    }
    std::string start_run(const std::string& flow, const std::string& body = {}) {
        const Answer a = call("POST", "/v1/flows/" + flow + "/runs", body);
        REQUIRE_MESSAGE(a.status == 202, a.body);
        return a.json()["id"].GetString();
    }
    rapidjson::Document run(const std::string& id) { return Answer(call("GET", "/v1/runs/" + id)).json(); }
    rapidjson::Document wait_run(const std::string& id, std::chrono::seconds timeout = 120s) {
        const auto until = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            rapidjson::Document d = run(id);
            const std::string status = d["status"].GetString();
            if (status != "queued" && status != "running") return d;
            REQUIRE(std::chrono::steady_clock::now() < until);
            std::this_thread::sleep_for(50ms);
        }
    }
};

}  // namespace junction::testing
