#include "admin_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <optional>
#include <thread>
#include <vector>

namespace junction::daemon {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string error_body(const char* code, const std::string& message) {
    return R"({"error":{"code":")" + std::string(code) + R"(","message":")" + message +
           R"(","details":[]}})";
}

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket socket, asio::thread_pool& workers, const AdminServer::Dispatch& dispatch,
            size_t max_body)
        : stream_(std::move(socket)), workers_(workers), dispatch_(dispatch), max_body_(max_body) {}

    void start() { read(); }

private:
    void read() {
        parser_.emplace();
        parser_->body_limit(max_body_);
        stream_.expires_after(std::chrono::seconds(60));  // idle keep-alive connections close
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout) return close();
        if (ec == http::error::body_limit) {
            return respond(413, error_body("payload_too_large",
                                           "the request body is larger than " +
                                               std::to_string(max_body_) + " bytes"),
                           false);
        }
        if (ec) {
            if (ec == asio::error::operation_aborted || ec == asio::error::connection_reset) return close();
            return respond(400, error_body("bad_request", "malformed HTTP request"), false);
        }
        auto request = parser_->release();
        HttpRequest req;
        req.method = std::string(request.method_string());
        const auto target = request.target();
        split_target(std::string_view(target.data(), target.size()), req.path, req.query);
        req.authorization = std::string(request[http::field::authorization]);
        req.body = std::move(request.body());
        const bool keep_alive = request.keep_alive();
        // Handlers may block (a plugin call): run them off the network threads.
        asio::post(workers_, [self = shared_from_this(), req = std::move(req), keep_alive]() mutable {
            HttpResponse res;
            try {
                res = self->dispatch_(req);
            } catch (const std::exception& e) {
                res = {500, error_body("internal", "the daemon failed to handle the request"), "application/json", {}};
            }
            asio::post(self->stream_.get_executor(), [self, res = std::move(res), keep_alive]() mutable {
                self->write(std::move(res), keep_alive);
            });
        });
    }

    void respond(int status, std::string body, bool keep_alive) {
        write(HttpResponse{status, std::move(body), "application/json", {}}, keep_alive);
    }

    void write(HttpResponse res, bool keep_alive) {
        auto msg = std::make_shared<http::response<http::string_body>>(
            static_cast<http::status>(res.status), 11);
        msg->set(http::field::server, "junctiond");
        msg->set(http::field::content_type, res.content_type);
        for (const auto& [k, v] : res.headers) msg->set(k, v);
        msg->body() = std::move(res.body);
        msg->keep_alive(keep_alive);
        msg->prepare_payload();
        http::async_write(stream_, *msg,
                          [self = shared_from_this(), msg, keep_alive](beast::error_code ec, size_t) {
                              if (ec || !keep_alive) return self->close();
                              self->read();
                          });
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }

    beast::tcp_stream stream_;
    asio::thread_pool& workers_;
    const AdminServer::Dispatch& dispatch_;
    size_t max_body_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
};

}  // namespace

struct AdminServer::Impl {
    ServerOptions options;
    Dispatch dispatch;
    asio::io_context io;
    tcp::acceptor acceptor{io};
    asio::thread_pool workers;
    std::vector<std::thread> threads;
    bool stopped = false;

    Impl(const ServerOptions& o, Dispatch d)
        : options(o), dispatch(std::move(d)), workers(o.worker_threads) {}

    void accept() {
        acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
            if (ec) {
                if (ec == asio::error::operation_aborted) return;
            } else {
                std::make_shared<Session>(std::move(socket), workers, dispatch, options.max_body_bytes)->start();
            }
            accept();
        });
    }
};

AdminServer::AdminServer(const ServerOptions& options, Dispatch dispatch)
    : impl_(std::make_unique<Impl>(options, std::move(dispatch))) {
    beast::error_code ec;
    const auto address = asio::ip::make_address(options.address, ec);
    if (ec) throw std::runtime_error("invalid listen address '" + options.address + "'");
    const tcp::endpoint endpoint(address, options.port);
    impl_->acceptor.open(endpoint.protocol());
    impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
    impl_->acceptor.bind(endpoint, ec);
    if (ec)
        throw std::runtime_error("cannot listen on " + options.address + ":" +
                                 std::to_string(options.port) + ": " + ec.message() +
                                 "; choose another address with --listen");
    impl_->acceptor.listen();
    impl_->accept();
    for (unsigned i = 0; i < std::max(1u, options.io_threads); ++i)
        impl_->threads.emplace_back([this] { impl_->io.run(); });
}

AdminServer::~AdminServer() { stop(); }

uint16_t AdminServer::port() const { return impl_->acceptor.local_endpoint().port(); }

void AdminServer::stop() {
    if (impl_->stopped) return;
    impl_->stopped = true;
    asio::post(impl_->io, [this] {
        beast::error_code ignored;
        impl_->acceptor.close(ignored);
    });
    impl_->workers.join();
    impl_->io.stop();
    for (auto& t : impl_->threads) t.join();
}

}  // namespace junction::daemon
