// connection: one instance's endpoint. A receive reads pages (filters, the incremental
// cursor) and sends each down the flow; a send delivers records in calls of `batch_size`
// records, at most `concurrency` HTTP requests in flight, and passes on the delivered ones.
//   {"id": "orders", "type": "connection", "instance": "shopify-uk", "endpoint": "orders.receive",
//    "direction": "receive", "filters": {"financial_status": "paid"}, "incremental": true, "next": "map"}
//   {"id": "upsert", "type": "connection", "instance": "netsuite", "endpoint": "salesorder.upsert",
//    "direction": "send", "batch_size": 1, "concurrency": 8}
#include <junction/core/common/error.hpp>
#include <junction/core/flows/run_context.hpp>
#include <junction/core/flows/shape.hpp>
#include <junction/core/flows/time_values.hpp>
#include <junction/core/instances/instance_runtime.hpp>
#include <junction/core/common/json_schema.hpp>

#include "../page_queue.hpp"
#include "../send_workers.hpp"

#include <junction/json/utf8_writer.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <exception>
#include <functional>
#include <thread>

namespace junction::core::flows {

namespace {

// A call on the run's behalf: stopped with the run; the lines the connector writes about it
// (a partial answer, its own log lines; ABI 1.4 call_log) go to the run log beside the shape,
// named by the instance that wrote them.
CallOptions call_options(RunContext& run, const std::string& shape, const std::string& instance) {
    CallOptions options;
    options.cancelled = &run.stop_flag();
    options.on_log = [&run, shape, instance](uint32_t level, std::string_view line) {
        run.log(level >= JN_LOG_ERROR ? "error" : level >= JN_LOG_WARN ? "warn" : "info", shape,
                instance + ": " + std::string(line));
    };
    return options;
}

class ReceiveShape final : public Shape {
public:
    ReceiveShape(const Spec& spec, std::string id, std::string instance, std::string instance_name, const Operation& op)
        : Shape(std::move(id)), instance_(std::move(instance)), instance_name_(std::move(instance_name)), endpoint_(op.name),
          next_(link_from(spec, "next")) {
        incremental_ = spec.boolean("incremental", !op.cursor_field.empty());
        if (incremental_ && op.cursor_field.empty())
            spec.problem("incremental", "endpoint " + op.name + " has no cursor field; it cannot read incrementally");
        if (incremental_ && !op.cursor_field.empty()) cursor_ = parse_pointer(op.cursor_field);
        if (auto filters = spec.child("filters", false)) {
            for (const auto& m : filters->json().GetObject()) {
                const std::string name = m.name.GetString();
                if (std::find(op.filters.begin(), op.filters.end(), name) == op.filters.end())
                    filters->problem(name, "endpoint " + op.name + " offers no filter '" + name + "'" +
                                               (op.filters.empty() ? std::string() : " (it offers: " + join(op.filters) + ")"));
            }
            filters_ = to_json(filters->json());
        }
    }

