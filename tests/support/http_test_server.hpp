// A real HTTP/1.1 server on 127.0.0.1 (Boost.Beast) for tests: answers with a handler,
// records every request it receives. Not a mock: the code under test talks to it over a
// socket like to any remote API.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace junction::testing {

struct RecordedRequest {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;
};

struct CannedResponse {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    int delay_ms = 0;           // a slow server: wait this long before answering
    uint64_t stream_bytes = 0;  // a huge body: announce this many bytes and send filler
                                // until they are sent or the client hangs up
};

class HttpTestServer {
public:
    using Handler = std::function<CannedResponse(const RecordedRequest&)>;

    // Keeps the last `max_recorded` requests (simulators under benchmark load keep few).
    explicit HttpTestServer(Handler handler, size_t max_recorded = SIZE_MAX, uint16_t port = 0);
    ~HttpTestServer();
    HttpTestServer(const HttpTestServer&) = delete;
    HttpTestServer& operator=(const HttpTestServer&) = delete;

    uint16_t port() const { return port_; }
    std::string url(const std::string& path = "/") const;
    std::vector<RecordedRequest> requests() const;

private:
    void accept_loop();
    void serve(int fd);

    Handler handler_;
    size_t max_recorded_;
    int listen_fd_ = -1;
    uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    std::thread acceptor_;
    mutable std::mutex mutex_;
    std::vector<RecordedRequest> requests_;
    std::vector<int> open_fds_;
    std::vector<std::thread> connections_;
};

}  // namespace junction::testing
