// What an admin does with flows and runs: save (a new version each time), list, show,
// delete, enable; start runs (manual, schedule, webhook), list and inspect them, cancel,
// retry. Runs execute on a few worker threads; a schedule thread fires cron triggers; a
// pruning thread applies retention (run_pruner.hpp).
// The store is the queue, and every host sharing it takes runs from it (decision 0024): a
// worker claims a run with a lease, a keeper thread renews the leases of the runs in hand,
// and a run whose host stopped or died is resumed from its checkpoint by whichever host
// claims it next (this one at its next start, or another within the lease timeout).
#pragma once

#include <junction/core/flows/flow_graph.hpp>
#include <junction/core/flows/flow_scheduler.hpp>
#include <junction/core/flows/retention.hpp>
#include <junction/core/flows/run_context.hpp>
#include <junction/core/flows/run_pruner.hpp>
#include <junction/core/flows/webhook_rate_limit.hpp>
#include <junction/core/instances/instance_runtime.hpp>
#include <junction/core/secrets/secret_box.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace junction::core {

struct FlowServiceOptions {
    size_t run_workers = 4;  // runs executing at once; more wait, queued
    RetentionPolicy retention;  // each flow's "retention" overrides it
    std::chrono::milliseconds retention_interval{std::chrono::minutes(5)};  // between pruning passes
    WebhookRateLimit webhook_rate_limit;  // each webhook trigger's "rate_limit" overrides it
    // This host in the store: the runs it holds carry this id (stable for a state directory).
    std::string host_id = "local";
    // How long a run stays with its host without a renewal; renewed every third of it. A
    // host that dies loses its runs to the others after at most this long.
    std::chrono::milliseconds lease{std::chrono::seconds(6)};
    // How often an idle worker looks for runs another host queued or gave up.
    std::chrono::milliseconds claim_poll{std::chrono::seconds(1)};
};

struct FlowView {
    FlowRecord record;
    flows::Trigger trigger;
    int64_t next_run_ms = 0;  // schedule triggers
    std::string to_json() const;  // the document, the version, the trigger; no webhook secret
};

struct SavedFlow {
    FlowView flow;
    std::string webhook_token;  // only when a webhook trigger got a new secret: shown once
};

struct RunView {
    RunRecord record;
    std::string flow_name;
    std::string to_json() const;
};

class FlowService {
public:
    FlowService(Store& store, const SecretBox& secrets, InstanceRuntime& runtime, FlowServiceOptions options = {});
    ~FlowService();

    // Starts the workers, the lease keeper and the scheduler; the runs this host held when
    // its last process stopped or died are resumed (by it, or by another host). A run that
    // hosts died under twice in a row, with no checkpoint between, is failed instead of
    // resumed (flow_interruptions.cpp). Safe mode (junctiond --safe) resumes nothing, fires
    // no schedule and takes no queued run; runs started through it by an admin still run.
    enum class StartMode { normal, safe };
    void start(StartMode mode = StartMode::normal);
    // Stops taking runs; runs in progress finish the page in hand and checkpoint, for at
    // most `grace`, then stop where they are. Either way they stay "running", handed back
    // (no crash counted), and resume from their last checkpoint on the next host to claim them.
    void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(0));
    // As stop(), but the service stays up: this host takes no more runs, and the runs in
    // hand are handed back to the other hosts at their next page (at once after `grace`).
    // Returns how many runs it handed back. A drained host goes on serving the API.
    size_t drain(std::chrono::milliseconds grace);
    bool draining() const { return draining_; }

    // For /metrics: records received and delivered per flow name since the start, and
    // the number of runs per flow and status.
    const CounterTable& traffic() const { return traffic_; }
    std::map<std::string, std::map<std::string, int64_t>> count_runs() { return store_.flows().count_runs(); }

    // Creates the flow named in the document, or stores its next version.
    SavedFlow save(std::string_view document_json);
    // By name, after `after_name`, at most `limit` (0: all).
    std::vector<FlowView> list(std::string_view after_name = {}, size_t limit = 0);
    FlowView show(std::string_view id_or_name);
    // Refused while a run of the flow is queued or running.
    void remove(std::string_view id_or_name);
    FlowView set_enabled(std::string_view id_or_name, bool enabled);
    // A new webhook secret (the old URL stops working); returns the token, shown once.
    std::string rotate_webhook(std::string_view id_or_name);

    RunView start_run(std::string_view flow_id_or_name, std::string_view trigger = "manual",
                      std::string_view payload_json = {});
    // The webhook URL's secret must match; the body is the payload. A wrong secret reads as
    // an unknown flow (Error not_found), so URLs cannot be probed. A call over the flow's
    // rate limit throws RateLimited before the body is read.
    RunView webhook(std::string_view flow_id, std::string_view token, std::string_view body);

    std::vector<RunView> runs(const RunQuery& query);
    RunView run(std::string_view run_id);
    RunView cancel(std::string_view run_id);
    // A new run of the same flow version from the same starting cursors and payload. It
    // resumes from the last checkpoint of the run it retries (the pages that run delivered
    // are not sent again), as a run the host stopped in resumes; from_start reads it all again.
    RunView retry(std::string_view run_id, bool from_start = false);
    std::vector<RunLogLine> run_log(std::string_view run_id, int64_t after_seq, size_t limit);
    std::vector<FailedRecord> failed_records(std::string_view run_id, int64_t after_seq, size_t limit);

