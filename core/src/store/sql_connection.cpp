#include "sql_connection.hpp"

#include <condition_variable>

namespace junction::core::sql {

namespace {

// A store no other host writes announces nothing: a wait is a pause, ended by interrupt().
class NoChanges final : public StoreChanges {
public:
    bool wait(std::chrono::milliseconds timeout) override {
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, timeout, [&] { return interrupted_; });
        interrupted_ = false;
        return false;
    }
    void interrupt() override {
        {
            std::lock_guard lock(mutex_);
            interrupted_ = true;
        }
        wake_.notify_all();
    }

private:
    std::mutex mutex_;
    std::condition_variable wake_;
    bool interrupted_ = false;
};

}  // namespace

std::unique_ptr<StoreChanges> Connection::listen_for_changes() { return std::make_unique<NoChanges>(); }

int Connection::read_version() {
    Statement s(*this, "SELECT version FROM schema_version");
    return s.step() ? static_cast<int>(s.integer(0)) : 0;
}

void Connection::migrate(const std::vector<const char*>& migrations, const std::string& where) {
    const int known = static_cast<int>(migrations.size());
    for (;;) {
        bool done = false;
        transaction([&] {
            lock_schema();
            exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)");
            // Read under the lock: another host may have migrated while this one waited.
            const int version = read_version();
            if (version > known)
                throw Error(Errc::invalid_argument,
                            "the store was written by a newer Junction (schema version " + std::to_string(version) +
                                ", this build knows " + std::to_string(known) + "); run that version or newer",
                            where);
            if (version == known) {
                done = true;
                return;
            }
            exec(migrations[static_cast<size_t>(version)]);
            exec("DELETE FROM schema_version");
            Statement s(*this, "INSERT INTO schema_version(version) VALUES(?)");
            s.bind(1, static_cast<int64_t>(version + 1)).run();
        });
        if (done) return;
    }
}

}  // namespace junction::core::sql
