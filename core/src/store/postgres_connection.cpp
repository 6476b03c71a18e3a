#include "postgres_connection.hpp"

#include <junction/json/utf8.hpp>

#include <libpq-fe.h>

#include <endian.h>

#include <cstring>
#include <optional>

namespace junction::core::postgres {

namespace {

// Type OIDs of the parameters and columns the store uses (pg_type.h, stable since 7.x).
constexpr Oid kBool = 16, kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kText = 25;

// PostgreSQL's TEXT holds valid UTF-8 without NUL; SQLite's holds any bytes. What a store
// writes as text (names, JSON, log lines) is valid already; anything else (a connector's
// message with stray bytes) is stored readable rather than refused: each bad byte and each
// NUL becomes U+FFFD.
std::string as_text(std::string_view in) {
    if (json::is_valid_utf8(in) && in.find('\0') == std::string_view::npos) return std::string(in);
    std::string out;
    out.reserve(in.size() + 8);
    for (size_t i = 0; i < in.size();) {
        const size_t len = in[i] == '\0' ? 0 : json::detail::valid_utf8_length(in.substr(i));
        if (len == 0) {
            out += "\xef\xbf\xbd";
            ++i;
        } else {
            out.append(in.substr(i, len));
            i += len;
        }
    }
    return out;
}

// The store's SQL numbers parameters SQLite's way (?N, or ? for one past the highest so
// far); PostgreSQL wants $N. No SQL of the store has a '?' inside a literal.
std::string translate(const std::string& sql) {
    std::string out;
    out.reserve(sql.size() + 8);
    int highest = 0;
    for (size_t i = 0; i < sql.size(); ++i) {
        if (sql[i] != '?') {
            out += sql[i];
            continue;
        }
        size_t j = i + 1;
        int n = 0;
        while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') n = n * 10 + (sql[j++] - '0');
        if (j == i + 1) n = highest + 1;
        highest = std::max(highest, n);
        out += '$' + std::to_string(n);
        i = j - 1;
    }
    return out;
}

std::string trimmed(const char* message) {
    std::string s = message ? message : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

// The password a connection string carries ("postgresql://user:PASSWORD@host/db" or
// "password=PASSWORD"), and the pieces of it libpq quotes when a '/' or '@' in it makes it
// misread the URL (as a port, a host or a database name): none may reach a message.
Redactor password_redactor(const std::string& conninfo) {
    std::string password;
    if (const auto scheme = conninfo.find("://"); scheme != std::string::npos) {
        const auto at = conninfo.rfind('@');
        if (at != std::string::npos && at > scheme) {
            const std::string userinfo = conninfo.substr(scheme + 3, at - scheme - 3);
            if (const auto colon = userinfo.find(':'); colon != std::string::npos) password = userinfo.substr(colon + 1);
        }
    } else if (const auto key = conninfo.find("password="); key != std::string::npos) {
        password = conninfo.substr(key + 9, conninfo.find(' ', key) - key - 9);
    }
    Redactor r;
    if (password.empty()) return r;
    r.add(password);
    size_t start = 0;
    for (size_t i = 0; i <= password.size(); ++i) {
        if (i == password.size() || std::strchr("/@:?#", password[i])) {
            r.add(password.substr(start, i - start));  // each piece libpq may have split off
            start = i + 1;
        }
    }
    return r;
}

// A failed statement's error in the store's terms: a reference to a missing row is
// not_found and any other constraint already_exists (as on SQLite), a race PostgreSQL
// aborted (serialization failure, deadlock) a conflict the caller may retry, anything else io.
[[noreturn]] void throw_result_error(PGresult* res, PGconn* conn, const std::string& where) {
    const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const std::string code = state ? state : "";
    std::string message = trimmed(res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
    PQclear(res);
    if (PQstatus(conn) == CONNECTION_BAD)
        throw Error(Errc::io, "store: lost the connection to the database (" + message +
                                  "); Junction reconnects on the next request once the server answers",
                    where);
    if (code == "23503") throw Error(Errc::not_found, "store: " + message);  // foreign key
    if (code.rfind("23", 0) == 0) throw Error(Errc::already_exists, "store: " + message);
    if (code == "40001" || code == "40P01") throw Error(Errc::conflict, "store: " + message + "; try again");
    throw Error(Errc::io, "store: " + message, where);
}

class PostgresCursor final : public sql::Cursor {
public:
    PostgresCursor(PostgresConnection& c, const std::string& sql) : c_(c), sql_(sql) {}
    ~PostgresCursor() override { PQclear(res_); }

    void bind_text(int i, std::string_view v) override { set(i, kText, as_text(v)); }
    void bind_bytes(int i, std::string_view v) override { set(i, kBytea, std::string(v)); }
    void bind_int(int i, int64_t v) override {
        const uint64_t be = htobe64(static_cast<uint64_t>(v));
        set(i, kInt8, std::string(reinterpret_cast<const char*>(&be), sizeof be));
    }

    bool step() override {
        if (!res_) run();
        return ++row_ < rows_;
    }
    std::string text(int col) const override {
        return std::string(PQgetvalue(res_, row_, col), static_cast<size_t>(PQgetlength(res_, row_, col)));
    }
    int64_t integer(int col) const override {
        if (PQgetisnull(res_, row_, col)) return 0;
        const char* p = PQgetvalue(res_, row_, col);
        switch (PQftype(res_, col)) {
            case kInt8: { uint64_t v; std::memcpy(&v, p, 8); return static_cast<int64_t>(be64toh(v)); }
            case kInt4: { uint32_t v; std::memcpy(&v, p, 4); return static_cast<int32_t>(be32toh(v)); }
            case kInt2: { uint16_t v; std::memcpy(&v, p, 2); return static_cast<int16_t>(be16toh(v)); }
            case kBool: return *p != 0;
            default: throw Error(Errc::internal, "store: column " + std::to_string(col) + " is not an integer");
        }
    }
    bool is_null(int col) const override { return PQgetisnull(res_, row_, col) != 0; }
    int64_t changes() const override { return changes_; }

private:
    struct Param {
        Oid type = 0;
        std::string value;
    };
    void set(int i, Oid type, std::string value) {
        if (params_.size() < static_cast<size_t>(i)) params_.resize(static_cast<size_t>(i));
        params_[static_cast<size_t>(i - 1)] = {type, std::move(value)};
    }
    void run() {
        const size_t n = params_.size();
        std::vector<Oid> types(n);
        std::vector<const char*> values(n);
        std::vector<int> lengths(n), formats(n, 1);
        for (size_t i = 0; i < n; ++i) {
            types[i] = params_[i].type;
            values[i] = params_[i].value.data();
            lengths[i] = static_cast<int>(params_[i].value.size());
        }
        PGconn* conn = c_.handle();
        res_ = PQexecParams(conn, sql_.c_str(), static_cast<int>(n), types.data(), values.data(), lengths.data(),
                            formats.data(), 1);
        const ExecStatusType status = PQresultStatus(res_);
        if (status == PGRES_TUPLES_OK) {
            rows_ = PQntuples(res_);
        } else if (status == PGRES_COMMAND_OK) {
            const char* tuples = PQcmdTuples(res_);
            changes_ = tuples && *tuples ? std::stoll(tuples) : 0;
        } else {
            PGresult* failed = res_;
            res_ = nullptr;
            throw_result_error(failed, conn, c_.where());
        }
    }

    PostgresConnection& c_;
    const std::string& sql_;
    std::vector<Param> params_;
    PGresult* res_ = nullptr;
    int row_ = -1;
    int rows_ = 0;
    int64_t changes_ = 0;
};

}  // namespace

PostgresConnection::PostgresConnection(const std::string& conninfo, const std::vector<const char*>& migrations)
    : conninfo_(conninfo), password_(password_redactor(conninfo)) {
    try {
        connect();
        migrate(migrations, where_);
    } catch (...) {
        PQfinish(conn_);
        conn_ = nullptr;
        throw;
    }
}

PostgresConnection::PostgresConnection(const std::string& conninfo)
    : conninfo_(conninfo), password_(password_redactor(conninfo)) {
    try {
        connect();
    } catch (...) {
        PQfinish(conn_);  // no destructor runs for an object whose constructor threw
        conn_ = nullptr;
        throw;
    }
}

PostgresConnection::~PostgresConnection() { PQfinish(conn_); }

void PostgresConnection::connect() {
    // Defaults the connection string may override (it comes after them): give up on an
    // unreachable server in 10 s, and notice a peer gone silent (a partition) in about 30 s.
    const char* keys[] = {"connect_timeout", "application_name", "keepalives_idle", "keepalives_interval",
                          "keepalives_count", "tcp_user_timeout", "dbname", nullptr};
    const char* values[] = {"10", "junctiond", "10", "5", "4", "30000", conninfo_.c_str(), nullptr};
    PQfinish(conn_);
    conn_ = PQconnectdbParams(keys, values, 1);
    if (!conn_) throw Error(Errc::io, "store: out of memory connecting to PostgreSQL");
    // Named from what libpq resolved (URL, environment, defaults), never with the password.
    const auto field = [&](const char* name) -> std::string {
        std::string out;
        if (PQconninfoOption* options = PQconninfo(conn_)) {
            for (PQconninfoOption* o = options; o->keyword; ++o)
                if (std::strcmp(o->keyword, name) == 0 && o->val) out = o->val;
            PQconninfoFree(options);
        }
        return out;
    };
    where_ = password_.apply("postgresql://" + field("user") + "@" + field("host") + ":" + field("port") + "/" +
                             field("dbname"));
    if (PQstatus(conn_) != CONNECTION_OK)
        throw Error(Errc::io,
                    "cannot connect to the store: " + password_.apply(trimmed(PQerrorMessage(conn_))) +
                        "; check the `store` setting, that the server runs, and the password (in the URL, "
                        "PGPASSWORD or a password file, PGPASSFILE / ~/.pgpass)",
                    where_);
    // A notice ("relation already exists, skipping") is no error, and libpq would print it
    // to stderr past the daemon's log: dropped; what fails is a result's error instead.
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
    try {
        prepare_session();
    } catch (...) {
        // No half-prepared connection stays: a host that lost its lock to another while it
        // reconnected must not go on without it. The next call connects anew.
        PQfinish(conn_);
        conn_ = nullptr;
        throw;
    }
}

void PostgresConnection::prepare_session() {
    // Integers and bytes travel in binary; text is UTF-8 whatever the database's default.
    exec("SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'");
    refuse_a_sole_host();  // each session: a lock goes with its connection
}

// A junctiond from before several hosts shared a database took it alone, with this lock
// held exclusively for its life. It would not follow the others' switches nor see their
// packages: every host now holds the lock shared for its session, so neither starts beside
// the other (and none migrates the schema under an old one).
void PostgresConnection::refuse_a_sole_host() {
    sql::Statement s(*this, "SELECT pg_try_advisory_lock_shared(7418055922)");
    if (s.step() && s.integer(0) == 0)
        throw Error(Errc::io,
                    "an older junctiond, one that takes the database for itself alone, runs on this store; stop it "
                    "(and start every host with this version), then start this one",
                    where_);
}

bool PostgresConnection::connected() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }

void PostgresConnection::announce() {
    sql::Statement s(*this, std::string("SELECT pg_notify('") + kChangesChannel + "', '')");
    s.run();
}

pg_conn* PostgresConnection::handle() {
    // Between transactions a broken connection is made again.
    if (PQstatus(conn_) != CONNECTION_OK && !in_transaction_) connect();
    if (!conn_) throw Error(Errc::io, "store: not connected to the database", where_);
    return conn_;
}

std::unique_ptr<sql::Cursor> PostgresConnection::query(const std::string& sql) {
    auto [it, added] = translated_.try_emplace(sql);
    if (added) it->second = translate(sql);
    return std::make_unique<PostgresCursor>(*this, it->second);
}

void PostgresConnection::exec(const char* sql) {
    PGconn* conn = handle();
    PGresult* res = PQexec(conn, sql);
    const ExecStatusType status = PQresultStatus(res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) throw_result_error(res, conn, where_);
    PQclear(res);
}

void PostgresConnection::begin() {
    exec("BEGIN");
    in_transaction_ = true;
}

void PostgresConnection::commit() {
    // Still "in a transaction" while COMMIT is sent: a connection lost before it must fail
    // the commit, not reconnect and send COMMIT to a new session that has nothing to commit.
    exec("COMMIT");
    in_transaction_ = false;
}

void PostgresConnection::rollback() noexcept {
    in_transaction_ = false;
    if (PQstatus(conn_) == CONNECTION_OK) PQclear(PQexec(conn_, "ROLLBACK"));
}

void PostgresConnection::lock_schema() {
    // One number for Junction's schema lock, held to the end of the transaction.
    exec("SELECT pg_advisory_xact_lock(7418055921)");
}

void PostgresConnection::lock_for_rewrite(const std::vector<std::string>& tables) {
    std::string sql = "LOCK TABLE ";
    for (size_t i = 0; i < tables.size(); ++i) sql += (i ? ", " : "") + tables[i];
    sql += " IN SHARE ROW EXCLUSIVE MODE";
    exec(sql.c_str());
}

std::string PostgresConnection::row_lock(std::string_view table_alias) const {
    return " FOR UPDATE OF " + std::string(table_alias);
}

std::string PostgresConnection::row_claim(std::string_view table_alias) const {
    return row_lock(table_alias) + " SKIP LOCKED";
}

// PostgreSQL checks its own pages (checksums; amcheck is an extension the store does not
// require): this says the database answers and holds the store's schema.
std::string PostgresConnection::integrity_check() {
    sql::Statement s(*this, "SELECT count(*) FROM schema_version");
    return s.step() && s.integer(0) == 1 ? "ok" : "schema_version holds no single row";
}

}  // namespace junction::core::postgres
