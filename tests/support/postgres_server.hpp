// A real PostgreSQL server for one test (issue 17): Debian's server (scripts/setup.sh
// installs it), initdb in a temporary directory, postgres on a free loopback port and a
// Unix socket in that directory, stopped (fast shutdown) and removed when the object goes.
// initdb refuses to run as root, and CI runs as root: there the server runs as `nobody`.
#pragma once

#include "child_process.hpp"
#include "test_paths.hpp"

#include <filesystem>
#include <memory>
#include <string>

namespace junction::testing {

class PostgresServer {
public:
    // Starts the server; throws std::runtime_error with its log when it does not come up.
    PostgresServer();
    ~PostgresServer();  // fast shutdown, then the directory goes
    PostgresServer(const PostgresServer&) = delete;
    PostgresServer& operator=(const PostgresServer&) = delete;

    int port() const { return port_; }
    // The superuser `junction` signs in over TCP with this password (scram-sha-256); over
    // the Unix socket, as the tests' own psql does, without one.
    const std::string& password() const { return password_; }
    // postgresql://junction@127.0.0.1:PORT/DATABASE (no password: give it apart).
    std::string url(const std::string& database) const;

    void create_database(const std::string& name) const;
    // Runs SQL through psql on the socket; returns its rows (unaligned, tuples only).
    // Throws std::runtime_error with psql's message when it fails.
    std::string sql(const std::string& statement, const std::string& database = "postgres") const;

    const std::filesystem::path& log_file() const { return log_; }
    const std::filesystem::path& bin_dir() const { return bin_; }

private:
    std::vector<std::string> as_server_user(std::vector<std::string> argv) const;

    TempDir dir_;
    std::filesystem::path bin_;
    std::filesystem::path log_;
    int port_ = 0;
    std::string password_;
    std::unique_ptr<ChildProcess> server_;
};

}  // namespace junction::testing
