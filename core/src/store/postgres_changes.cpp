// A host's ear for the other hosts' announcements: a session of its own that LISTENs on
// the store's channel and waits on its socket, so a version switch or a package recorded
// through another host is acted on within milliseconds instead of at the next look.
// A lost session is made again at the next wait, which then reports a change: what was
// announced meanwhile was missed, so the caller looks.
#include "postgres_connection.hpp"

#include <junction/core/common/log.hpp>

#include <libpq-fe.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

namespace junction::core::postgres {

namespace {

class PostgresChanges final : public StoreChanges {
public:
    explicit PostgresChanges(std::string conninfo)
        : conninfo_(std::move(conninfo)), wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
        if (wake_fd_ < 0) throw Error(Errc::io, "store: cannot create the listener's wake-up descriptor");
    }
    ~PostgresChanges() override { ::close(wake_fd_); }

    bool wait(std::chrono::milliseconds timeout) override {
        bool changed = false;
        if (!session_ || !session_->connected()) {
            try {
                session_ = std::make_unique<PostgresConnection>(conninfo_);
                session_->exec((std::string("LISTEN ") + kChangesChannel).c_str());
                changed = true;  // anything announced before this LISTEN was not heard
                if (failing_) log_info("store", "listening for the other hosts' changes again");
                failing_ = false;
            } catch (const Error& e) {
                session_.reset();
                if (!failing_)
                    log_warn("store", std::string("cannot listen for the other hosts' changes (") + e.what() +
                                          "); looking for them every few seconds until the database answers");
                failing_ = true;
                pause(timeout);
                return false;
            }
        }
        PGconn* conn = session_->handle();
        if (take_notifications(conn)) return true;
        // Input that is no notification (the server's message before it ends the session)
        // leaves the wait going until the deadline.
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            pollfd fds[2] = {{PQsocket(conn), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
            const int ready = ::poll(fds, 2, static_cast<int>(std::max<int64_t>(0, left.count())));
            if (ready <= 0) return changed;  // the time is up
            if (fds[0].revents & (POLLIN | POLLERR | POLLHUP)) {
                if (PQconsumeInput(conn) == 0 || PQstatus(conn) != CONNECTION_OK) {  // broke: a new one next time
                    session_.reset();
                    return true;
                }
                if (take_notifications(conn)) return true;
            }
            if (fds[1].revents & POLLIN) {
                drain_wake();
                return changed;
            }
        }
    }

    void interrupt() override {
        const uint64_t one = 1;
        [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof one);
    }

private:
    static bool take_notifications(PGconn* conn) {
        bool any = false;
        while (PGnotify* n = PQnotifies(conn)) {
            any = true;
            PQfreemem(n);
        }
        return any;
    }
    void drain_wake() {
        uint64_t count = 0;
        [[maybe_unused]] const auto n = ::read(wake_fd_, &count, sizeof count);
    }
    void pause(std::chrono::milliseconds timeout) {
        pollfd fd{wake_fd_, POLLIN, 0};
        if (::poll(&fd, 1, static_cast<int>(timeout.count())) > 0) drain_wake();
    }

    std::string conninfo_;
    int wake_fd_;
    std::unique_ptr<PostgresConnection> session_;
    bool failing_ = false;
};

}  // namespace

std::unique_ptr<StoreChanges> PostgresConnection::listen_for_changes() {
    return std::make_unique<PostgresChanges>(conninfo_);
}

}  // namespace junction::core::postgres
