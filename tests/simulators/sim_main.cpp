// junction-sim: plays a third-party API on 127.0.0.1 for tests, the demo and benchmarks.
//
//   junction-sim --api shopify|netsuite|lab|woocommerce|hubspot|voyado [--port N] [--token T]
//                [--items N]
//                [--rate-limit on|off] [--auth METHOD] [--public-key PEM] [--client-id ID]
//                [--client-secret S] [--client-auth basic|body] [--token-ttl SECONDS]
//                [--record N] [--bench-token T] [--per-page-cap N] [--bucket N] [--leak R]
//
// Prints "listening on http://127.0.0.1:PORT" once ready; stops on SIGTERM/SIGINT.
// Control endpoints for tests: GET /_sim/received (what the API received, JSON),
// GET /_sim/requests (the last requests: method, target, headers), POST /_sim/faults
// ({"status":500,"count":2,"retry_after":"1","delay_ms":0,"malformed":false,
// "stream_bytes":0}: the next COUNT API requests fail that way), POST /_sim/revoke
// (every OAuth token granted so far stops working).
#include "sim_api.hpp"

#include <rapidjson/document.h>

#include <csignal>
#include <cstdio>
#include <deque>
#include <iostream>
#include <mutex>

#include <sys/prctl.h>

namespace {

using namespace junction::sim;

struct Fault {
    int status = 0;
    std::string retry_after;
    int delay_ms = 0;
    bool malformed = false;
    uint64_t stream_bytes = 0;
};

class Faults {
public:
    void add(const std::string& body) {
        rapidjson::Document d;
        d.Parse(body.c_str());
        if (!d.IsObject()) throw std::runtime_error("faults must be a JSON object");
        Fault f;
        if (d.HasMember("status")) f.status = d["status"].GetInt();
        if (d.HasMember("retry_after")) f.retry_after = d["retry_after"].GetString();
        if (d.HasMember("delay_ms")) f.delay_ms = d["delay_ms"].GetInt();
        if (d.HasMember("malformed")) f.malformed = d["malformed"].GetBool();
        if (d.HasMember("stream_bytes")) f.stream_bytes = d["stream_bytes"].GetUint64();
        const int count = d.HasMember("count") ? d["count"].GetInt() : 1;
        std::lock_guard lock(mutex_);
        for (int i = 0; i < count; ++i) queue_.push_back(f);
    }
    bool next(Fault& f) {
        std::lock_guard lock(mutex_);
        if (queue_.empty()) return false;
        f = queue_.front();
        queue_.pop_front();
        return true;
    }

private:
    std::mutex mutex_;
    std::deque<Fault> queue_;
};

std::string requests_json(const std::vector<RecordedRequest>& requests) {
    std::string out = "[";
    for (size_t i = 0; i < requests.size(); ++i) {
        const auto& r = requests[i];
        if (r.target.rfind("/_sim/", 0) == 0) continue;
        std::string headers;
        for (const auto& [k, v] : r.headers) headers += (headers.empty() ? "" : ",") + json_string(k) + ":" + json_string(v);
        out += (out.size() > 1 ? "," : "") + (R"({"method":)" + json_string(r.method) + R"(,"target":)" +
                                               json_string(r.target) + R"(,"headers":{)" + headers + R"(},"body":)" +
                                               json_string(r.body) + "}");
    }
    return out + "]";
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    uint16_t port = 0;
    size_t record = 100'000;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--api") o.api = v;
        else if (k == "--port") port = static_cast<uint16_t>(std::stoi(v));
        else if (k == "--token") o.token = v;
        else if (k == "--items") o.items = std::stol(v);
        else if (k == "--rate-limit") o.rate_limit = v != "off";
        else if (k == "--auth") o.auth = v;
        else if (k == "--public-key") o.public_key_file = v;
        else if (k == "--client-id") o.client_id = v;
        else if (k == "--client-secret") o.client_secret = v;
        else if (k == "--client-auth") o.client_auth = v;
        else if (k == "--bucket") o.bucket_size = std::stoi(v);
        else if (k == "--leak") o.leak_per_second = std::stod(v);
        else if (k == "--per-page-cap") o.per_page_cap = std::stol(v);
        else if (k == "--token-ttl") o.token_ttl_s = std::stol(v);
        else if (k == "--record") record = std::stoul(v);
        else if (k == "--bench-token") o.bench_token = v;
        else {
            std::cerr << "junction-sim: unknown option " << k << "\n";
            return 2;
        }
    }
    std::unique_ptr<Api> api = o.api == "shopify" ? make_shopify(o)
                               : o.api == "netsuite" ? make_netsuite(o)
                               : o.api == "lab" ? make_lab(o)
                               : o.api == "woocommerce" ? make_woocommerce(o)
                               : o.api == "hubspot" ? make_hubspot(o)
                               : o.api == "voyado" ? make_voyado(o)
                               : o.api == "items" ? make_items(o)
                                                : nullptr;
    if (!api) {
        std::cerr << "junction-sim: --api must be shopify, netsuite, lab, woocommerce, hubspot, voyado or items\n";
        return 2;
    }
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // a test or demo that dies does not leave us running
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    Faults faults;
    junction::testing::HttpTestServer* self = nullptr;
    junction::testing::HttpTestServer server(
        [&](const RecordedRequest& raw) -> CannedResponse {
            const Request r = parse_request(raw);
            if (r.path == "/_sim/received") return json_response(200, api->received());
            if (r.path == "/_sim/stats") return json_response(200, api->stats());
            if (r.path == "/_sim/requests") return json_response(200, requests_json(self->requests()));
            if (r.path == "/_sim/revoke") {
                api->revoke_tokens();
                return json_response(200, "{}");
            }
            if (r.path == "/_sim/faults") {
                try {
                    faults.add(raw.body);
                    return json_response(200, "{}");
                } catch (const std::exception& e) {
                    return json_response(400, R"({"error":)" + json_string(e.what()) + "}");
                }
            }
            Fault f;
            if (faults.next(f)) {
                CannedResponse res = json_response(f.status ? f.status : 200, f.malformed ? R"({"orders":[{"id":1,)" : "{}");
                if (!f.retry_after.empty()) res.headers.emplace_back("Retry-After", f.retry_after);
                res.delay_ms = f.delay_ms;
                res.stream_bytes = f.stream_bytes;
                if (!f.malformed && !f.stream_bytes && !f.status) {  // delay only: then answer for real
                    CannedResponse real = api->handle(r);
                    real.delay_ms = f.delay_ms;
                    return real;
                }
                return res;
            }
            return api->handle(r);
        },
        record, port);
    self = &server;
    o.base_url = "http://127.0.0.1:" + std::to_string(server.port());
    std::cout << "junction-sim " << o.api << " listening on " << o.base_url << std::endl;
    int sig = 0;
    sigwait(&signals, &sig);
    return 0;
}
