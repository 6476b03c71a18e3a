// The SQLite connection the stores share: the handle, its mutex, its prepared statements,
// transactions and forward-only migrations. Internal to core/src/store; the only place
// besides the stores that sees sqlite3.h.
#pragma once

#include <junction/core/common/error.hpp>

#include <sqlite3.h>

#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace junction::core::sqlite {

// Prepared statements, kept for the life of the connection: preparing costs more than
// running most of our queries. Used only under the store's mutex.
class StatementCache {
public:
    explicit StatementCache(sqlite3*& db) : db_(db) {}
    ~StatementCache() { clear(); }
    // Before the connection closes: it refuses to while statements exist.
    void clear() {
        for (auto& [sql, entry] : cache_) sqlite3_finalize(entry.stmt);
        cache_.clear();
    }
    sqlite3* db() const { return db_; }

    // A statement for `sql`, reset and unbound; a fresh one when the cached one is in use
    // (a query run while another with the same text is still stepping).
    sqlite3_stmt* take(const std::string& sql, bool& cached) {
        auto [it, added] = cache_.try_emplace(sql);
        cached = !it->second.in_use;
        if (added || cached) {
            if (!it->second.stmt) it->second.stmt = prepare(sql, SQLITE_PREPARE_PERSISTENT);
            it->second.in_use = true;
            return it->second.stmt;
        }
        return prepare(sql, 0);
    }
    void give_back(const std::string& sql, sqlite3_stmt* stmt, bool cached) {
        if (!cached) {
            sqlite3_finalize(stmt);
            return;
        }
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
        cache_[sql].in_use = false;
    }

private:
    struct Entry {
        sqlite3_stmt* stmt = nullptr;
        bool in_use = false;
    };
    sqlite3_stmt* prepare(const std::string& sql, unsigned flags) {
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), flags, &stmt, nullptr) != SQLITE_OK)
            throw Error(Errc::internal, std::string("store: cannot prepare SQL: ") + sqlite3_errmsg(db_));
        return stmt;
    }
    sqlite3*& db_;
    std::unordered_map<std::string, Entry> cache_;
};

class Statement {
public:
    Statement(StatementCache& cache, std::string sql)
        : cache_(cache), db_(cache.db()), sql_(std::move(sql)), stmt_(cache.take(sql_, cached_)) {}
    ~Statement() { cache_.give_back(sql_, stmt_, cached_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    // An empty view may have a null data(); SQLite would bind NULL, not an empty value.
    Statement& bind(int i, std::string_view v) {
        sqlite3_bind_blob(stmt_, i, v.data() ? v.data() : "", static_cast<int>(v.size()),
                          SQLITE_TRANSIENT);
        return *this;
    }
    Statement& bind_text(int i, std::string_view v) {
        sqlite3_bind_text(stmt_, i, v.data() ? v.data() : "", static_cast<int>(v.size()),
                          SQLITE_TRANSIENT);
        return *this;
    }
    Statement& bind(int i, int64_t v) {
        sqlite3_bind_int64(stmt_, i, v);
        return *this;
    }
    // True while there is a row.
    bool step() {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        if (rc == SQLITE_CONSTRAINT)
            throw Error(Errc::already_exists, std::string("store: ") + sqlite3_errmsg(db_));
        throw Error(Errc::io, std::string("store: ") + sqlite3_errmsg(db_));
    }
    void run() { step(); }
    std::string text(int col) const {
        const void* p = sqlite3_column_blob(stmt_, col);
        const int n = sqlite3_column_bytes(stmt_, col);
        return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
    }
    int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
    bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

private:
    StatementCache& cache_;
    sqlite3* db_;
    std::string sql_;
    bool cached_ = false;
    sqlite3_stmt* stmt_;
};

// One open database file. Every user locks `mutex` around its statements.
class Connection {
public:
    // Opens (creating) the file in WAL mode and applies the migrations it lacks.
    Connection(const std::filesystem::path& file, const std::vector<const char*>& migrations);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    void exec(const char* sql);
    int read_version();
    int changes() const { return sqlite3_changes(db); }

    // Runs `body` in one BEGIN IMMEDIATE transaction (mutex held by the caller).
    template <class F>
    void transaction(F&& body) {
        exec("BEGIN IMMEDIATE");
        try {
            body();
            exec("COMMIT");
        } catch (...) {
            sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
    }

    std::mutex mutex;
    sqlite3* db = nullptr;
    StatementCache statements{db};

private:
    void migrate(const std::filesystem::path& file, const std::vector<const char*>& migrations);
};

// Every migration of the store's schema, oldest first (sqlite_schema.cpp).
const std::vector<const char*>& store_migrations();

}  // namespace junction::core::sqlite
