#include "store_kinds.hpp"

#include "postgres_server.hpp"

#include <sqlite3.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>

namespace junction::testing {

PostgresServer& StoreUnderTest::postgres() {
    // One server per test process: initdb and start take a second or two, a database none.
    static PostgresServer server;
    static const bool password_set = [] { return ::setenv("PGPASSWORD", server.password().c_str(), 1) == 0; }();
    (void)password_set;
    return server;
}

StoreUnderTest::StoreUnderTest(Engine engine) : engine_(engine) {
    if (engine_ != Engine::postgres) return;
    static std::atomic<int> next{0};
    database_ = "conformance_" + std::to_string(++next);
    postgres().sql("CREATE DATABASE " + database_ +
                   " TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C' ENCODING 'UTF8'");
    url_ = postgres().url(database_);
}

std::unique_ptr<core::Store> StoreUnderTest::open() const {
    if (engine_ == Engine::postgres) return core::open_postgres_store(url_);
    return core::open_sqlite_store(dir_ / "junction.db");
}

void StoreUnderTest::sql(const std::string& statement) const {
    if (engine_ == Engine::postgres) {
        postgres().sql(statement, database_);
        return;
    }
    sqlite3* db = nullptr;
    const auto file = (dir_ / "junction.db").string();
    if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) throw std::runtime_error("cannot open " + file);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &error);
    const std::string message = error ? error : "";
    sqlite3_free(error);
    sqlite3_close(db);
    if (rc != SQLITE_OK) throw std::runtime_error("sqlite: " + message);
}

}  // namespace junction::testing
