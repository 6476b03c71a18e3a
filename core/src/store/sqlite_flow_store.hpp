// The SQLite side of FlowStore (flows, versions, runs, checkpoints, de-dupe keys).
#pragma once

#include "sqlite_connection.hpp"

#include <junction/core/store/flow_store.hpp>

#include <memory>

namespace junction::core {

std::unique_ptr<FlowStore> make_sqlite_flow_store(sqlite::Connection& connection);

}  // namespace junction::core
