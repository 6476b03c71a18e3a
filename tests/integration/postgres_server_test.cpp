// The PostgreSQL server the store and cluster tests start for themselves (issue 17): it
// comes up as an unprivileged user, answers SQL, asks for its password over TCP, and leaves
// nothing running or on disk when the test ends.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "postgres_server.hpp"

#include <filesystem>

using junction::testing::PostgresServer;
using junction::testing::run_program;

TEST_CASE("a test's PostgreSQL server answers SQL, wants its password over TCP, and is gone afterwards") {
    std::filesystem::path data;
    std::string psql;
    std::string url;
    std::string password;
    {
        PostgresServer server;
        data = server.log_file().parent_path();
        psql = (server.bin_dir() / "psql").string();
        url = server.url("orders");
        password = server.password();
        server.create_database("orders");
        CHECK(server.sql("CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2); SELECT sum(id) FROM t", "orders") == "3");
        CHECK(server.sql("SELECT current_setting('server_version_num')::int >= 150000") == "t");
        // Over TCP: the password opens it, another does not, and the message says why.
        const auto good = run_program({psql, "-X", "-A", "-t", "-c", "SELECT 42",
                                       "postgresql://junction:" + password + "@127.0.0.1:" + std::to_string(server.port()) + "/orders"});
        CHECK(good.exit_code == 0);
        CHECK(good.output == "42\n");
        const auto bad = run_program({psql, "-X", "-c", "SELECT 1", "postgresql://junction:wrong@127.0.0.1:" +
                                                                      std::to_string(server.port()) + "/orders"});
        CHECK(bad.exit_code != 0);
        CHECK(bad.output.find("password authentication failed") != std::string::npos);
        CHECK_THROWS_WITH_AS(server.sql("SELECT * FROM missing", "orders"), doctest::Contains("does not exist"),
                             std::runtime_error);
    }
    CHECK_FALSE(std::filesystem::exists(data));
    const auto after = run_program({psql, "-X", "-c", "SELECT 1", url});
    CHECK(after.exit_code != 0);
}
