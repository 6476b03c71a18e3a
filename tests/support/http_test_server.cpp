#include "http_test_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <stdexcept>

namespace junction::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

HttpTestServer::HttpTestServer(Handler handler, size_t max_recorded, uint16_t port)
    : handler_(std::move(handler)), max_recorded_(max_recorded) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 64) != 0)
        throw std::runtime_error("test server cannot listen on 127.0.0.1");
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
}

HttpTestServer::~HttpTestServer() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    ::close(listen_fd_);
    {
        std::lock_guard lock(mutex_);
        for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : connections_) t.join();
}

std::string HttpTestServer::url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<RecordedRequest> HttpTestServer::requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
}

void HttpTestServer::accept_loop() {
    while (!stopping_) {
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            if (stopping_) return;
            continue;
        }
        std::lock_guard lock(mutex_);
        open_fds_.push_back(fd);
        connections_.emplace_back([this, fd] { serve(fd); });
    }
}

namespace {

// Headers with the announced length, then filler (a JSON array that never ends) until
// the length is reached or the client gives up.
void stream(asio::ip::tcp::socket& socket, const CannedResponse& canned, unsigned version) {
    http::response<http::empty_body> res{static_cast<http::status>(canned.status), version};
    for (const auto& [k, v] : canned.headers) res.set(k, v);
    res.content_length(canned.stream_bytes);
    res.keep_alive(false);
    beast::error_code ec;
    http::response_serializer<http::empty_body> header(res);
    http::write_header(socket, header, ec);
    std::string chunk = "[";
    while (chunk.size() < 64 * 1024) chunk += R"({"filler":"0123456789abcdef0123456789abcdef"},)";
    for (uint64_t sent = 0; !ec && sent < canned.stream_bytes;) {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), canned.stream_bytes - sent));
        sent += asio::write(socket, asio::buffer(chunk.data(), n), ec);
    }
}

}  // namespace

void HttpTestServer::serve(int fd) {
    asio::io_context io;
    asio::ip::tcp::socket socket(io, asio::ip::tcp::v4(), fd);
    beast::flat_buffer buffer;
    for (;;) {
        http::request<http::string_body> req;
        beast::error_code ec;
        http::read(socket, buffer, req, ec);
        if (ec) break;
        RecordedRequest rec;
        rec.method = std::string(req.method_string());
        rec.target = std::string(req.target());
        rec.body = req.body();
        for (const auto& field : req) {
            std::string name(field.name_string());
            std::transform(name.begin(), name.end(), name.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            rec.headers[name] = std::string(field.value());
        }
        {
            std::lock_guard lock(mutex_);
            if (max_recorded_ > 0) {
                if (requests_.size() >= max_recorded_) requests_.erase(requests_.begin());
                requests_.push_back(rec);
            }
        }
        const CannedResponse canned = handler_(rec);
        if (canned.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(canned.delay_ms));
        if (canned.stream_bytes > 0) {
            stream(socket, canned, req.version());
            break;
        }
        http::response<http::string_body> res{static_cast<http::status>(canned.status),
                                              req.version()};
        for (const auto& [k, v] : canned.headers) res.set(k, v);
        res.body() = canned.body;
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        http::write(socket, res, ec);
        if (ec || !res.keep_alive()) break;
    }
    {
        std::lock_guard lock(mutex_);  // the destructor must not touch a closed descriptor
        std::erase(open_fds_, fd);
    }
    beast::error_code ignored;
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
}

}  // namespace junction::testing
