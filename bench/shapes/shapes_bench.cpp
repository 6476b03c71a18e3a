// bench_shapes: the map shape and the script shape on Shopify-like orders, one core, in one
// run. Each builds the same 10-field sales order from each order (the map with its fields
// and transforms, the script in Lua); the ceiling, measured in the same run on the same
// pages, is the same mapping written by hand in C++ against RapidJSON: what the mapping
// costs with nothing interpreted. Orders are generated and parsed a page (250) at a time, outside the timing,
// so memory stays flat; the three are timed on each page in turn.
//   bench_shapes            1,000,000 orders
//   bench_shapes N          N orders
#include <junction/core/flows/field_mapping.hpp>
#include <junction/core/flows/lua_script.hpp>
#include <junction/core/flows/record_batch.hpp>
#include <junction/core/flows/spec.hpp>

#include "bench_machine.hpp"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace junction::core;
using namespace junction::core::flows;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kPage = 250;

// An order as the Shopify simulator writes them (tests/simulators/shopify_sim.cpp).
std::string order(long i) {
    std::string lines;
    const long items = 1 + i % 3;
    long cents = 0;
    for (long l = 0; l < items; ++l) {
        const long price = 500 + (i * 7 + l * 13) % 4500;
        cents += price * (1 + l);
        char buf[256];
        std::snprintf(buf, sizeof buf, R"(%s{"id":%ld,"sku":"SKU-%03ld","title":"Item %ld","quantity":%ld,"price":"%ld.%02ld"})",
                      l ? "," : "", 900000000 + i * 3 + l, (i + l) % 200, (i + l) % 200, 1 + l, price / 100, price % 100);
        lines += buf;
    }
    char buf[1024];
    std::snprintf(buf, sizeof buf,
                  R"({"id":%ld,"order_number":%ld,"name":"#%ld","email":"customer%ld@example.com",)"
                  R"("created_at":"2026-%02ld-%02ldT%02ld:15:00Z","updated_at":"2026-%02ld-%02ldT%02ld:45:00Z","currency":"%s",)"
                  R"("total_price":"%ld.%02ld","financial_status":"%s","cancelled_at":%s,)"
                  R"("customer":{"id":%ld,"email":"customer%ld@example.com"},"line_items":[)",
                  5000000000 + i, 1001 + i, 1001 + i, 7000000 + i % 5000, 1 + i % 12, 1 + i % 28, i % 24, 1 + i % 12,
                  1 + i % 28, i % 24, i % 4 == 0 ? "EUR" : "USD", cents / 100, cents % 100, i % 10 == 0 ? "pending" : "paid",
                  i % 25 == 7 ? "\"2026-06-01T10:00:00Z\"" : "null", 7000000 + i % 5000, 7000000 + i % 5000);
    return buf + lines + "]}";
}

const char* kFields = R"([
  {"target": "/externalId", "source": "/id", "transforms": [{"op": "to_string"}, {"op": "prefix", "value": "SHOP-"}]},
  {"target": "/memo", "source": "/name"},
  {"target": "/email", "source": "/email", "transforms": [{"op": "lower"}]},
  {"target": "/currency", "source": "/currency"},
  {"target": "/total", "source": "/total_price", "transforms": [{"op": "to_number"}]},
  {"target": "/status", "source": "/financial_status"},
  {"target": "/tranDate", "source": "/created_at", "transforms": [{"op": "substring", "length": 10}]},
  {"target": "/customerId", "source": "/customer/id"},
  {"target": "/customerEmail", "source": "/customer/email"},
  {"target": "/cancelled", "source": "/cancelled_at", "transforms": [{"op": "default", "value": false}]}])";

const char* kScript = R"(local cancelled = record.cancelled_at
if cancelled == null then cancelled = false end
return {externalId = "SHOP-" .. record.id, memo = record.name, email = string.lower(record.email),
        currency = record.currency, total = tonumber(record.total_price), status = record.financial_status,
        tranDate = string.sub(record.created_at, 1, 10), customerId = record.customer.id,
        customerEmail = record.customer.email, cancelled = cancelled})";

std::vector<FieldMapping> map_fields() {
    rapidjson::Document d;
    d.Parse(kFields);
    Problems problems;
    std::vector<FieldMapping> fields;
    for (rapidjson::SizeType i = 0; i < d.Size(); ++i)
        if (auto f = FieldMapping::parse(Spec(d[i], "/fields/" + std::to_string(i), problems))) fields.push_back(std::move(*f));
    if (!problems.empty()) {
        std::fprintf(stderr, "bench_shapes: %s\n", problems.front().c_str());
        std::exit(1);
    }
    return fields;
}

