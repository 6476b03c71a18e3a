// Which store a host opens: the SQLite file in its state directory (the embedded default)
// or a PostgreSQL database several hosts share.
#include "postgres_connection.hpp"
#include "sql_flow_store.hpp"
#include "sqlite_connection.hpp"

namespace junction::core {

std::unique_ptr<Store> open_sqlite_store(const std::filesystem::path& file) {
    return make_sql_store(std::make_unique<sqlite::SqliteConnection>(file, sqlite::store_migrations()));
}

std::unique_ptr<Store> open_postgres_store(const std::string& conninfo) {
    return make_sql_store(
        std::make_unique<postgres::PostgresConnection>(conninfo, postgres::store_migrations()));
}

bool is_postgres_location(std::string_view location) {
    return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

std::unique_ptr<Store> open_store(const std::string& location, const std::filesystem::path& state_dir) {
    if (location.empty()) return open_sqlite_store(state_dir / "junction.db");
    if (is_postgres_location(location))
        return open_postgres_store(location);
    throw Error(Errc::invalid_argument,
                "the store setting is neither empty (SQLite in the state directory) nor a PostgreSQL URL "
                "(postgresql://user@host:port/database)",
                "store");
}

}  // namespace junction::core
