// What every simulated API shares: the parsed request, the helpers to answer it, and the
// interface junction-sim drives. Simulators play third-party APIs over real sockets for
// tests, the demo and benchmarks: they enforce auth, paginate, rate-limit and remember
// what they received.
#pragma once

#include "http_test_server.hpp"

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <ctime>

namespace junction::sim {

using testing::CannedResponse;
using testing::RecordedRequest;

struct Request {
    std::string method;
    std::string path;                          // without the query
    std::map<std::string, std::string> query;  // decoded
    const RecordedRequest* raw = nullptr;

    std::string header(const std::string& lower_name) const;
    std::string param(const std::string& name, std::string fallback = {}) const;
};

Request parse_request(const RecordedRequest& raw);
std::map<std::string, std::string> parse_form(std::string_view body);
std::string url_decode(std::string_view s);
std::string url_encode(std::string_view s);
std::string json_string(std::string_view s);  // a quoted, escaped JSON string
CannedResponse json_response(int status, std::string body);
// UTC instants as APIs write them: "2026-01-01T00:00:00+00:00" (iso_utc), and the seconds
// of "YYYY-MM-DDTHH:MM:SS" (any suffix ignored), -1 when it is not one.
std::string iso_utc(time_t t);
time_t parse_iso_utc(const std::string& s);

struct Options {
    std::string api;
    std::string token = "test-token";  // Shopify access token, bearer token, api key...
    std::string auth = "bearer";       // lab: none, basic, bearer, api_key_header, api_key_query,
                                       // query_key_pair (consumer_key = client id, consumer_secret =
                                       // client secret), session (a login at /lab/login),
                                       // client_credentials, jwt, refresh_token
    std::string client_auth = "basic"; // how an OAuth client proves itself: basic or body
    std::string client_id = "client-1";
    std::string client_secret = "client-secret";
    std::string username = "user";
    std::string password = "password";
    std::string refresh_token = "refresh-1";
    std::string key_id = "key-1";
    std::string public_key_file;       // PEM: verifies JWT assertions
    std::string bench_token;           // a bearer always accepted, so a benchmark's tight client
                                       // can measure the API without an OAuth client
    long token_ttl_s = 3600;
    long items = 1000;                 // records served
    long per_page_cap = 100;           // woocommerce: the most per_page gives, silently
    bool rate_limit = true;
    int bucket_size = 40;              // shopify: the leaky bucket's size and leak (requests a
    double leak_per_second = 2.0;      // second); a test shrinks them to overflow it for sure
    std::string base_url;              // http://127.0.0.1:PORT, set once listening
};

class Api {
public:
    virtual ~Api() = default;
    virtual CannedResponse handle(const Request& request) = 0;
    // What the API received that tests check (records written), as JSON.
    virtual std::string received() const { return "{}"; }
    // Cheap counters for benchmarks (no record bodies).
    virtual std::string stats() const { return "{}"; }
    virtual void revoke_tokens() {}
};

std::unique_ptr<Api> make_shopify(const Options& o);
std::unique_ptr<Api> make_netsuite(const Options& o);
std::unique_ptr<Api> make_lab(const Options& o);
std::unique_ptr<Api> make_woocommerce(const Options& o);
std::unique_ptr<Api> make_hubspot(const Options& o);
std::unique_ptr<Api> make_voyado(const Options& o);
std::unique_ptr<Api> make_items(const Options& o);

// Checks a JWT assertion (RS256/ES256) with the PEM public key; on success fills the
// claims JSON text, else `why`.
bool verify_jwt(const std::string& jwt, const std::string& public_key_pem, std::string& claims, std::string& why);

}  // namespace junction::sim
