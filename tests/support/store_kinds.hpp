// The Store interface on each engine it has, for conformance tests that run the same case
// on SQLite and on PostgreSQL (issue 17): whatever holds on one must hold on the other.
// The PostgreSQL server is started once per test process (PostgresServer) and each case gets
// a database of its own, created with an ICU collation unlike "C" so that an ordering the
// store leaves to the database's default would show.
#pragma once

#include "test_paths.hpp"

#include <junction/core/store/store.hpp>

#include <doctest/doctest.h>

#include <memory>
#include <string>

namespace junction::testing {

class PostgresServer;

class StoreUnderTest {
public:
    enum class Engine { sqlite, postgres };
    explicit StoreUnderTest(Engine engine);

    Engine engine() const { return engine_; }
    bool is_postgres() const { return engine_ == Engine::postgres; }
    // Opens the store: a SQLite file in a temporary folder, or a connection to this case's
    // database (a second open is a second host on the same database).
    std::unique_ptr<core::Store> open() const;
    // SQL straight on the database, as an operator or a broken tool would change it.
    void sql(const std::string& statement) const;
    // PostgreSQL only: this case's database URL (without the password) and the server.
    const std::string& url() const { return url_; }
    const std::string& database() const { return database_; }
    static PostgresServer& postgres();

private:
    Engine engine_;
    TempDir dir_;
    std::string database_;
    std::string url_;
};

// Runs `body(StoreUnderTest&)` once per engine, each in a doctest SUBCASE named after it.
template <class Body>
void for_each_store(Body&& body) {
    SUBCASE("sqlite") {
        StoreUnderTest s(StoreUnderTest::Engine::sqlite);
        body(s);
    }
    SUBCASE("postgres") {
        StoreUnderTest s(StoreUnderTest::Engine::postgres);
        body(s);
    }
}

}  // namespace junction::testing
