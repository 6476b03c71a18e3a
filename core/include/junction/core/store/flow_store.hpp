// Where flows, their versions and their runs are kept. Part of the Store (Store::flows()),
// sharing its database: a checkpoint, the de-dupe keys it makes final and the records that
// failed before it are written in one transaction, so a run resumed after a crash neither
// repeats nor loses what the checkpoint covered.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace junction::core {

struct FlowRecord {
    std::string id;             // "flow_" + 16 hex digits
    std::string name;           // unique, human: "shopify-to-netsuite"
    int64_t version = 0;        // 1 on creation, one more on every save
    std::string document_json;  // the flow as saved (validated)
    bool enabled = true;        // schedule and webhook triggers fire only when enabled
    std::string webhook_token_sha256;  // hex digest of the webhook URL's secret; empty: none
    int64_t created_ms = 0;
    int64_t updated_ms = 0;
    // Which instance each connection shape of this version uses: shape id -> instance id.
    std::map<std::string, std::string> instances;
};

struct RunRecord {
    std::string id;  // "run_" + 16 hex digits
    std::string flow_id;
    int64_t flow_version = 0;
    std::string trigger;  // "manual" | "schedule" | "webhook" | "retry"
    std::string status;   // "running" | "completed" | "completed_with_errors" | "failed" | "cancelled"
    int64_t started_ms = 0;
    int64_t ended_ms = 0;
    std::string error;     // why a run failed or was cancelled
    std::string retry_of;  // the run this one retries
    std::string payload_json;         // the trigger's records (webhook body, manual payload)
    std::string start_cursors_json = "{}";  // receive shape -> incremental cursor it began at
    std::string checkpoint_json = "{}";     // progress as of the last checkpoint
    std::string counts_json = "{}";         // shape -> {"in","out","failed"}
    bool resumed = false;  // continued after the host stopped mid-run
};

// Queued or running: not over yet.
inline bool run_is_open(std::string_view status) { return status == "queued" || status == "running"; }

struct RunQuery {
    std::string flow_id;  // all flows when empty
    std::string status;   // any status when empty
    int64_t before_ms = 0;  // paging: runs started strictly before (0: newest)
    size_t limit = 50;
};

struct RunLogLine {
    int64_t seq = 0;
    int64_t at_ms = 0;
    std::string level;  // "info" | "warn" | "error"
    std::string shape;  // empty for the run itself
    std::string message;
};

struct FailedRecord {
    int64_t seq = 0;
    std::string shape;
    std::string reason;
    std::string record_json;
};

// What one checkpoint makes durable, all together.
struct Checkpoint {
    std::string checkpoint_json;
    std::string counts_json;
    std::vector<std::pair<std::string, std::string>> dedupe_keys;  // (scope, key) now seen
    std::vector<FailedRecord> failed;                              // since the last one
};

class FlowStore {
public:
    virtual ~FlowStore() = default;

    // Inserts a flow, or stores its next version (record.version) with its instance
    // references. Throws Error(already_exists) when another flow has the name.
    virtual void save_flow(const FlowRecord& record) = 0;
    virtual std::optional<FlowRecord> find_flow(std::string_view id_or_name) = 0;
    // The document of one version; nullopt when that version does not exist.
    virtual std::optional<std::string> flow_document(std::string_view flow_id, int64_t version) = 0;
    // Ordered by name.
    // By name; after `after_name` when given, at most `limit` (0: all).
    virtual std::vector<FlowRecord> list_flows(std::string_view after_name = {}, size_t limit = 0) = 0;
    // Deletes the flow, its versions, runs, cursors and de-dupe keys.
    virtual bool delete_flow(std::string_view flow_id) = 0;
    virtual void set_flow_enabled(std::string_view flow_id, bool enabled) = 0;
    virtual void set_webhook_token(std::string_view flow_id, std::string_view token_sha256) = 0;
    // Names of the flows whose current version uses the instance.
    virtual std::vector<std::string> flows_using_instance(std::string_view instance_id) = 0;
    // Receive shape -> the newest incremental cursor a run delivered.
    virtual std::map<std::string, std::string> flow_cursors(std::string_view flow_id) = 0;

    // Throws Error(not_found) when the flow is gone (deleted while the run was starting).
    virtual void insert_run(const RunRecord& run) = 0;
    virtual std::optional<RunRecord> find_run(std::string_view run_id) = 0;
    // Newest first.
    virtual std::vector<RunRecord> list_runs(const RunQuery& query) = 0;
    // How many runs each flow has in each status: flow name -> status -> count.
    virtual std::map<std::string, std::map<std::string, int64_t>> count_runs() = 0;
    virtual void set_run_status(std::string_view run_id, std::string_view status, std::string_view error) = 0;
    // The run continues after the host stopped in the middle of it.
    virtual void mark_resumed(std::string_view run_id) = 0;
    // A clean stop left the run "running" at a checkpoint: the next start resumes it
    // without counting a crash. Only a run still "running" is marked.
    virtual void mark_paused(std::string_view run_id) = 0;
    // At start, before resuming a run found "running": clears a clean pause, or else counts
    // one more crash. Returns how many crashes in a row interrupted the run (a pause adds
    // none); a checkpoint resets the count, so only a run that makes no progress adds up.
    virtual int64_t count_interruption(std::string_view run_id) = 0;
    virtual void commit_checkpoint(std::string_view run_id, const Checkpoint& checkpoint) = 0;
    // The end of a run, in one transaction: its last checkpoint, its final status, the
    // flow's incremental cursors, and the run-scoped de-dupe keys dropped.
    virtual void finish_run(const RunRecord& run, const Checkpoint& last,
                            const std::map<std::string, std::string>& flow_cursors) = 0;

    virtual void append_run_log(std::string_view run_id, const std::vector<RunLogLine>& lines) = 0;
    virtual std::vector<RunLogLine> run_log(std::string_view run_id, int64_t after_seq, size_t limit) = 0;
    virtual std::vector<FailedRecord> failed_records(std::string_view run_id, int64_t after_seq,
                                                     size_t limit) = 0;

    // True when a checkpoint made the key final in that scope.
    virtual bool dedupe_seen(std::string_view scope, std::string_view key) = 0;

    // Retention, a few rows per call (one short transaction) so writers wait little; the
    // caller calls again while it returns `batch`. Deletes at most `batch` runs of the flow
    // (with their log lines, failed records and run-scope keys) that started before
    // `started_before_ms` (0: no age limit) or are not among its `keep_newest` newest runs
    // (0: no count limit). Never a queued or running run, nor one an open retry is based on.
    virtual size_t prune_runs(std::string_view flow_id, int64_t started_before_ms, int64_t keep_newest,
                              size_t batch) = 0;
    // Deletes at most `batch` of the flow's flow-scope de-dupe keys made final before `added_before_ms`.
    virtual size_t prune_dedupe_keys(std::string_view flow_id, int64_t added_before_ms, size_t batch) = 0;
};

}  // namespace junction::core
