#include "admin_server.hpp"

#include <junction/core/json.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

namespace junction::daemon {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
namespace ssl = asio::ssl;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

namespace {

std::string error_body(const char* code, const std::string& message) {
    return R"({"error":{"code":)" + core::json_quote(code) + R"(,"message":)" + core::json_quote(message) +
           R"(,"details":[]}})";
}

// One connection: plain HTTP (Stream = beast::tcp_stream) or HTTPS (TlsStream).
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
    static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

public:
    // `tls` keeps the context a TLS session was made with alive (a reload replaces it).
    Session(tcp::socket socket, std::shared_ptr<ssl::context> tls, asio::thread_pool& workers,
            const AdminServer::Dispatch& dispatch, size_t max_body)
        : tls_(std::move(tls)), stream_(make_stream(std::move(socket), tls_.get())), workers_(workers),
          dispatch_(dispatch), max_body_(max_body) {}

    void start() {
        if constexpr (kTls) {
            beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(30));
            stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
                if (!ec) self->read();  // a failed handshake just drops the connection
            });
        } else {
            read();
        }
    }

private:
    static Stream make_stream(tcp::socket socket, ssl::context* tls) {
        if constexpr (kTls) return Stream(std::move(socket), *tls);
        else return Stream(std::move(socket));
    }

    void read() {
        parser_.emplace();
        parser_->body_limit(max_body_);
        // idle keep-alive connections close
        beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(60));
        http::async_read(stream_, buffer_, *parser_,
                         [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == ssl::error::stream_truncated)
            return close();
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
        asio::post(workers_, [self = this->shared_from_this(), req = std::move(req), keep_alive]() mutable {
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
                          [self = this->shared_from_this(), msg, keep_alive](beast::error_code ec, size_t) {
                              if (ec || !keep_alive) return self->close();
                              self->read();
                          });
    }

    void close() {
        if constexpr (kTls) {
            beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
            stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
                beast::error_code ignored;
                beast::get_lowest_layer(self->stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
            });
        } else {
            beast::error_code ignored;
            stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        }
    }

    std::shared_ptr<ssl::context> tls_;
    Stream stream_;
    asio::thread_pool& workers_;
    const AdminServer::Dispatch& dispatch_;
    size_t max_body_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
};

// TLS 1.2 and newer with the certificate chain and key from PEM files; throws saying
// which file is wrong.
std::shared_ptr<ssl::context> make_tls_context(const TlsFiles& files) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    beast::error_code ec;
    ctx->use_certificate_chain_file(files.cert_file, ec);
    if (ec)
        throw std::runtime_error("cannot use the TLS certificate " + files.cert_file + ": " + ec.message() +
                                 " (tls-cert must be a PEM file: the certificate, then its chain)");
    ctx->use_private_key_file(files.key_file, ssl::context::pem, ec);
    if (ec)
        throw std::runtime_error("cannot use the TLS key " + files.key_file + ": " + ec.message() +
                                 " (tls-key must be the PEM private key of tls-cert)");
    return ctx;
}

}  // namespace

struct AdminServer::Impl {
    ServerOptions options;
    Dispatch dispatch;
    asio::io_context io;
    tcp::acceptor acceptor{io};
    asio::thread_pool workers;
    std::vector<std::thread> threads;
    bool stopped = false;
    std::mutex tls_mutex;
    std::shared_ptr<ssl::context> tls;  // null: plain HTTP

    Impl(const ServerOptions& o, Dispatch d)
        : options(o), dispatch(std::move(d)), workers(o.worker_threads) {}

    std::shared_ptr<ssl::context> current_tls() {
        std::lock_guard lock(tls_mutex);
        return tls;
    }

    void accept() {
        acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
            if (ec) {
                if (ec == asio::error::operation_aborted) return;
            } else if (auto ctx = current_tls()) {
                std::make_shared<Session<TlsStream>>(std::move(socket), std::move(ctx), workers, dispatch,
                                                     options.max_body_bytes)->start();
            } else {
                std::make_shared<Session<beast::tcp_stream>>(std::move(socket), nullptr, workers, dispatch,
                                                             options.max_body_bytes)->start();
            }
            accept();
        });
    }
};

AdminServer::AdminServer(const ServerOptions& options, Dispatch dispatch)
    : impl_(std::make_unique<Impl>(options, std::move(dispatch))) {
    if (options.tls) impl_->tls = make_tls_context(*options.tls);
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

bool AdminServer::tls() const { return impl_->current_tls() != nullptr; }

void AdminServer::reload_tls(const TlsFiles& files) {
    if (!impl_->current_tls()) throw std::runtime_error("the server was started without TLS; restart it to enable TLS");
    auto next = make_tls_context(files);  // throws before anything changes
    std::lock_guard lock(impl_->tls_mutex);
    impl_->tls = std::move(next);
}

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
