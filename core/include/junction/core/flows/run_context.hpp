// What shapes see of the run they are part of: counts, failures, the run log, receive
// progress, de-dupe keys and try/catch frames; and the checkpoint that makes progress
// durable. Everything here is called on the run's thread, except counts (atomic) and
// log (locked), which a send's worker threads also use.
#pragma once

#include <junction/core/common/counter_table.hpp>
#include <junction/core/flows/record_batch.hpp>
#include <junction/core/secrets/redactor.hpp>
#include <junction/core/store/flow_store.hpp>

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace junction::core {
class InstanceRuntime;
}

namespace junction::core::flows {

class Shape;

struct ShapeCounts {
    std::atomic<int64_t> in{0}, out{0}, failed{0};
};

// How far a receive shape got: pages delivered, the newest cursor delivered, finished.
struct ReceiveProgress {
    int64_t pages = 0;
    std::string cursor;
    bool done = false;
};

// How a run is told to stop from outside. drain: finish the page in hand, checkpoint and
// stop before the next one (a graceful shutdown); stop: now (cancel, or the grace period
// is over), abandoning the page in hand to be redone from the last checkpoint.
struct RunSignals {
    std::atomic<bool> stop{false};
    std::atomic<bool> drain{false};
};

// The run was stopped from outside (cancel, or the host shutting down).
struct RunStopped : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class RunContext {
public:
    RunContext(RunRecord& run, std::string flow_name, FlowStore& store, InstanceRuntime& runtime,
               Redactor redactor, const RunSignals& signals);
    // Pages still held by shapes are waited for and dropped first.
    ~RunContext();
    RunContext(const RunContext&) = delete;
    RunContext& operator=(const RunContext&) = delete;

    const RunRecord& run() const { return run_; }
    const std::string& flow_name() const { return flow_name_; }
    InstanceRuntime& runtime() { return runtime_; }
    const std::atomic<bool>& stop_flag() const { return signals_.stop; }
    // Throws RunStopped when the run was cancelled or the host is stopping.
    void check_stop() const;
    // True when the host is shutting down gracefully: sources stop after the current page.
    bool draining() const { return signals_.drain.load(std::memory_order_relaxed); }

    ShapeCounts& counts(const std::string& shape);
    // The flow's traffic for /metrics: records that entered it (from a source or the
    // trigger's payload) and records a send delivered.
    void set_traffic(std::shared_ptr<CounterPair> traffic) { traffic_ = std::move(traffic); }
    void count_received(size_t n) {
        if (traffic_) traffic_->first.fetch_add(n, std::memory_order_relaxed);
    }
    void count_delivered(size_t n) {
        if (traffic_) traffic_->second.fetch_add(n, std::memory_order_relaxed);
    }
    // A record that failed a shape: to the innermost try's catch path, else kept with the
    // run's failed records.
    void fail(const std::string& shape, const Json& record, const std::string& reason);
    int64_t uncaught_failures() const { return uncaught_; }
    // A record a failed request did not deliver, kept with the run for inspection (no
    // catch path: the whole request failed, and with it the run).
    void keep_undelivered(const std::string& shape, const Json& record, const std::string& reason);
    // A line of the run log (redacted: no credential of the flow's instances survives).
    void log(std::string_view level, const std::string& shape, std::string message);
    std::string redact(std::string text) const { return redactor_.apply(std::move(text)); }

    ReceiveProgress& progress(const std::string& shape) { return progress_[shape]; }
    // The flow's incremental cursor for a receive shape when the run began ("" if none).
    std::string start_cursor(const std::string& shape) const;

    // De-dupe: true when the key was seen in `scope` (committed, or earlier in this run);
    // otherwise remembers it and returns false.
    bool seen_before(const std::string& scope, const std::string& key);

