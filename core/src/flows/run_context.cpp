#include <junction/core/flows/run_context.hpp>

#include <junction/core/flows/shape.hpp>
#include <junction/core/flows/time_values.hpp>
#include <junction/core/common/ids.hpp>
#include <junction/core/common/json_schema.hpp>

#include <junction/json/utf8_writer.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace junction::core::flows {

namespace {

// Failed records kept per run; beyond this they are counted, not stored.
constexpr int64_t kKeptFailures = 10'000;

}  // namespace

RunContext::RunContext(RunRecord& run, std::string flow_name, FlowStore& store, InstanceRuntime& runtime,
                       Redactor redactor, const RunSignals& signals)
    : run_(run), flow_name_(std::move(flow_name)), store_(store), runtime_(runtime),
      redactor_(std::move(redactor)), signals_(signals) {
    const auto cursors = parse_json_text(run_.start_cursors_json, "the run's start cursors");
    for (const auto& m : cursors.GetObject())
        if (m.value.IsString()) start_cursors_[m.name.GetString()] = m.value.GetString();
}

RunContext::~RunContext() { abandon_held_pages(); }

void RunContext::check_stop() const {
    if (signals_.stop.load(std::memory_order_relaxed)) throw RunStopped("stopped");
}

ShapeCounts& RunContext::counts(const std::string& shape) { return counts_[shape]; }

void RunContext::fail(const std::string& shape, const Json& record, const std::string& reason) {
    const std::string why = redact(reason);
    if (!catches_.empty()) {
        counts(shape).failed += 1;
        Batch& frame = *catches_.back();
        auto& a = frame.allocator();
        // The catch path always gets an object: a record that is not one is wrapped.
        Json copy(record, a);
        if (!copy.IsObject()) {
            Json wrapped(rapidjson::kObjectType);
            wrapped.AddMember("record", copy, a);
            copy = std::move(wrapped);
        }
        Json error(rapidjson::kObjectType);
        error.AddMember("shape", Json(shape.c_str(), a), a);
        error.AddMember("reason", Json(why.c_str(), a), a);
        copy.RemoveMember("_error");
        copy.AddMember("_error", error, a);
        frame.records.push_back(std::move(copy));
        return;
    }
    keep_undelivered(shape, record, why);
}

void RunContext::keep_undelivered(const std::string& shape, const Json& record, const std::string& reason) {
    counts(shape).failed += 1;
    ++uncaught_;
    const std::string why = redact(reason);
    if (kept_failures_ < kKeptFailures) {
        ++kept_failures_;
        failed_.push_back({0, shape, why, to_json(record)});
    } else if (kept_failures_ == kKeptFailures) {
        ++kept_failures_;
        log("warn", shape, "more than " + std::to_string(kKeptFailures) + " records failed; the rest are counted, not kept");
    }
}

void RunContext::log(std::string_view level, const std::string& shape, std::string message) {
    std::lock_guard lock(log_mutex_);
    log_.push_back({0, now_ms(), std::string(level), shape, redact(std::move(message))});
}

void RunContext::flush_log() {
    std::vector<RunLogLine> lines;
    {
        std::lock_guard lock(log_mutex_);
        lines.swap(log_);
    }
    store_.append_run_log(run_.id, lines);
}

std::string RunContext::start_cursor(const std::string& shape) const {
    auto it = start_cursors_.find(shape);
    return it == start_cursors_.end() ? std::string() : it->second;
}

bool RunContext::seen_before(const std::string& scope, const std::string& key) {
    auto entry = std::make_pair(scope, key);
    if (new_keys_.count(entry)) return true;
    const bool stored = store_.dedupe_seen(scope, key);
    // A stored key goes to the checkpoint too: it is marked seen now, so a key expires only
    // when no run has seen it for retention-dedupe-key-days (a list polled in full every
    // hour must not come through again once its keys are 90 days old).
    key_log_.push_back(entry);
    new_keys_.insert(std::move(entry));
    return stored;
}

bool RunContext::any_shape_holds_records() const {
    for (const Shape* s : shapes_)
        if (s->holds_records()) return true;
    return false;
}

