// What the store's queries need of a database, whichever it is: statements with numbered
// parameters, transactions, forward-only migrations. The stores (sql_store.cpp,
// sql_flow_store.cpp) are written once against it; sqlite_connection.cpp and
// postgres_connection.cpp are its two engines (decision 0023). Internal to core/src/store.
//
// The SQL the stores write is the common part of both dialects: parameters as ?N (or ?),
// ON CONFLICT upserts, no engine functions. Where the engines differ in what a transaction
// guarantees, the connection says so (lock_for_rewrite, row_lock).
#pragma once

#include <junction/core/common/error.hpp>
#include <junction/core/store/store.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace junction::core::sql {

// One query being run: parameters bound, then rows stepped through. Engine-specific.
class Cursor {
public:
    virtual ~Cursor() = default;
    virtual void bind_text(int i, std::string_view v) = 0;   // a TEXT column
    virtual void bind_bytes(int i, std::string_view v) = 0;  // a BLOB / bytea column
    virtual void bind_int(int i, int64_t v) = 0;
    // True while there is a row. Throws Error(not_found) for a reference to a missing row,
    // Error(already_exists) for any other constraint violation,
    // Error(conflict) when the engine aborted a race, Error(io) otherwise.
    virtual bool step() = 0;
    virtual std::string text(int col) const = 0;  // TEXT and BLOB alike
    virtual int64_t integer(int col) const = 0;
    virtual bool is_null(int col) const = 0;
    // Rows the statement inserted, updated or deleted, once it ran.
    virtual int64_t changes() const = 0;
};

class Connection {
public:
    virtual ~Connection() = default;

    virtual std::unique_ptr<Cursor> query(const std::string& sql) = 0;
    // Statements without parameters or rows (several, separated by ';').
    virtual void exec(const char* sql) = 0;

    // Runs `body` in one transaction (mutex held by the caller): all of it or none.
    template <class F>
    void transaction(F&& body) {
        begin();
        try {
            body();
            commit();
        } catch (...) {
            rollback();
            throw;
        }
    }

    // Inside a transaction: no other writer of these tables until it ends. SQLite's
    // transactions already exclude every other writer; PostgreSQL locks the tables.
    virtual void lock_for_rewrite(const std::vector<std::string>& tables) = 0;
    // Appended to a SELECT that reads rows the transaction will decide on and write: locks
    // those rows of `table_alias` against other hosts (PostgreSQL), nothing on SQLite.
    virtual std::string row_lock(std::string_view table_alias) const = 0;
    // As row_lock, for a queue several hosts take from: rows another host has locked are
    // passed over instead of waited for (PostgreSQL's SKIP LOCKED).
    virtual std::string row_claim(std::string_view table_alias) const = 0;
    // True when other hosts may open the same database (Store::shared).
    virtual bool shared() const = 0;
    // Tells the other hosts' listeners (listen_for_changes) that what every host runs
    // changed; inside a transaction, at its commit. Nothing where no other host listens.
    virtual void announce() {}
    virtual std::unique_ptr<StoreChanges> listen_for_changes();
    // "ok", or what the engine found wrong with the stored data.
    virtual std::string integrity_check() = 0;
    // The engine and the database, never a password: "SQLite /var/lib/junction/junction.db".
    virtual std::string describe() const = 0;

    int read_version();
    // Applies the migrations the database lacks, each in its own transaction; refuses a
    // database written by a newer Junction. `where` names the database in messages.
    void migrate(const std::vector<const char*>& migrations, const std::string& where);

    std::mutex mutex;

protected:
    virtual void begin() = 0;
    virtual void commit() = 0;
    virtual void rollback() noexcept = 0;
    // Inside a migration's transaction: one host migrates at a time.
    virtual void lock_schema() {}
};

// A query on a connection: bind, step, read. Binds chain.
class Statement {
public:
    Statement(Connection& c, const std::string& sql) : cursor_(c.query(sql)) {}

    Statement& bind(int i, std::string_view v) {
        cursor_->bind_bytes(i, v);
        return *this;
    }
    Statement& bind_text(int i, std::string_view v) {
        cursor_->bind_text(i, v);
        return *this;
    }
    Statement& bind(int i, int64_t v) {
        cursor_->bind_int(i, v);
        return *this;
    }
    bool step() { return cursor_->step(); }
    void run() { step(); }
    std::string text(int col) const { return cursor_->text(col); }
    int64_t integer(int col) const { return cursor_->integer(col); }
    bool is_null(int col) const { return cursor_->is_null(col); }
    int64_t changes() const { return cursor_->changes(); }

private:
    std::unique_ptr<Cursor> cursor_;
};

}  // namespace junction::core::sql
