// The FlowStore over a store's connection (flows, versions, runs, checkpoints, de-dupe keys).
#pragma once

#include "sql_connection.hpp"

#include <junction/core/store/store.hpp>

#include <memory>

namespace junction::core {

std::unique_ptr<FlowStore> make_sql_flow_store(sql::Connection& connection);
// The Store over a connection (sql_store.cpp); it owns the connection.
std::unique_ptr<Store> make_sql_store(std::unique_ptr<sql::Connection> connection);

}  // namespace junction::core
