// Where flows, their versions and their runs are kept. Part of the Store (Store::flows()),
// sharing its database: a checkpoint, the de-dupe keys it makes final and the records that
// failed before it are written in one transaction, so a run resumed after a crash neither
// repeats nor loses what the checkpoint covered.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
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
    // The junctiond that holds the run (or held it when it died); empty: none (queued, or
    // handed back by a clean stop).
    std::string host;
    int64_t lease_epoch = 0;  // which claim of the run this is: the fence of its writes
};

// A run is leased to one host at a time (decision 0024): the host holds it for
// `duration_ms` from now and renews the lease while it works. Every write of the run's
// progress is fenced by the claim's epoch, so a worker whose lease lapsed writes nothing more.
struct RunLease {
    std::string host;
    int64_t duration_ms = 6000;
    // Now, in ms since the epoch. The store reads it once it holds its connection, so a wait
    // for the connection does not shorten the lease. Tests set a fixed one.
    std::function<int64_t()> clock = [] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch()).count();
    };
};

// A run a worker holds: the claim it made.
struct HeldRun {
    std::string run_id;
    int64_t epoch = 0;
};

// A run a host has just taken.
struct ClaimedRun {
    RunRecord run;             // now "running", held by the claimer
    bool interrupted = false;  // it was running: a host stopped or died in it
    // Crashes in a row that interrupted it with no checkpoint since (a clean stop adds none).
    int64_t crashes = 0;
    bool cancel_requested = false;  // an admin cancelled it while no host held it
};

enum class ScheduledRun { inserted, already_fired, previous_still_open };

// What an admin's cancel did: a queued run is cancelled at once; a running one is asked to
// stop, and the host holding it (or the next to take it) cancels it.
enum class CancelOutcome { cancelled, requested, not_open };

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
    // The run of a schedule's tick (`tick_ms`, a time the cron fires at), in one transaction
    // with the tick: only the first host to reach the tick inserts it (every host plans the
    // same ticks), and none while the flow's previous run is still queued or running. The
    // run starts at the flow's cursors as that transaction reads them (`start_cursors` turns
    // them into the run's start_cursors_json), so a run that just ended is not read again.
    using StartCursors = std::function<std::string(const std::map<std::string, std::string>& flow_cursors)>;
    virtual ScheduledRun insert_scheduled_run(RunRecord run, int64_t tick_ms, const StartCursors& start_cursors) = 0;
    virtual std::optional<RunRecord> find_run(std::string_view run_id) = 0;
    // Newest first.
    virtual std::vector<RunRecord> list_runs(const RunQuery& query) = 0;
    // How many runs each flow has in each status: flow name -> status -> count.
    virtual std::map<std::string, std::map<std::string, int64_t>> count_runs() = 0;

    // Runs and their leases. claim_run takes the oldest run no host holds: interrupted
    // runs first (running, their lease ran out or was handed back), then queued ones; with
    // `run_id`, only that run. Taking an interrupted run counts one more crash unless its
    // last host handed it back. Several hosts claim at once without taking the same run.
    virtual std::optional<ClaimedRun> claim_run(const RunLease& lease, std::string_view run_id = {}) = 0;
    // Extends the lease of each run that claim still holds. Returns those it holds (by run
    // id), each with whether an admin asked to cancel it; the others were lost.
    virtual std::map<std::string, bool> renew_leases(const RunLease& lease, const std::vector<HeldRun>& runs) = 0;
    // A clean stop or a drain hands a run back at a checkpoint: the next claim, by any host,
    // takes it at once and counts no crash; no host holds it meanwhile. Only while that claim
    // of `host` still holds it. `unstarted`: the claim took a queued run and did not start
    // it (the host began to stop as it claimed): it is queued again, as it was.
    virtual void release_run(std::string_view host, const HeldRun& run, bool unstarted = false) = 0;
    // At a host's start: the leases its previous process held end now (that process is gone).
    virtual void expire_leases(std::string_view host) = 0;
    virtual CancelOutcome request_cancel(std::string_view run_id, int64_t now_ms) = 0;
    // Checkpoints and the end are fenced: both throw Error(conflict) when the claim of
    // run.host at run.lease_epoch no longer holds the run (its lease ran out and it was
    // claimed again), writing nothing.
    virtual void commit_checkpoint(const RunRecord& run, const Checkpoint& checkpoint) = 0;
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
