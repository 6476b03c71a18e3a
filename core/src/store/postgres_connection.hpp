// The PostgreSQL engine of the store (sql_connection.hpp): one libpq connection per host,
// re-established when it breaks between transactions, and one more per host that listens
// for the others' announcements (postgres_changes.cpp). These two files alone see libpq-fe.h.
#pragma once

#include "sql_connection.hpp"

#include <junction/core/secrets/redactor.hpp>

#include <string>
#include <unordered_map>
#include <vector>

struct pg_conn;

namespace junction::core::postgres {

class PostgresConnection final : public sql::Connection {
public:
    // Connects (a libpq connection string or URL; the password from the URL, PGPASSWORD or
    // a password file) and applies the migrations the database lacks.
    PostgresConnection(const std::string& conninfo, const std::vector<const char*>& migrations);
    // Connects only (a listener's session: the store's own connection migrated).
    explicit PostgresConnection(const std::string& conninfo);
    ~PostgresConnection() override;
    PostgresConnection(const PostgresConnection&) = delete;
    PostgresConnection& operator=(const PostgresConnection&) = delete;

    std::unique_ptr<sql::Cursor> query(const std::string& sql) override;
    void exec(const char* sql) override;
    void lock_for_rewrite(const std::vector<std::string>& tables) override;
    std::string row_lock(std::string_view table_alias) const override;
    std::string row_claim(std::string_view table_alias) const override;
    bool shared() const override { return true; }
    void announce() override;
    std::unique_ptr<StoreChanges> listen_for_changes() override;
    std::string integrity_check() override;
    std::string describe() const override { return "PostgreSQL " + where_; }

    // The database as messages name it: postgresql://user@host:port/dbname, no password.
    const std::string& where() const { return where_; }
    // The live connection; reconnects first when it broke outside a transaction.
    pg_conn* handle();
    // False once the connection broke (a listener then starts a new session: LISTEN is
    // per session).
    bool connected() const;

protected:
    void begin() override;
    void commit() override;
    void rollback() noexcept override;
    void lock_schema() override;

private:
    void connect();
    void prepare_session();  // after each (re)connection
    void refuse_a_sole_host();

    std::string conninfo_;
    Redactor password_;  // a password the connection string carries, out of every message
    std::string where_;
    pg_conn* conn_ = nullptr;
    bool in_transaction_ = false;
    std::unordered_map<std::string, std::string> translated_;  // ?N SQL -> $N SQL
};

// Every migration of the PostgreSQL schema, oldest first (postgres_schema.cpp).
const std::vector<const char*>& store_migrations();

// The channel hosts announce changes on (LISTEN/NOTIFY).
constexpr const char* kChangesChannel = "junction_store";

}  // namespace junction::core::postgres