    bool is_source() const override { return true; }

protected:
    void process(Batch, RunContext& run) override {
        ReceiveProgress& progress = run.progress(id());
        if (progress.done) return;  // delivered before the host restarted
        std::string since = progress.cursor.empty() ? run.start_cursor(id()) : progress.cursor;
        // Without a cursor a resumed read starts over and skips the pages already delivered.
        int64_t skip = cursor_ ? 0 : progress.pages;
        std::string request = "{";
        if (!filters_.empty()) request += "\"filters\":" + filters_;
        if (cursor_ && !since.empty()) {
            rapidjson::StringBuffer b;
            json::Utf8Writer w(b);
            w.String(since.c_str());
            request += std::string(request.size() > 1 ? "," : "") + "\"since\":" + b.GetString();
        }
        request += "}";
        if (progress.pages > 0)
            run.log("info", id(), "resuming after page " + std::to_string(progress.pages) +
                                      (cursor_ ? " from cursor " + since : " (skipping the pages delivered)"));

        // The plugin reads on its own thread, one page ahead of the flow (bounded: two
        // pages wait at most), so the next page is fetched while this one is sent.
        PageQueue pages(2);
        auto live = run.runtime().acquire(instance_);
        std::thread reader([&] {
            static std::atomic<unsigned> started{0};
            name_this_thread("jn-recv", started);
            const CallOptions options = call_options(run, id(), instance_name_);
            try {
                live->plugin->invoke(endpoint_, request, [&](std::string_view page) {
                    if (skip > 0) {
                        --skip;
                        return;
                    }
                    // Refused before it is copied: a plugin cannot make the host hold a huge page.
                    if (const size_t cap = json_limits().max_page_bytes; page.size() > cap)
                        throw Error(Errc::invalid_argument, "invalid page: the page from " + endpoint_ +
                                                                " is larger than " + std::to_string(cap) +
                                                                " bytes (max-page-bytes)");
                    pages.push(std::string(page));
                }, options);
                pages.finish();
            } catch (...) {
                pages.finish(std::current_exception());
            }
        });
        try {
            while (auto page = pages.pop()) {
                deliver(*page, run, progress);
                // A graceful stop: this page is checkpointed; the rest waits for the restart.
                if (run.draining()) throw RunStopped("the host is stopping");
            }
        } catch (...) {
            pages.close();
            reader.join();
            throw;
        }
        reader.join();
        if (auto error = pages.error()) {
            run.check_stop();
            std::rethrow_exception(error);
        }
        progress.done = true;
        run.log("info", id(), "read " + std::to_string(run.counts(id()).out.load()) + " records in " +
                                  std::to_string(progress.pages) + " pages");
    }

private:
    // A page that breaks a limit fails the run with an invalid-page error, never the daemon.
    Batch parse_page(std::string_view page) const {
        try {
            return Batch::parse(page, "the page from " + endpoint_, JsonSize::page);
        } catch (const Error& e) {
            throw Error(Errc::invalid_argument, "invalid page: " + e.message() +
                                                    "; the connector must send smaller or flatter pages");
        }
    }

    static std::string join(const std::vector<std::string>& v) {
        std::string out;
        for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
        return out;
    }

    void deliver(std::string_view page, RunContext& run, ReceiveProgress& progress) {
        Batch batch = parse_page(page);
        std::string newest = progress.cursor;
        if (cursor_) {
            for (const auto& r : batch.records) {
                const Json* v = cursor_->Get(r);
                if (!v) continue;
                std::string c = cursor_text(*v);
                if (!c.empty() && (newest.empty() || compare_cursor(c, newest) > 0)) newest = std::move(c);
            }
        }
        run.counts(id()).in += static_cast<int64_t>(batch.size());
        run.count_received(batch.size());
        forward(next_, std::move(batch), run);
        // Only once the page went through the whole flow does it count as delivered.
        progress.pages += 1;
        progress.cursor = newest;
        run.page_done();
    }

