// The order sync the flow and cluster tests run (Shopify orders to NetSuite sales orders),
// and the independent check of what NetSuite received: every sales order computed again
// from the Shopify simulator's data, record by record.
#pragma once

#include "flow_test_daemon.hpp"

#include <junction/core/net/http_client.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cctype>
#include <cstdio>
#include <ctime>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace junction::testing {

// The order-to-sales-order flow; `region` tags the records and prefixes their external id.
inline std::string sync_flow(const std::string& name, const std::vector<std::pair<std::string, std::string>>& stores,
                      const std::string& send_options = R"("batch_size": 1, "concurrency": 8)") {
    std::string shapes, starts;
    for (const auto& [region, instance] : stores) {
        starts += (starts.empty() ? "" : ",") + json_text("read-" + region);
        shapes += R"({"id": "read-)" + region + R"(", "type": "connection", "instance": ")" + instance +
                  R"(", "endpoint": "orders.receive", "direction": "receive", "next": "open-)" + region + R"("},
            {"id": "open-)" + region + R"(", "type": "filter", "condition": {"field": "/cancelled_at", "op": "exists", "value": false},
             "next": "map-)" + region + R"("},
            {"id": "map-)" + region + R"(", "type": "map", "next": "upsert", "fields": [
              {"target": "/externalId", "source": "/id", "transforms": [{"op": "to_string"}, {"op": "prefix", "value": ")" + region + R"(-"}]},
              {"target": "/custbody_region", "constant": ")" + region + R"("},
              {"target": "/memo", "source": "/name"},
              {"target": "/entity/email", "source": "/email", "transforms": [{"op": "lower"}]},
              {"target": "/currency", "source": "/currency", "transforms": [{"op": "lookup", "table": {"EUR": "Euro", "USD": "US Dollar"}}]},
              {"target": "/total", "source": "/total_price", "transforms": [{"op": "to_number"}]},
              {"target": "/tranDate", "source": "/created_at", "transforms": [{"op": "date", "to": "%Y-%m-%d", "time_zone": "America/New_York"}]},
              {"target": "/item", "source": "/line_items", "each": [
                {"target": "/itemId", "source": "/sku"},
                {"target": "/quantity", "source": "/quantity"},
                {"target": "/rate", "source": "/price", "transforms": [{"op": "to_number"}]}]}]},
            )";
    }
    const bool branch = stores.size() > 1;
    return R"({"name": ")" + name + R"(", "trigger": {"type": "manual"},)" +
           (branch ? R"("start": "stores",)" : std::string()) + R"("shapes": [)" +
           (branch ? R"({"id": "stores", "type": "branch", "paths": [)" + starts + "]}," : std::string()) + shapes +
           R"({"id": "upsert", "type": "connection", "instance": "netsuite", "endpoint": "salesorder.upsert",
              "direction": "send", )" + send_options + R"(}]})";
}

// Reads every order from the Shopify simulator directly (not through Junction) and
// computes the sales order NetSuite must hold for each one that is not cancelled.
inline std::map<std::string, std::string> expected_sales_orders(const Simulator& shop, const std::string& region) {
    std::map<std::string, std::string> out;
    for (long start = 0;; start += 250) {
        core::HttpClient client;
        core::HttpClient::Result r;
        std::string error;
        REQUIRE(client.send("GET", shop.url() + "/admin/api/2024-01/orders.json?limit=250&page_info=p" + std::to_string(start),
                            {{"X-Shopify-Access-Token", "shpat_test"}}, "", r, error));
        REQUIRE(r.status == 200);
        rapidjson::Document d;
        d.Parse(r.body.c_str());
        for (const auto& o : d["orders"].GetArray()) {
            if (!o["cancelled_at"].IsNull()) continue;
            const std::string id = std::to_string(o["id"].GetInt64());
            // created_at is UTC; the sales order's date is New York's calendar day then.
            std::tm tm{};
            strptime(o["created_at"].GetString(), "%Y-%m-%dT%H:%M:%S", &tm);
            const time_t t = timegm(&tm) - 5 * 3600;  // the simulator's orders fall in winter (EST)
            char day[16];
            std::strftime(day, sizeof day, "%Y-%m-%d", std::gmtime(&t));
            std::string items;
            for (const auto& li : o["line_items"].GetArray()) {
                char rate[64];
                std::snprintf(rate, sizeof rate, "%g", std::stod(li["price"].GetString()));
                items += std::string(items.empty() ? "" : ",") + R"({"itemId":")" + li["sku"].GetString() + R"(","quantity":)" +
                         std::to_string(li["quantity"].GetInt64()) + R"(,"rate":)" + rate + "}";
            }
            std::string email = o["email"].GetString();
            for (auto& c : email) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            char total[64];
            std::snprintf(total, sizeof total, "%g", std::stod(o["total_price"].GetString()));
            out[region + "-" + id] = R"({"externalId":")" + region + "-" + id + R"(","custbody_region":")" + region +
                                     R"(","memo":")" + o["name"].GetString() + R"(","entity":{"email":")" + email +
                                     R"("},"currency":")" + (std::string(o["currency"].GetString()) == "EUR" ? "Euro" : "US Dollar") +
                                     R"(","total":)" + total + R"(,"tranDate":")" + day + R"(","item":[)" + items + "]}";
        }
        if (d["orders"].Size() < 250) break;
    }
    return out;
}

// Compares what NetSuite holds with what it should hold, record by record (as JSON values,
// so number formatting and member order do not matter).
inline void check_sink(const rapidjson::Document& received, const std::map<std::string, std::string>& expected,
                bool complete = true) {
    if (!complete && !received.HasMember("salesOrder")) return;  // killed before the first upsert
    REQUIRE(received.HasMember("salesOrder"));
    const auto& orders = received["salesOrder"];
    size_t matched = 0;
    for (const auto& m : orders.GetObject()) {
        const std::string eid = m.name.GetString();
        auto it = expected.find(eid);
        REQUIRE_MESSAGE(it != expected.end(), "NetSuite holds a sales order nobody should have sent: " << eid);
        rapidjson::Document want;
        want.Parse(it->second.c_str());
        if (!(m.value["body"] == want)) {
            rapidjson::StringBuffer b;
            rapidjson::Writer<rapidjson::StringBuffer> w(b);
            m.value["body"].Accept(w);
            FAIL("sales order " << eid << " differs:\n got  " << b.GetString() << "\n want " << it->second);
        }
        ++matched;
    }
    if (complete) CHECK(matched == expected.size());
}

// Saves a one-store sync on `d` and starts it; returns its run id once NetSuite got `upserts`.
inline std::string start_sync_until(Daemon& d, const Simulator& shop, NetSuite& ns, const std::string& flow, int64_t upserts) {
    d.add_instance("shopify", "shop", shopify_config(shop, false));
    d.add_instance("netsuite", "netsuite", ns.config());
    d.save_flow(sync_flow(flow, {{"SHOP", "shop"}}));
    const std::string run_id = d.start_run(flow);
    while (count(d.run(run_id), "upsert", "out") < upserts) std::this_thread::sleep_for(5ms);
    return run_id;
}

}  // namespace junction::testing
