// The HTTP/1.1 transport of the admin API (Boost.Beast): keep-alive, a request size limit,
// handlers run on a worker pool so a slow call never stalls the network threads. It knows
// nothing of routes or auth: it hands each request to `dispatch`.
#pragma once

#include "http_types.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace junction::daemon {

struct ServerOptions {
    std::string address = "127.0.0.1";
    uint16_t port = 8750;              // 0: any free port
    size_t max_body_bytes = 1u << 20;  // larger bodies get 413
    unsigned io_threads = 2;
    unsigned worker_threads = 8;
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
    // Stops accepting, closes connections, joins the threads. Idempotent.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace junction::daemon
