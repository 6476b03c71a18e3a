// How the CLI shows API answers: tables and key/value blocks for people, the API's JSON
// as-is with --output json. The API never returns a credential, so neither does this.
#pragma once

#include "api_client.hpp"

#include <rapidjson/document.h>

#include <string>

namespace junction::cli {

enum class Format { table, json };

// Prints the API's error ({"error":{...}}) to stderr; returns the exit code (1).
int print_api_error(const ApiResponse& response);
// A time in epoch milliseconds as UTC with milliseconds: "2026-12-07 02:05:50.123Z".
std::string timestamp(int64_t epoch_ms);
// One line of a run's log, its time readable.
void print_run_log_line(const rapidjson::Value& line);

void print_instance_table(const rapidjson::Value& items);
void print_instance(const rapidjson::Value& instance);
void print_connector_table(const rapidjson::Value& items);
std::string signer_text(const rapidjson::Value& version);
void print_connector(const rapidjson::Value& connector);
void print_swap_report(const rapidjson::Value& report);
void print_release_report(const rapidjson::Value& report);
void print_isolation_change(const rapidjson::Value& change);
// GET /v1/daemon: version, safe mode, isolation and confinement.
void print_daemon_status(const rapidjson::Value& daemon);
// GET /v1/cluster: the hosts sharing the store, their state and how many runs each holds.
void print_cluster(const rapidjson::Value& cluster);
void print_history(const rapidjson::Value& items);

}  // namespace junction::cli
