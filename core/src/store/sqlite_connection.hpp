// The SQLite engine of the store (sql_connection.hpp): the handle, its prepared statements
// and transactions. The only place that sees sqlite3.h.
#pragma once

#include "sql_connection.hpp"

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

// One open database file.
class SqliteConnection final : public sql::Connection {
public:
    // Opens (creating) the file in WAL mode and applies the migrations it lacks.
    SqliteConnection(const std::filesystem::path& file, const std::vector<const char*>& migrations);
    ~SqliteConnection() override;
    SqliteConnection(const SqliteConnection&) = delete;
    SqliteConnection& operator=(const SqliteConnection&) = delete;

    std::unique_ptr<sql::Cursor> query(const std::string& sql) override;
    void exec(const char* sql) override;
    // BEGIN IMMEDIATE already keeps every other writer out.
    void lock_for_rewrite(const std::vector<std::string>&) override {}
    std::string row_lock(std::string_view) const override { return {}; }
    std::string row_claim(std::string_view) const override { return {}; }
    bool shared() const override { return false; }  // locked by one process (locking_mode=EXCLUSIVE)
    std::string integrity_check() override;
    std::string describe() const override { return "SQLite " + file_.string(); }

protected:
    void begin() override { exec("BEGIN IMMEDIATE"); }
    void commit() override { exec("COMMIT"); }
    void rollback() noexcept override { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); }

private:
    std::filesystem::path file_;
    sqlite3* db_ = nullptr;
    StatementCache statements_{db_};
};

// Every migration of the store's schema, oldest first (sqlite_schema.cpp).
const std::vector<const char*>& store_migrations();

}  // namespace junction::core::sqlite