    // try/catch: a frame collects what fails inside it.
    void push_catch(Batch* frame) { catches_.push_back(frame); }
    void pop_catch() { catches_.pop_back(); }
    // Inside a try's body: what fails goes to its catch path now, not later.
    bool catching() const { return !catches_.empty(); }

    // After a source delivered a page: makes the progress durable unless a shape still
    // holds records of it. A page a send still works on in the background makes a pending
    // checkpoint instead, committed once every such shape settled it (decision 0028);
    // `settle_now` (a graceful stop) waits for them here.
    void page_done(bool settle_now = false);

    // What a shape does while it settles a held page (counts, failures, de-dupe keys)
    // belongs to that page's pending checkpoint. done() at the end: commits it when this
    // was the last shape it waited for. Without done() (the page failed) nothing is committed.
    class Settling {
    public:
        Settling(RunContext& run, const Shape& shape);
        void done();

    private:
        RunContext& run_;
        const Shape& shape_;
        bool counted_ = false;  // the pending checkpoint waits for this shape
        std::map<std::string, std::array<int64_t, 3>> counts_before_;
        size_t failed_before_ = 0, keys_before_ = 0;
        int64_t uncaught_before_ = 0;
    };
    // Waits for the pages shapes hold and settles them (a failure upstream of a send leaves
    // the page it holds whole).
    void settle_held_pages();
    // Waits for the pages shapes hold and drops them (the run ends without them).
    void abandon_held_pages();

    // The end: every shape's finish, in order, then the final status.
    void set_shapes(std::vector<Shape*> in_order) { shapes_ = std::move(in_order); }
    void finish_shapes();
    void commit_end(const std::string& status, const std::string& error);
    // Writes buffered log lines (also done by every checkpoint).
    void flush_log();

    // Restores progress and counts from the run's last checkpoint (a resumed run).
    void restore();

private:
    using CountsSnapshot = std::map<std::string, std::array<int64_t, 3>>;  // in, out, failed
    // A checkpoint made at page_done that waits for shapes to settle the page they hold.
    struct PendingCheckpoint {
        std::map<std::string, ReceiveProgress> progress;
        int64_t uncaught = 0;
        CountsSnapshot counts;
        std::vector<FailedRecord> failed;
        std::vector<std::pair<std::string, std::string>> keys;
        std::set<const Shape*> waiting;
    };

    void commit(Checkpoint c);
    void commit_pending();
    // A shape holds records of the page (a batch or rebatch not yet full): no checkpoint may pass them.
    bool any_shape_holds_records() const;
    CountsSnapshot counts_snapshot() const;
    std::string checkpoint_json(const std::map<std::string, ReceiveProgress>& progress, int64_t uncaught) const;
    std::string counts_json(const CountsSnapshot& counts) const;

    RunRecord& run_;
    std::string flow_name_;
    FlowStore& store_;
    InstanceRuntime& runtime_;
    Redactor redactor_;
    const RunSignals& signals_;
    std::map<std::string, ShapeCounts> counts_;
    std::shared_ptr<CounterPair> traffic_;
    std::map<std::string, ReceiveProgress> progress_;
    std::map<std::string, std::string> start_cursors_;
    std::vector<Batch*> catches_;
    std::vector<FailedRecord> failed_;  // since the last checkpoint
    int64_t uncaught_ = 0, kept_failures_ = 0;
    std::set<std::pair<std::string, std::string>> new_keys_;  // not committed yet (pending ones too)
    std::vector<std::pair<std::string, std::string>> key_log_;  // new_keys_ no pending checkpoint took
    std::optional<PendingCheckpoint> pending_;
    std::string committed_checkpoint_ = "{}";
    std::vector<Shape*> shapes_;
    std::mutex log_mutex_;
    std::vector<RunLogLine> log_;
};

// A checkpoint's receive progress without its count of failed records: where a retry of
// the run starts (the records that failed belong to the run that failed them).
std::string progress_only(std::string_view checkpoint_json);

}  // namespace junction::core::flows