    std::string instance_, instance_name_, endpoint_, filters_;  // instance_: its id (a rename keeps the flow)
    bool incremental_ = false;
    std::optional<Pointer> cursor_;
    Link& next_;
};

class SendShape final : public Shape {
public:
    SendShape(const Spec& spec, std::string id, std::string instance, std::string instance_name, const Operation& op)
        : Shape(std::move(id)), instance_(std::move(instance)), instance_name_(std::move(instance_name)), endpoint_(op.name),
          batch_size_(static_cast<size_t>(spec.integer("batch_size", 1, 10'000).value_or(100))),
          concurrency_(static_cast<size_t>(spec.integer("concurrency", 1, 64).value_or(1))),
          next_(link_from(spec, "next")), slots_(static_cast<std::ptrdiff_t>(concurrency_)), workers_(concurrency_) {}

protected:
    void process(Batch batch, RunContext& run) override {
        const size_t chunks = (batch.size() + batch_size_ - 1) / batch_size_;
        std::vector<Outcome> outcomes(chunks);
        // Acquired once per batch on this thread (a first use builds the plugin object
        // once, not once per worker); a hot swap reaches the next batch.
        const auto live = run.runtime().acquire(instance_);
        const std::function<void(size_t)> send_chunk = [&](size_t c) {
            try {
                outcomes[c] = send(*live, batch, c * batch_size_, std::min(batch.size(), (c + 1) * batch_size_), run);
            } catch (...) {
                outcomes[c].error = std::current_exception();
            }
            outcomes[c].sent = true;
        };
        if (concurrency_ <= 1 || chunks <= 1) {
            // One at a time, a failed request stops the sending: the chunks after it are not sent.
            for (size_t c = 0; c < chunks && !outcomes[c > 0 ? c - 1 : 0].error; ++c) send_chunk(c);
        } else {
            workers_.run(chunks, send_chunk);
        }
        std::exception_ptr first_error;
        for (const auto& o : outcomes)
            if (!first_error) first_error = o.error;
        if (first_error) run.check_stop();  // a cancel's aborted requests are not failures
        // Every chunk is accounted for: delivered records go on, the others stay with the run.
        Batch delivered = batch.sibling();
        for (size_t c = 0; c < chunks; ++c) {
            const size_t from = c * batch_size_, to = std::min(batch.size(), (c + 1) * batch_size_);
            const std::string undelivered = outcomes[c].error ? not_delivered(outcomes[c].error)
                                            : first_error && !outcomes[c].sent
                                                ? "not sent: an earlier request to " + endpoint_ + " failed"
                                                : std::string();
            for (size_t i = from, k = 0; i < to; ++i, ++k) {
                if (!undelivered.empty())
                    run.keep_undelivered(id(), batch.records[i], undelivered);
                else if (k < outcomes[c].rejected.size() && !outcomes[c].rejected[k].empty())
                    run.fail(id(), batch.records[i], outcomes[c].rejected[k]);
                else if (k < outcomes[c].passed_on.size() && outcomes[c].passed_on[k])
                    delivered.records.emplace_back(*outcomes[c].passed_on[k], delivered.allocator());
                else
                    delivered.records.push_back(std::move(batch.records[i]));
            }
        }
        run.count_delivered(delivered.size());
        forward(next_, std::move(delivered), run);
        // The run fails, after what was delivered went on: its page is not checkpointed.
        if (first_error) std::rethrow_exception(first_error);
    }

private:
    struct Outcome {
        bool sent = false;                  // the request was made (one at a time, a failure stops the rest)
        std::vector<std::string> rejected;  // per record: why, or empty when delivered
        std::exception_ptr error;           // the whole request failed
        // Per record: what the connector passes on instead of it (the created object), in
        // `answers`; null to pass on the record as it was.
        std::vector<const Json*> passed_on;
        std::vector<std::shared_ptr<rapidjson::Document>> answers;
    };

    std::string not_delivered(const std::exception_ptr& error) const {
        std::string why = "not delivered: the request to " + endpoint_ + " failed";
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            why += ": " + std::string(e.what());
        } catch (...) {
        }
        return why;
    }

    Outcome send(LiveInstance& live, const Batch& batch, size_t from, size_t to, RunContext& run) const {
        rapidjson::StringBuffer b;
        json::Utf8Writer w(b);
        w.StartObject();
        w.Key("records");
        w.StartArray();
        for (size_t i = from; i < to; ++i) batch.records[i].Accept(w);
        w.EndArray();
        w.EndObject();
        Outcome outcome;
        outcome.rejected.resize(to - from);
        outcome.passed_on.resize(to - from);
        CallOptions options = call_options(run, id(), instance_name_);
        options.request_slots = &slots_;
        live.plugin->invoke(endpoint_, std::string_view(b.GetString(), b.GetSize()), [&](std::string_view json) {
            auto results = std::make_shared<rapidjson::Document>(parse_json_text(json, "the results of " + endpoint_));
            if (!results->IsArray()) return;
            outcome.answers.push_back(results);
            for (const auto& r : results->GetArray()) {
                if (!r.IsObject() || !r.HasMember("index") || !r["index"].IsUint64()) continue;
                const size_t index = r["index"].GetUint64();
                if (auto passed = r.FindMember("record"); passed != r.MemberEnd() && index < outcome.passed_on.size())
                    outcome.passed_on[index] = &passed->value;
                const bool rejected = r.HasMember("status") && r["status"].IsString() &&
                                      std::string_view(r["status"].GetString()) != "ok";
                if (!rejected || index >= outcome.rejected.size()) continue;
                std::string why = "rejected by " + endpoint_;
                if (r.HasMember("http_status") && r["http_status"].IsInt())
                    why += " (HTTP " + std::to_string(r["http_status"].GetInt()) + ")";
                if (r.HasMember("error") && r["error"].IsString()) why += ": " + std::string(r["error"].GetString());
                outcome.rejected[index] = why;
            }
        }, options);
        return outcome;
    }

    std::string instance_, instance_name_, endpoint_;
    size_t batch_size_, concurrency_;
    Link& next_;
    // `concurrency` is the bound on requests in flight: the slots every call of this
    // shape draws on, whether a call sends one record or a batch (its requests run at once).
    mutable RequestSlots slots_;
    SendWorkers workers_;  // chunks of a page sent side by side, on threads kept for the run
};

std::unique_ptr<Shape> build(const Spec& spec, const std::string& id, BuildContext& ctx) {
    spec.allow_only({"id", "type", "instance", "endpoint", "direction", "filters", "incremental", "batch_size",
                     "concurrency", "next"});
    const std::string instance = spec.string("instance", true);
    const std::string endpoint = spec.string("endpoint", true);
    const std::string direction = spec.string("direction", true);
    if (!direction.empty() && direction != "receive" && direction != "send")
        spec.problem("direction", "must be receive or send");
    if (instance.empty() || endpoint.empty()) return nullptr;

    std::string instance_id;
    if (auto pinned = ctx.instances.find(id); pinned != ctx.instances.end()) instance_id = pinned->second;
    const auto record = ctx.store.find_instance(instance_id.empty() ? instance : instance_id);
    if (!record) {
        spec.problem("instance", "there is no instance '" + instance + "' (see: junction instances list)");
        return nullptr;
    }
    const auto manifest = ctx.runtime.manifest_for(record->connector, record->version_pin);
    if (!manifest) {
        spec.problem("instance", "instance " + record->name + " runs on connector " + record->connector +
                                     ", which is not installed");
        return nullptr;
    }
    const Operation* op = manifest->find_operation(endpoint);
    if (!op) {
        std::string known;
        for (const auto& o : manifest->operations) known += (known.empty() ? "" : ", ") + o.name;
        spec.problem("endpoint", "connector " + manifest->id() + " has no endpoint '" + endpoint + "' (it has: " + known + ")");
        return nullptr;
    }
    if (direction.empty() || direction != direction_name(op->direction)) {
        if (!direction.empty())
            spec.problem("direction", "endpoint " + endpoint + " is a " + direction_name(op->direction) +
                                          " endpoint, not " + direction);
        return nullptr;
    }
    ctx.instances[id] = record->id;
    if (op->direction == Direction::receive) return std::make_unique<ReceiveShape>(spec, id, record->id, record->name, *op);
    return std::make_unique<SendShape>(spec, id, record->id, record->name, *op);
}

}  // namespace

void register_connection_shape(ShapeRegistry& registry) { registry.add("connection", build); }

}  // namespace junction::core::flows
