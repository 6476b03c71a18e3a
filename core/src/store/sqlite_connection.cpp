#include "sqlite_connection.hpp"

namespace junction::core::sqlite {

namespace {

// A cached prepared statement, given back (reset) when the query ends.
class SqliteCursor final : public sql::Cursor {
public:
    SqliteCursor(StatementCache& cache, const std::string& sql)
        : cache_(cache), db_(cache.db()), sql_(sql), stmt_(cache.take(sql_, cached_)) {}
    ~SqliteCursor() override { cache_.give_back(sql_, stmt_, cached_); }

    // An empty view may have a null data(); SQLite would bind NULL, not an empty value.
    void bind_text(int i, std::string_view v) override {
        sqlite3_bind_text(stmt_, i, v.data() ? v.data() : "", static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    void bind_bytes(int i, std::string_view v) override {
        sqlite3_bind_blob(stmt_, i, v.data() ? v.data() : "", static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    void bind_int(int i, int64_t v) override { sqlite3_bind_int64(stmt_, i, v); }
    bool step() override {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) {
            changes_ = sqlite3_changes(db_);
            return false;
        }
        if (sqlite3_extended_errcode(db_) == SQLITE_CONSTRAINT_FOREIGNKEY)
            throw Error(Errc::not_found, std::string("store: ") + sqlite3_errmsg(db_));
        if (rc == SQLITE_CONSTRAINT) throw Error(Errc::already_exists, std::string("store: ") + sqlite3_errmsg(db_));
        throw Error(Errc::io, std::string("store: ") + sqlite3_errmsg(db_));
    }
    std::string text(int col) const override {
        const void* p = sqlite3_column_blob(stmt_, col);
        const int n = sqlite3_column_bytes(stmt_, col);
        return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
    }
    int64_t integer(int col) const override { return sqlite3_column_int64(stmt_, col); }
    bool is_null(int col) const override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
    int64_t changes() const override { return changes_; }

private:
    StatementCache& cache_;
    sqlite3* db_;
    std::string sql_;
    bool cached_ = false;
    sqlite3_stmt* stmt_;
    int64_t changes_ = 0;
};

}  // namespace

SqliteConnection::SqliteConnection(const std::filesystem::path& file, const std::vector<const char*>& migrations)
    : file_(file) {
    if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
        const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        throw Error(Errc::io, "cannot open the store: " + why, file.string());
    }
    sqlite3_busy_timeout(db_, 2000);
    // WAL with synchronous=NORMAL: a commit is durable once written to the WAL, which
    // survives a killed process; a power loss may lose the last commits but never
    // corrupts the file. See docs/decisions/0005-sqlite-store.md.
    // Exclusive locking: one process owns the store (one daemon per state directory), so
    // no file lock is taken and released around every statement, and a second daemon
    // on the same directory is refused instead of sharing it.
    try {
        exec("PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
             "PRAGMA foreign_keys=ON;");
        // The lock is taken by the first access; take it now to refuse a second owner.
        exec("BEGIN IMMEDIATE; COMMIT;");
        migrate(migrations, file.string());
    } catch (const Error& e) {
        statements_.clear();
        sqlite3_close(db_);
        if (e.message().find("locked") != std::string::npos)
            throw Error(Errc::io,
                        "the store is in use by another process (is another junctiond running on this state "
                        "directory?); stop it, or give this one its own --state-dir",
                        file.string());
        throw;
    } catch (...) {
        statements_.clear();
        sqlite3_close(db_);
        throw;
    }
}

SqliteConnection::~SqliteConnection() {
    statements_.clear();
    sqlite3_close(db_);
}

std::unique_ptr<sql::Cursor> SqliteConnection::query(const std::string& sql) {
    return std::make_unique<SqliteCursor>(statements_, sql);
}

void SqliteConnection::exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string why = err ? err : "unknown error";
        sqlite3_free(err);
        throw Error(Errc::io, "store: " + why);
    }
}

std::string SqliteConnection::integrity_check() {
    sql::Statement s(*this, "PRAGMA integrity_check");
    std::string out;
    while (s.step()) out += (out.empty() ? "" : "; ") + s.text(0);
    return out;
}

}  // namespace junction::core::sqlite