// The ceiling: the 10 fields in C++, as a programmer would write them for this one mapping.
Json native_map(const Json& r, Allocator& a) {
    Json out(rapidjson::kObjectType);
    const std::string external = "SHOP-" + std::to_string(r["id"].GetInt64());
    out.AddMember("externalId", Json(external.c_str(), static_cast<rapidjson::SizeType>(external.size()), a), a);
    out.AddMember("memo", Json(r["name"], a), a);
    std::string email(r["email"].GetString(), r["email"].GetStringLength());
    for (auto& c : email) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.AddMember("email", Json(email.c_str(), static_cast<rapidjson::SizeType>(email.size()), a), a);
    out.AddMember("currency", Json(r["currency"], a), a);
    out.AddMember("total", std::strtod(r["total_price"].GetString(), nullptr), a);
    out.AddMember("status", Json(r["financial_status"], a), a);
    out.AddMember("tranDate", Json(r["created_at"].GetString(), 10, a), a);
    out.AddMember("customerId", Json(r["customer"]["id"], a), a);
    out.AddMember("customerEmail", Json(r["customer"]["email"], a), a);
    out.AddMember("cancelled", r["cancelled_at"].IsNull() ? Json(false) : Json(r["cancelled_at"], a), a);
    return out;
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

}  // namespace

int main(int argc, char** argv) {
    const long orders = argc > 1 ? std::atol(argv[1]) : 1'000'000;
    const auto fields = map_fields();
    LuaScript script(kScript, ScriptLimits{});
    double native_s = 0, map_s = 0, script_s = 0;
    long natives = 0, mapped = 0, scripted = 0, failed = 0;
    std::string check_map, check_script;
    const long rss_before = bench::rss_kib();
    long rss_max = 0;

    for (long first = 0; first < orders; first += kPage) {
        std::string page = "[";
        for (long i = first; i < std::min(orders, first + kPage); ++i) page += (i > first ? "," : "") + order(i);
        page += "]";
        const Batch in = Batch::parse(page, "the page");

        auto start = Clock::now();
        Batch native;
        native.records.reserve(in.size());
        for (const auto& r : in.records) native.records.push_back(native_map(r, native.allocator()));
        native_s += seconds_since(start);
        natives += static_cast<long>(native.size());

        start = Clock::now();
        Batch map_out;
        map_out.records.reserve(in.size());
        for (const auto& r : in.records) {
            Json out(rapidjson::kObjectType);
            try {
                for (const auto& f : fields) f.apply(r, out, map_out.allocator());
                map_out.records.push_back(std::move(out));
            } catch (const MapError&) {
                ++failed;
            }
        }
        map_s += seconds_since(start);
        mapped += static_cast<long>(map_out.size());

        start = Clock::now();
        Batch script_out;
        script_out.records.reserve(in.size());
        for (const auto& r : in.records) {
            try {
                script.run(r, script_out.records, script_out.allocator());
            } catch (const ScriptError& e) {
                if (failed++ == 0) std::fprintf(stderr, "bench_shapes: the script failed: %s\n", e.what());
            }
        }
        script_s += seconds_since(start);
        scripted += static_cast<long>(script_out.size());
        if (first == 0) {
            check_map = to_json(map_out.records[7]);
            check_script = to_json(script_out.records[7]);
        }
        rss_max = std::max(rss_max, bench::rss_kib());
    }

    std::printf("bench_shapes: %ld Shopify-like orders, one core, pages of %d (command: bench_shapes %ld)\n", orders, kPage,
                orders);
    std::printf("machine: %s; build: %s\n", bench::cpu_model().c_str(),
#ifdef NDEBUG
                "optimized (NDEBUG)"
#else
                "with assertions"
#endif
    );
    std::printf("order 7 mapped:   %s\norder 7 scripted: %s\n", check_map.c_str(), check_script.c_str());
    std::printf("%-34s %12s %14s %10s\n", "", "records", "records/s", "of ceiling");
    const double ceiling = natives / native_s;
    std::printf("%-34s %12ld %14.0f %10s\n", "ceiling: the mapping in C++", natives, ceiling, "1.00");
    std::printf("%-34s %12ld %14.0f %10.3f\n", "map shape, 10 fields", mapped, mapped / map_s, mapped / map_s / ceiling);
    std::printf("%-34s %12ld %14.0f %10.3f   target >= 100000/s: %s\n", "script shape (Lua), 10 fields", scripted,
                scripted / script_s, scripted / script_s / ceiling, scripted / script_s >= 100000 ? "met" : "NOT met");
    std::printf("failed records: %ld; script memory now %.0f KiB; process RSS %.1f MiB at the start, %.1f MiB at most\n", failed,
                script.memory_used() / 1024.0, rss_before / 1024.0, rss_max / 1024.0);
    return failed == 0 ? 0 : 1;
}
