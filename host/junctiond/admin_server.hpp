// The HTTP/1.1 transport of the admin API (Boost.Beast): plain or TLS, keep-alive, a request size limit,
// handlers run on a worker pool so a slow call never stalls the network threads. It knows
// nothing of routes or auth: it hands each request to `dispatch`.
// Hostile clients cannot starve others: headers must arrive within a deadline, one client
// address holds a bounded number of connections, accept errors (out of descriptors) back
// off instead of spinning, and the cheap paths (health checks) are answered on the network
// threads so they never wait behind handlers that call plugins.
#pragma once

#include "http_types.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace junction::daemon {

// A PEM certificate chain and its private key.
struct TlsFiles {
    std::string cert_file;
    std::string key_file;
};

// Requests whose path starts with `prefix` may carry up to `max_bytes` of body instead of the
// server-wide limit (webhooks have their own setting); `setting` names it in the 413. With
// `needs_token`, only a request carrying the admin token gets it: no one without the token
// makes the daemon hold a package-sized body.
struct PathBodyLimit {
    std::string prefix;
    size_t max_bytes = 0;
    std::string setting;
    bool needs_token = false;
};

struct ServerOptions {
    std::string address = "127.0.0.1";
    uint16_t port = 8750;              // 0: any free port
    size_t max_body_bytes = 1u << 20;  // larger bodies get 413
    std::vector<PathBodyLimit> path_body_limits;  // the first matching prefix wins
    std::function<bool(const std::string& authorization)> token_check;  // for needs_token limits
    unsigned io_threads = 2;
    unsigned worker_threads = 8;
    std::optional<TlsFiles> tls;  // HTTPS when set
    unsigned header_timeout_seconds = 10;    // a request's headers (and an idle keep-alive wait)
    unsigned request_timeout_seconds = 60;   // the body, after the headers
    unsigned write_timeout_seconds = 60;     // the response, from when it is ready
    unsigned max_connections_per_client = 64;  // per client address; over it: 429 and close
    // GET paths answered on the network threads, without the worker pool: only cheap,
    // non-blocking handlers (health and readiness).
    std::vector<std::string> inline_get_paths = {"/healthz", "/readyz"};
};

class AdminServer {
public:
    using Dispatch = std::function<HttpResponse(HttpRequest&)>;

    // Binds at once; throws std::runtime_error with the address when it cannot.
    AdminServer(const ServerOptions& options, Dispatch dispatch);
    ~AdminServer();
    AdminServer(const AdminServer&) = delete;
    AdminServer& operator=(const AdminServer&) = delete;

    uint16_t port() const;
    bool tls() const;
    // New connections use the certificate and key now in these files (a renewed
    // certificate); throws, changing nothing, when they cannot be used.
    void reload_tls(const TlsFiles& files);
    // Stops accepting, closes connections, joins the threads. Idempotent.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace junction::daemon
