#include "sqlite_connection.hpp"

namespace junction::core::sqlite {

Connection::Connection(const std::filesystem::path& file, const std::vector<const char*>& migrations) {
    if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
        const std::string why = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        throw Error(Errc::io, "cannot open the store: " + why, file.string());
    }
    sqlite3_busy_timeout(db, 2000);
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
        migrate(file, migrations);
    } catch (const Error& e) {
        statements.clear();
        sqlite3_close(db);
        if (e.message().find("locked") != std::string::npos)
            throw Error(Errc::io,
                        "the store is in use by another process (is another junctiond running on this state "
                        "directory?); stop it, or give this one its own --state-dir",
                        file.string());
        throw;
    } catch (...) {
        statements.clear();
        sqlite3_close(db);
        throw;
    }
}

Connection::~Connection() {
    statements.clear();
    sqlite3_close(db);
}

void Connection::exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string why = err ? err : "unknown error";
        sqlite3_free(err);
        throw Error(Errc::io, "store: " + why);
    }
}

int Connection::read_version() {
    Statement s(statements, "SELECT version FROM schema_version");
    return s.step() ? static_cast<int>(s.integer(0)) : 0;
}

void Connection::migrate(const std::filesystem::path& file, const std::vector<const char*>& migrations) {
    exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)");
    const int known = static_cast<int>(migrations.size());
    int version = read_version();
    if (version > known)
        throw Error(Errc::invalid_argument,
                    "the store was written by a newer Junction (schema version " + std::to_string(version) +
                        ", this build knows " + std::to_string(known) + "); run that version or newer",
                    file.string());
    for (; version < known; ++version) {
        transaction([&] {
            exec(migrations[static_cast<size_t>(version)]);
            exec("DELETE FROM schema_version");
            Statement s(statements, "INSERT INTO schema_version(version) VALUES(?)");
            s.bind(1, static_cast<int64_t>(version + 1)).run();
        });
    }
}

}  // namespace junction::core::sqlite
