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
    new_keys_.insert(std::move(entry));
    return stored;
}

void RunContext::page_done() {
    for (const Shape* s : shapes_)
        if (s->holds_records()) return;
    Checkpoint c;
    c.checkpoint_json = checkpoint_json();
    c.counts_json = counts_json();
    c.dedupe_keys.assign(new_keys_.begin(), new_keys_.end());
    c.failed = std::move(failed_);
    store_.commit_checkpoint(run_, c);
    committed_checkpoint_ = c.checkpoint_json;
    new_keys_.clear();
    failed_.clear();
    flush_log();
}

void RunContext::finish_shapes() {
    for (Shape* s : shapes_) {
        check_stop();
        s->finish(*this);
    }
}

void RunContext::commit_end(const std::string& status, const std::string& error) {
    const bool delivered = status == "completed" || status == "completed_with_errors";
    Checkpoint c;
    // A run that did not finish keeps only what its last checkpoint made durable.
    c.checkpoint_json = delivered ? checkpoint_json() : committed_checkpoint_;
    c.counts_json = counts_json();
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

std::string RunContext::checkpoint_json() const {
    rapidjson::StringBuffer b;
    json::Utf8Writer w(b);
    w.StartObject();
    w.Key("receives");
    w.StartObject();
    for (const auto& [shape, p] : progress_) {
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
    w.Int64(uncaught_);
    w.EndObject();
    return b.GetString();
}

std::string RunContext::counts_json() const {
    rapidjson::StringBuffer b;
    json::Utf8Writer w(b);
    auto write = [&](const std::string& shape, const ShapeCounts& c) {
        w.Key(shape.c_str());
        w.StartObject();
        w.Key("in");
        w.Int64(c.in);
        w.Key("out");
        w.Int64(c.out);
        w.Key("failed");
        w.Int64(c.failed);
        w.EndObject();
    };
    // In the order records flow, so a reader sees the funnel.
    w.StartObject();
    std::set<std::string> written;
    for (const Shape* s : shapes_) {
        auto it = counts_.find(s->id());
        if (it == counts_.end()) continue;
        write(it->first, it->second);
        written.insert(it->first);
    }
    for (const auto& [shape, c] : counts_)
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
