// What an admin does with flows and runs: save (a new version each time), list, show,
// delete, enable; start runs (manual, schedule, webhook), list and inspect them, cancel,
// retry. Runs execute on a few worker threads; a schedule thread fires cron triggers; a
// pruning thread applies retention (run_pruner.hpp).
// A run the host was stopped in (or killed in) is resumed from its checkpoint on start().
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
#include <string>
#include <thread>
#include <vector>

namespace junction::core {

struct FlowServiceOptions {
    size_t run_workers = 4;  // runs executing at once; more wait, queued
    RetentionPolicy retention;  // each flow's "retention" overrides it
    std::chrono::milliseconds retention_interval{std::chrono::minutes(5)};  // between pruning passes
    WebhookRateLimit webhook_rate_limit;  // each webhook trigger's "rate_limit" overrides it
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

    // Resumes interrupted runs, starts the workers and the scheduler. A run that the daemon
    // died under twice in a row, with no checkpoint between, is failed instead of resumed
    // (flow_interruptions.cpp). Safe mode (junctiond --safe) resumes nothing, fires no
    // schedule and leaves queued and interrupted runs as they are; runs started by an
    // admin still run.
    enum class StartMode { normal, safe };
    void start(StartMode mode = StartMode::normal);
    // Stops taking runs; runs in progress finish the page in hand and checkpoint, for at
    // most `grace`, then stop where they are. Either way they stay "running", marked as
    // paused (not crashed), and resume from their last checkpoint at the next start().
    void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(0));

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
        bool cancelled = false;  // stop means cancel (else: the host is stopping)
    };

    FlowRecord load(std::string_view id_or_name);
    RunView view(const RunRecord& r);
    RunView enqueue(RunRecord run, const std::string& flow_name);
    void work();
    void execute(RunRecord run, const std::shared_ptr<Active>& active);  // flow_execution.cpp
    void fire_schedule(const FlowRecord& flow);
    // start(): queues the runs to resume, failing the ones crashes stopped twice.
    void queue_interrupted_runs();  // flow_interruptions.cpp
    void fail_crashed_run(RunRecord run);
    // stop(): marks the runs this service held as paused by a clean stop.
    void mark_paused(const std::vector<std::string>& run_ids);
    bool has_open_run(const std::string& flow_id);

    Store& store_;
    const SecretBox& secrets_;
    InstanceRuntime& runtime_;
    FlowServiceOptions options_;
    CounterTable traffic_;  // flow name -> records received, delivered

    std::mutex mutex_;
    std::condition_variable wake_;  // workers: a run queued; scheduler: flows changed
    std::condition_variable idle_;  // stop(): a run left active_
    std::deque<std::string> queue_;
    std::map<std::string, std::shared_ptr<Active>> active_;  // run id -> its stop flag
    bool stopping_ = false, started_ = false;
    std::vector<std::thread> workers_;
    FlowScheduler scheduler_;
    RunPruner pruner_;
    WebhookRateLimiter webhook_limiter_;
};

}  // namespace junction::core