private:
    struct Active {
        flows::RunSignals signals;
        std::atomic<bool> cancelled{false};  // stop means cancel (else: the host is stopping)
        std::atomic<bool> lost{false};       // the run was claimed again: write nothing more
        int64_t epoch = 0;                   // the claim this worker holds (RunRecord::lease_epoch)
    };

    FlowRecord load(std::string_view id_or_name);
    RunView view(const RunRecord& r);
    // A queued run of the flow's current version, checked, not yet stored.
    RunRecord new_run(const FlowRecord& flow, std::string_view trigger, std::string_view payload);
    RunView enqueue(RunRecord run, const std::string& flow_name);  // a new id, stored, queued()
    RunView queued(const RunRecord& run, const std::string& flow_name);  // stored: wakes a worker
    RunLease lease() const;
    // flow_execution.cpp: a worker claims runs and executes them.
    void work();
    std::optional<ClaimedRun> claim_next();
    // `resuming`: a host stopped or died in it; it goes on from its checkpoint.
    void execute(RunRecord run, bool resuming, const std::shared_ptr<Active>& active);
    void fire_schedule(const FlowRecord& flow, int64_t tick_ms);
    // flow_interruptions.cpp: what a claimed run that was interrupted becomes.
    bool take_over(const ClaimedRun& claim);  // false: it was failed or cancelled, not resumed
    void fail_crashed_run(RunRecord run);
    // Paused at a checkpoint (or `unstarted`: queued again): any host may take it.
    void hand_back(const HeldRun& run, bool unstarted = false);
    // run_leases.cpp: renews the leases of the runs in hand; stops the ones lost or cancelled.
    void keep_leases();
    void renew_leases_once();
    std::vector<HeldRun> held_runs();
    bool still_held(const HeldRun& run);
    bool has_open_run(const std::string& flow_id);

    Store& store_;
    const SecretBox& secrets_;
    InstanceRuntime& runtime_;
    FlowServiceOptions options_;
    CounterTable traffic_;  // flow name -> records received, delivered

    std::mutex mutex_;
    std::condition_variable wake_;  // workers: a run queued; scheduler: flows changed
    std::condition_variable idle_;  // stop(): a run left active_
    std::condition_variable keeper_wake_;  // the lease keeper: stop
    // Safe mode: the runs queued through this host, the only ones it takes.
    std::deque<std::string> queue_;
    size_t queued_hints_ = 0;  // runs queued here since a worker last looked
    std::map<std::string, std::shared_ptr<Active>> active_;  // run id -> its stop flag
    bool stopping_ = false, started_ = false, safe_ = false;
    std::atomic<bool> draining_{false};
    std::vector<std::thread> workers_;
    std::thread lease_keeper_;
    FlowScheduler scheduler_;
    RunPruner pruner_;
    WebhookRateLimiter webhook_limiter_;
};

}  // namespace junction::core