void RunContext::page_done(bool settle_now) {
    if (any_shape_holds_records()) return;
    // A page held since an earlier checkpoint (a page that did not reach the send): its turn
    // first. Settling it may fill a shape after the send (a rebatch): then no checkpoint.
    if (pending_) {
        settle_held_pages();
        if (any_shape_holds_records()) return;
    }
    std::set<const Shape*> holding;
    for (const Shape* s : shapes_)
        if (s->holds_page()) holding.insert(s);
    if (holding.empty()) {
        Checkpoint c;
        c.checkpoint_json = checkpoint_json(progress_, uncaught_);
        c.counts_json = counts_json(counts_snapshot());
        c.dedupe_keys = std::move(key_log_);
        c.failed = std::move(failed_);
        key_log_.clear();
        new_keys_.clear();
        failed_.clear();
        commit(std::move(c));
        return;
    }
    pending_ = PendingCheckpoint{progress_, uncaught_, counts_snapshot(), std::move(failed_), std::move(key_log_),
                                 std::move(holding)};
    failed_.clear();
    key_log_.clear();
    if (settle_now) settle_held_pages();
}

void RunContext::settle_held_pages() {
    for (Shape* s : shapes_)
        if (s->holds_page()) s->settle(*this);
}

void RunContext::abandon_held_pages() {
    for (Shape* s : shapes_) s->abandon();
}

void RunContext::commit(Checkpoint c) {
    store_.commit_checkpoint(run_, c);
    committed_checkpoint_ = c.checkpoint_json;
    flush_log();
}

void RunContext::commit_pending() {
    PendingCheckpoint p = std::move(*pending_);
    pending_.reset();
    Checkpoint c;
    c.checkpoint_json = checkpoint_json(p.progress, p.uncaught);
    c.counts_json = counts_json(p.counts);
    for (const auto& key : p.keys) new_keys_.erase(key);  // from now on the store knows them
    c.dedupe_keys = std::move(p.keys);
    c.failed = std::move(p.failed);
    commit(std::move(c));
}

RunContext::Settling::Settling(RunContext& run, const Shape& shape) : run_(run), shape_(shape) {
    if (!run.pending_ || !run.pending_->waiting.count(&shape)) return;
    counted_ = true;
    counts_before_ = run.counts_snapshot();
    failed_before_ = run.failed_.size();
    keys_before_ = run.key_log_.size();
    uncaught_before_ = run.uncaught_;
}

void RunContext::Settling::done() {
    if (!counted_ || !run_.pending_) return;
    PendingCheckpoint& p = *run_.pending_;
    // Only this page's work happened since the constructor: add it to the page's checkpoint.
    for (const auto& [shape, now] : run_.counts_snapshot()) {
        const auto before = counts_before_.find(shape);
        for (size_t i = 0; i < now.size(); ++i)
            p.counts[shape][i] += now[i] - (before == counts_before_.end() ? 0 : before->second[i]);
    }
    p.uncaught += run_.uncaught_ - uncaught_before_;
    auto& failed = run_.failed_;
    std::move(failed.begin() + static_cast<std::ptrdiff_t>(failed_before_), failed.end(), std::back_inserter(p.failed));
    failed.resize(failed_before_);
    auto& keys = run_.key_log_;
    std::move(keys.begin() + static_cast<std::ptrdiff_t>(keys_before_), keys.end(), std::back_inserter(p.keys));
    keys.resize(keys_before_);
    p.waiting.erase(&shape_);
    if (!p.waiting.empty()) return;
    if (run_.any_shape_holds_records()) {
        // A shape after the send holds records of the page (a rebatch): no checkpoint may
        // pass them. What the pending one took goes back to the state the next one is made of.
        run_.failed_.insert(run_.failed_.begin(), std::make_move_iterator(p.failed.begin()),
                            std::make_move_iterator(p.failed.end()));
        run_.key_log_.insert(run_.key_log_.begin(), p.keys.begin(), p.keys.end());
        run_.pending_.reset();
        return;
    }
    run_.commit_pending();
}

void RunContext::finish_shapes() {
    for (Shape* s : shapes_) {
        check_stop();
        s->finish(*this);
    }
}

