#include "admin_server.hpp"
#include "process_limits.hpp"
#include "vector_registers.hpp"

#include <junction/core/common/json.hpp>
#include <junction/core/common/log.hpp>
#include <junction/core/common/thread_name.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/crypto.h>

#include <algorithm>
#include <atomic>
#include <map>
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

// The handler pool's threads (asio::thread_pool starts them unnamed): `jn-api-N`, named
// at each one's first request.
void name_handler_thread() {
    static std::atomic<unsigned> named{0};
    thread_local bool done = false;
    if (!done) core::name_this_thread("jn-api", named);
    done = true;
}

std::string error_body(const char* code, const std::string& message) {
    return R"({"error":{"code":)" + core::json_quote(code) + R"(,"message":)" + core::json_quote(message) +
           R"(,"details":[]}})";
}

// A request or response at least this large leaves memory worth giving back.
constexpr size_t kLargeMessage = 64 * 1024;

// Open connections per client address, so one address cannot hold every descriptor.
class ClientCounts {
public:
    explicit ClientCounts(unsigned limit) : limit_(limit) {}
    // False (nothing counted) when the address already holds the limit.
    bool try_add(const asio::ip::address& address) {
        std::lock_guard lock(mutex_);
        unsigned& n = counts_[address];
        if (n >= limit_) return false;
        ++n;
        return true;
    }
    void remove(const asio::ip::address& address) {
        std::lock_guard lock(mutex_);
        auto it = counts_.find(address);
        if (it != counts_.end() && --it->second == 0) counts_.erase(it);
    }
    unsigned limit() const { return limit_; }

private:
    std::mutex mutex_;
    std::map<asio::ip::address, unsigned> counts_;
    unsigned limit_;
};

// What every session shares with the server; outlives the sessions.
struct SessionContext {
    const ServerOptions& options;
    const AdminServer::Dispatch& dispatch;
    asio::thread_pool& workers;
    ClientCounts& clients;
    std::atomic<bool>& large_message_seen;  // since the last trim
};

// One connection: plain HTTP (Stream = beast::tcp_stream) or HTTPS (TlsStream).
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
    static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

public:
    // `tls` keeps the context a TLS session was made with alive (a reload replaces it).
    // The client's address is already counted in `context.clients`; the session uncounts it.
    Session(tcp::socket socket, asio::ip::address client, std::shared_ptr<ssl::context> tls,
            const SessionContext& context)
        : tls_(std::move(tls)), stream_(make_stream(std::move(socket), tls_.get())), client_(client),
          clients_(context.clients), context_(context) {}
    // Sessions still queued when the server goes are destroyed with its io_context, after the
    // context: only the counts (which outlive the io_context) are touched here.
    ~Session() { clients_.remove(client_); }

    void start() {
        if constexpr (kTls) {
            beast::get_lowest_layer(stream_).expires_after(seconds(context_.options.header_timeout_seconds));
            stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
                if (!ec) self->read();  // a failed handshake just drops the connection
            });
        } else {
            read();
        }
    }

