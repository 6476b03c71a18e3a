// The requests of the black-box API fuzz run: every documented route, with path
// parameters, query strings and bodies drawn from valid documents, mutations of them and
// hostile shapes (deep nesting, long strings, many keys, invalid UTF-8, huge numbers).
#pragma once

#include <cstddef>
#include <random>
#include <string>
#include <vector>

namespace fuzz {

struct RouteTemplate {
    std::string method;
    std::string path;  // "/v1/instances/{name}"
};

struct Request {
    std::string method;
    std::string target;  // path and query, percent-encoded where needed
    std::string route;   // the template it came from, for the report
    std::string body;
    bool authorized = true;
};

class InputMaker {
public:
    // `max_body` is the daemon's body limit (a few bodies go just over it); `data_dir` is
    // where instance configs point; `max_depth` caps the nesting of generated bodies (0: up
    // to the body limit, which kills a daemon whose parser recurses).
    InputMaker(std::vector<RouteTemplate> routes, size_t max_body, std::string data_dir, uint64_t seed,
               size_t max_depth = 0, std::string kinds = "vmhrpq");
    Request next();

private:
    std::string path_value();
    std::string query();
    std::string body_for(const std::string& route);
    std::string valid_body(const std::string& route);
    std::string mutate(std::string text);
    std::string hostile_body();
    std::string random_json(size_t budget);
    std::string random_string(size_t length);
    size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
    bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }

    std::vector<RouteTemplate> routes_;
    size_t max_body_;
    std::string data_dir_;
    size_t max_depth_;
    // Which inputs it makes, for bisecting: v valid, m mutated, h hostile, r random JSON
    // bodies (a kind left out becomes "{}"), p random path values, q query strings.
    std::string kinds_;
    bool has(char kind) const { return kinds_.find(kind) != std::string::npos; }
    std::mt19937_64 rng_;
};

// The route templates of an OpenAPI document's "paths".
std::vector<RouteTemplate> routes_of(const std::string& openapi_json);

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. Returns the
// offset of the first byte that breaks it, std::string::npos when the text is valid.
size_t invalid_utf8_at(const std::string& text);
inline bool valid_utf8(const std::string& text) { return invalid_utf8_at(text) == std::string::npos; }

}  // namespace fuzz
