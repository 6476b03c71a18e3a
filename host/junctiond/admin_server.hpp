// The HTTP/1.1 transport of the admin API (Boost.Beast): plain or TLS, keep-alive, a request size limit,
// handlers run on a worker pool so a slow call never stalls the network threads. It knows
// nothing of routes or auth: it hands each request to `dispatch`.
#pragma once

#include "http_types.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace junction::daemon {

// A PEM certificate chain and its private key.
struct TlsFiles {
    std::string cert_file;
    std::string key_file;
};

struct ServerOptions {
    std::string address = "127.0.0.1";
    uint16_t port = 8750;              // 0: any free port
    size_t max_body_bytes = 1u << 20;  // larger bodies get 413
    unsigned io_threads = 2;
    unsigned worker_threads = 8;
    std::optional<TlsFiles> tls;  // HTTPS when set
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