void RunContext::commit_end(const std::string& status, const std::string& error) {
    const bool delivered = status == "completed" || status == "completed_with_errors";
    if (pending_) {  // a page the run ends without: its failed records are still kept
        failed_.insert(failed_.begin(), std::make_move_iterator(pending_->failed.begin()),
                       std::make_move_iterator(pending_->failed.end()));
        pending_.reset();
    }
    Checkpoint c;
    // A run that did not finish keeps only what its last checkpoint made durable.
    c.checkpoint_json = delivered ? checkpoint_json(progress_, uncaught_) : committed_checkpoint_;
    c.counts_json = counts_json(counts_snapshot());
    if (delivered) c.dedupe_keys.assign(new_keys_.begin(), new_keys_.end());
    c.failed = std::move(failed_);
    failed_.clear();
    std::map<std::string, std::string> cursors;
    const auto progress = parse_json_text(c.checkpoint_json, "a checkpoint");
    if (auto r = progress.FindMember("receives"); r != progress.MemberEnd())
        for (const auto& m : r->value.GetObject())
            if (auto cur = m.value.FindMember("cursor"); cur != m.value.MemberEnd() && cur->value.GetStringLength())
                cursors[m.name.GetString()] = cur->value.GetString();
    run_.status = status;
    run_.error = redact(error);
    run_.ended_ms = now_ms();
    run_.checkpoint_json = c.checkpoint_json;
    run_.counts_json = c.counts_json;
    flush_log();
    store_.finish_run(run_, c, cursors);
}

RunContext::CountsSnapshot RunContext::counts_snapshot() const {
    CountsSnapshot out;
    for (const auto& [shape, c] : counts_) out[shape] = {c.in.load(), c.out.load(), c.failed.load()};
    return out;
}

std::string RunContext::checkpoint_json(const std::map<std::string, ReceiveProgress>& progress, int64_t uncaught) const {
    rapidjson::StringBuffer b;
    json::Utf8Writer w(b);
    w.StartObject();
    w.Key("receives");
    w.StartObject();
    for (const auto& [shape, p] : progress) {
        w.Key(shape.c_str());
        w.StartObject();
        w.Key("pages");
        w.Int64(p.pages);
        w.Key("cursor");
        w.String(p.cursor.c_str());
        w.Key("done");
        w.Bool(p.done);
        w.EndObject();
    }
    w.EndObject();
    w.Key("failed_records");
    w.Int64(uncaught);
    w.EndObject();
    return b.GetString();
}

std::string RunContext::counts_json(const CountsSnapshot& counts) const {
    rapidjson::StringBuffer b;
    json::Utf8Writer w(b);
    auto write = [&](const std::string& shape, const std::array<int64_t, 3>& c) {
        w.Key(shape.c_str());
        w.StartObject();
        w.Key("in");
        w.Int64(c[0]);
        w.Key("out");
        w.Int64(c[1]);
        w.Key("failed");
        w.Int64(c[2]);
        w.EndObject();
    };
    // In the order records flow, so a reader sees the funnel.
    w.StartObject();
    std::set<std::string> written;
    for (const Shape* s : shapes_) {
        auto it = counts.find(s->id());
        if (it == counts.end()) continue;
        write(it->first, it->second);
        written.insert(it->first);
    }
    for (const auto& [shape, c] : counts)
        if (!written.count(shape)) write(shape, c);
    w.EndObject();
    return b.GetString();
}

void RunContext::restore() {
    const auto checkpoint = parse_json_text(run_.checkpoint_json, "the run's checkpoint");
    committed_checkpoint_ = run_.checkpoint_json;
    if (auto r = checkpoint.FindMember("receives"); r != checkpoint.MemberEnd()) {
        for (const auto& m : r->value.GetObject()) {
            auto& p = progress_[m.name.GetString()];
            p.pages = m.value["pages"].GetInt64();
            p.cursor = m.value["cursor"].GetString();
            p.done = m.value["done"].GetBool();
        }
    }
    if (auto f = checkpoint.FindMember("failed_records"); f != checkpoint.MemberEnd()) uncaught_ = f->value.GetInt64();
    const auto counts = parse_json_text(run_.counts_json, "the run's counts");
    for (const auto& m : counts.GetObject()) {
        auto& c = counts_[m.name.GetString()];
        c.in = m.value["in"].GetInt64();
        c.out = m.value["out"].GetInt64();
        c.failed = m.value["failed"].GetInt64();
    }
}

std::string progress_only(std::string_view checkpoint_json) {
    auto checkpoint = parse_json_text(checkpoint_json, "the run's checkpoint");
    if (checkpoint.IsObject()) checkpoint.RemoveMember("failed_records");
    return to_json(checkpoint);
}

}  // namespace junction::core::flows