private:
    static std::chrono::seconds seconds(unsigned n) { return std::chrono::seconds(n); }

    static Stream make_stream(tcp::socket socket, ssl::context* tls) {
        if constexpr (kTls) return Stream(std::move(socket), *tls);
        else return Stream(std::move(socket));
    }

    // The headers first, under their own short deadline (slowloris), then the body.
    // The parser starts with the largest limit any path has; once the target is known, the
    // path's own limit applies (a declared length over it is refused before the body is read).
    void read() {
        parser_.emplace();
        parser_->body_limit(largest_body_limit());
        body_limit_ = {context_.options.max_body_bytes, "the request body", "send less in one request"};
        beast::get_lowest_layer(stream_).expires_after(seconds(context_.options.header_timeout_seconds));
        http::async_read_header(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
            // Over the largest limit: the parser refused it, the path's limit names it.
            if (ec == http::error::body_limit) self->choose_path_body_limit();
            if (ec) return self->on_read(ec);
            if (!self->apply_path_body_limit()) return self->on_read(http::error::body_limit);
            beast::get_lowest_layer(self->stream_).expires_after(seconds(self->context_.options.request_timeout_seconds));
            http::async_read(self->stream_, self->buffer_, *self->parser_,
                             [self](beast::error_code ec2, size_t) { self->on_read(ec2); });
        });
    }

    void on_read(beast::error_code ec) {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == ssl::error::stream_truncated)
            return close();
        if (ec == http::error::body_limit) {
            return respond(413, error_body("payload_too_large",
                                           body_limit_.what + " is larger than " +
                                               std::to_string(body_limit_.max_bytes) + " bytes; " + body_limit_.advice),
                           false);
        }
        if (ec) {
            if (ec == asio::error::operation_aborted || ec == asio::error::connection_reset) return close();
            return respond(400, error_body("bad_request", "malformed HTTP request"), false);
        }
        // No deadline while the handler runs: the write sets its own.
        beast::get_lowest_layer(stream_).expires_never();
        auto request = parser_->release();
        parser_.reset();
        forget_read_bytes();
        HttpRequest req;
        req.method = std::string(request.method_string());
        const auto target = request.target();
        split_target(std::string_view(target.data(), target.size()), req.path, req.query);
        req.authorization = std::string(request[http::field::authorization]);
        req.body = std::move(request.body());
        const bool keep_alive = request.keep_alive();
        if (req.method == "GET" && is_inline(req.path)) {
            write(handle(req), keep_alive);
            req = {};
            wipe_vector_registers();
            return;
        }
        // Handlers may block (a plugin call): run them off the network threads.
        asio::post(context_.workers, [self = this->shared_from_this(), req = std::move(req), keep_alive]() mutable {
            name_handler_thread();
            HttpResponse res = self->handle(req);
            if (req.body.size() >= kLargeMessage || res.body.size() >= kLargeMessage)
                self->context_.large_message_seen = true;
            req = {};  // the body goes now, not when the reply is written
            asio::post(self->stream_.get_executor(), [self, res = std::move(res), keep_alive]() mutable {
                self->write(std::move(res), keep_alive);
            });
            wipe_vector_registers();
        });
        wipe_vector_registers();
    }

    // A request's bytes (the admin token, a config's credentials) stay in the connection's
    // read buffer, which a keep-alive connection keeps: wiped once parsed, unless the next
    // request's first bytes are already there. (Freed buffers are wiped by junctiond's free.)
    void forget_read_bytes() {
        if (buffer_.size() != 0) return;
        const auto room = buffer_.prepare(buffer_.capacity());
        OPENSSL_cleanse(room.data(), room.size());
    }

    bool carries_token() const {
        if (!context_.options.token_check) return false;
        const auto header = parser_->get()[http::field::authorization];
        const bool carries = context_.options.token_check(std::string(header.data(), header.size()));
        wipe_vector_registers();
        return carries;
    }

    size_t largest_body_limit() const {
        size_t largest = context_.options.max_body_bytes;
        for (const auto& limit : context_.options.path_body_limits) largest = std::max(largest, limit.max_bytes);
        return largest;
    }

    void choose_path_body_limit() {
        const auto target = parser_->get().target();
        const std::string_view path(target.data(), target.size());
        for (const auto& limit : context_.options.path_body_limits) {
            if (path.substr(0, limit.prefix.size()) != limit.prefix) continue;
            if (limit.needs_token && !carries_token()) {
                body_limit_.what = "the request body (without the admin token " + limit.setting +
                                   " does not apply, the server-wide limit does)";
                body_limit_.advice = "send 'Authorization: Bearer <token>' (the token is in <state-dir>/admin.token)";
                return;
            }
            body_limit_ = {limit.max_bytes, "the body (" + limit.setting + ")",
                           "send less in one call, or raise " + limit.setting + " in junctiond's settings"};
            return;
        }
    }

    // After the headers: false when the declared length is over the path's limit.
    bool apply_path_body_limit() {
        choose_path_body_limit();
        const auto length = parser_->content_length();
        if (length && *length > body_limit_.max_bytes) return false;
        parser_->body_limit(body_limit_.max_bytes);  // a chunked body is counted as it comes
        return true;
    }

    bool is_inline(const std::string& path) const {
        const auto& paths = context_.options.inline_get_paths;
        return std::find(paths.begin(), paths.end(), path) != paths.end();
    }

    // The dispatch (which logs its handlers' failures by route), with anything it lets escape
    // logged by method and the path's first segment: never the query string, the body or the
    // rest of the path (a webhook's path carries its secret).
    HttpResponse handle(HttpRequest& req) const {
        const auto where = [&req] {
            const size_t second = req.path.find('/', 1);
            return req.method + " " + (second == std::string::npos ? req.path : req.path.substr(0, second) + "/...");
        };
        try {
            return context_.dispatch(req);
        } catch (const std::exception& e) {
            core::log_error("admin-api", where() + " failed: " + e.what());
        } catch (...) {
            core::log_error("admin-api", where() + " failed with an unknown exception");
        }
        return {500, error_body("internal", "the daemon failed to handle the request; its log names the route"),
                "application/json", {}};
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
        // The reply gets its own deadline, however long the handler took.
        beast::get_lowest_layer(stream_).expires_after(seconds(context_.options.write_timeout_seconds));
        http::async_write(stream_, *msg,
                          [self = this->shared_from_this(), msg, keep_alive](beast::error_code ec, size_t) {
                              if (ec || !keep_alive) return self->close();
                              // A keep-alive connection keeps no large read buffer between requests.
                              if (self->buffer_.capacity() >= kLargeMessage) {
                                  self->buffer_.clear();
                                  self->buffer_.shrink_to_fit();
                              }
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
    asio::ip::address client_;
    ClientCounts& clients_;
    const SessionContext& context_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    struct BodyLimit {
        size_t max_bytes = 0;
        std::string what;    // names it in the 413
        std::string advice;  // and says what to do
    } body_limit_;
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
    // Declared before the io_context: sessions it still holds uncount themselves when it goes.
    ClientCounts clients;
    std::atomic<bool> large_message_seen{false};
    asio::io_context io;
    tcp::acceptor acceptor{io};
    asio::steady_timer accept_backoff{io};
    std::chrono::milliseconds backoff{0};  // 0: accepting normally
    asio::steady_timer trim_timer{io};
    asio::thread_pool workers;
    SessionContext context{options, dispatch, workers, clients, large_message_seen};
    std::vector<std::thread> threads;
    bool stopped = false;
    std::mutex tls_mutex;
    std::shared_ptr<ssl::context> tls;  // null: plain HTTP

    Impl(const ServerOptions& o, Dispatch d)
        : options(o), dispatch(std::move(d)), clients(std::max(1u, o.max_connections_per_client)),
          workers(o.worker_threads) {}

    std::shared_ptr<ssl::context> current_tls() {
        std::lock_guard lock(tls_mutex);
        return tls;
    }

    void accept() {
        acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
            if (ec == asio::error::operation_aborted) return;
            if (ec) return back_off(ec);
            if (backoff.count() > 0) {
                core::log_info("admin-api", "accepting connections again");
                backoff = std::chrono::milliseconds(0);
            }
            start_session(std::move(socket));
            accept();
        });
    }

    // Out of descriptors (EMFILE, ENFILE) or another accept error: retrying at once would
    // spin a core and starve the connections being served; wait, longer each time.
    void back_off(const beast::error_code& ec) {
        if (backoff.count() == 0)
            core::log_warn("admin-api", "cannot accept connections: " + ec.message() +
                                            "; retrying with back-off (raise LimitNOFILE or lower "
                                            "max-connections-per-client if descriptors run out)");
        backoff = std::clamp(backoff * 2, std::chrono::milliseconds(50), std::chrono::milliseconds(500));
        accept_backoff.expires_after(backoff);
        accept_backoff.async_wait([this](beast::error_code wait_ec) {
            if (!wait_ec) accept();
        });
    }

    void start_session(tcp::socket socket) {
        beast::error_code ec;
        const auto client = socket.remote_endpoint(ec).address();
        if (ec) return;  // already gone
        if (!clients.try_add(client)) return refuse(socket);
        if (auto ctx = current_tls())
            std::make_shared<Session<TlsStream>>(std::move(socket), client, std::move(ctx), context)->start();
        else
            std::make_shared<Session<beast::tcp_stream>>(std::move(socket), client, nullptr, context)->start();
    }

    // Over the per-address cap: a plain client is told why (one small non-blocking write,
    // best effort); a TLS one just sees the connection close.
    void refuse(tcp::socket& socket) {
        beast::error_code ignored;
        if (!current_tls()) {
            const std::string body = error_body(
                "too_many_connections", "this address already has " + std::to_string(clients.limit()) +
                                            " open connections to the admin API (max-connections-per-client); "
                                            "close some or reuse them with keep-alive");
            const std::string reply = "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
                                      "Connection: close\r\nContent-Length: " +
                                      std::to_string(body.size()) + "\r\n\r\n" + body;
            socket.non_blocking(true, ignored);
            socket.write_some(asio::buffer(reply), ignored);
        }
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
    }

    // Freed request memory goes back to the system within a second of a large request.
    void schedule_trim() {
        trim_timer.expires_after(std::chrono::seconds(1));
        trim_timer.async_wait([this](beast::error_code ec) {
            if (ec) return;
            if (large_message_seen.exchange(false)) release_free_memory();
            schedule_trim();
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
    impl_->schedule_trim();
    for (unsigned i = 0; i < std::max(1u, options.io_threads); ++i)
        impl_->threads.emplace_back([this, i] {
            core::name_this_thread("jn-http-" + std::to_string(i));
            impl_->io.run();
        });
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
        impl_->accept_backoff.cancel();
        impl_->trim_timer.cancel();
    });
    impl_->workers.join();
    impl_->io.stop();
    for (auto& t : impl_->threads) t.join();
}

}  // namespace junction::daemon
