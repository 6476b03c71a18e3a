// A send works on a page in the background: its requests go out on the send's worker
// threads while the run reads and maps the next page, and what came of it (delivered,
// rejected, not delivered) is settled when the next page reaches the send, or at the end.
// The page's checkpoint waits for that (decision 0028). Where settling later could not be
// exact (inside a try's body, or with a source or another send after this one) a page is
// settled before process() returns, as every shape does.
#include "send_connection.hpp"

#include "call_options.hpp"
#include "../send_workers.hpp"

#include <junction/core/common/error.hpp>
#include <junction/core/common/json_schema.hpp>
#include <junction/core/flows/run_context.hpp>
#include <junction/core/instances/instance_runtime.hpp>
#include <junction/core/net/http_client.hpp>
#include <junction/core/net/request_slots.hpp>

#include <junction/json/utf8_writer.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <limits>
#include <mutex>
#include <set>

namespace junction::core::flows {

namespace {

class SendShape final : public Shape {
public:
    SendShape(const Spec& spec, std::string id, std::string instance, std::string instance_name, const Operation& op)
        : Shape(std::move(id)), instance_(std::move(instance)), instance_name_(std::move(instance_name)), endpoint_(op.name),
          batch_size_(static_cast<size_t>(spec.integer("batch_size", 1, 10'000).value_or(100))),
          concurrency_(static_cast<size_t>(spec.integer("concurrency", 1, 64).value_or(1))),
          next_(link_from(spec, "next")), slots_(static_cast<std::ptrdiff_t>(concurrency_)),
          workers_(calls_side_by_side(batch_size_, concurrency_)) {}
    ~SendShape() override { abandon(); }

    bool holds_page() const override { return held_ != nullptr; }

    void settle(RunContext& run) override {
        if (auto page = std::move(held_)) settle(*page, run);
    }

    void finish(RunContext& run) override { settle(run); }

    void abandon() override {
        if (!held_) return;
        failed_page_ = 0;  // nothing more goes out
        held_->wait();
        held_.reset();
    }

protected:
    void process(Batch batch, RunContext& run) override {
        if (!in_background(run)) {
            auto page = start(std::move(batch), run);
            page->wait();
            return pass_on(*page, run);
        }
        auto previous = std::exchange(held_, nullptr);
        if (previous) {
            // Its calls end before this page's start: the same few threads, each with many
            // requests in flight, send the run (more calls at once would split the slots
            // thinner and cost more CPU per request).
            previous->wait();
            // A failed page fails the run here (settling it throws): this page is not sent.
            if (previous->failed()) {
                const auto failed = std::move(previous);
                settle(*failed, run);
            }
        }
        try {
            held_ = start(std::move(batch), run);
        } catch (...) {
            held_ = std::move(previous);  // whole: the run's failure path settles it
            throw;
        }
        if (!previous) return;
        try {
            settle(*previous, run);
        } catch (...) {
            abandon();  // the run fails: the page just started is not delivered
            throw;
        }
    }

private:
    // As few calls at once as fill `concurrency`: a call's records go out together, each
    // batch keeping up to kBatchMaxInFlight requests in flight. Slots split over more calls
    // than that cost a wake-up per answer on each of their threads (decision 0027).
    static size_t calls_side_by_side(size_t batch_size, size_t concurrency) {
        const size_t per_call = std::min(batch_size, HttpClient::kBatchMaxInFlight);
        return (concurrency + per_call - 1) / per_call;
    }

    struct Outcome {
        bool sent = false;                  // the request was made (after a failure, the rest are not)
        std::vector<std::string> rejected;  // per record: why, or empty when delivered
        std::exception_ptr error;           // the whole request failed
        // Per record: what the connector passes on instead of it (the created object), in
        // `answers`; null to pass on the record as it was.
        std::vector<const Json*> passed_on;
        std::vector<std::shared_ptr<rapidjson::Document>> answers;
    };

    // A page on its way: its calls run on the workers; `unfinished` counts those not done.
    struct Page {
        uint64_t number = 0;  // in the order the send started them, from 1
        Batch batch;
        LiveInstancePtr live;
        std::vector<Outcome> outcomes;  // per call of `batch_size` records
        std::mutex mutex;
        std::condition_variable finished;
        size_t unfinished = 0;

        void wait() {
            std::unique_lock lock(mutex);
            finished.wait(lock, [&] { return unfinished == 0; });
        }
        // Some call failed or was not made (its calls must be done).
        bool failed() const {
            for (const auto& o : outcomes)
                if (o.error || !o.sent) return true;
            return false;
        }
        void one_done() {
            std::lock_guard lock(mutex);
            if (--unfinished == 0) finished.notify_all();
        }
    };

    // True when the page may be settled later: nothing after this send reads pages, holds
    // pages itself or waits on a catch path that must see this page's failures now.
    bool in_background(RunContext& run) {
        if (run.catching()) return false;
        if (!downstream_checked_) {
            downstream_checked_ = true;
            std::vector<Shape*> todo{next_.shape};
            std::set<Shape*> seen;
            while (!todo.empty()) {
                Shape* s = todo.back();
                todo.pop_back();
                if (!s || !seen.insert(s).second) continue;
                if (s->is_source() || dynamic_cast<SendShape*>(s)) downstream_plain_ = false;
                for (auto& link : s->links()) todo.push_back(link.shape);
            }
        }
        return downstream_plain_;
    }

    // Posts the page's calls to the workers. The instance is acquired once per page on the
    // run's thread (a first use builds the plugin object once); a hot swap reaches the next page.
    std::unique_ptr<Page> start(Batch batch, RunContext& run) {
        auto page = std::make_unique<Page>();
        page->number = ++pages_started_;
        page->live = run.runtime().acquire(instance_);
        page->batch = std::move(batch);
        const size_t calls = (page->batch.size() + batch_size_ - 1) / batch_size_;
        page->outcomes.resize(calls);
        Page* p = page.get();
        const auto call = [this, p, &run](size_t c) {
            Outcome& o = p->outcomes[c];
            // After a failed request no later page goes out; one at a time, nothing after it does.
            const uint64_t failed = failed_page_.load();
            if (failed < p->number || (concurrency_ <= 1 && failed == p->number)) return;
            try {
                o = send(*p->live, p->batch, c * batch_size_, std::min(p->batch.size(), (c + 1) * batch_size_), run);
            } catch (...) {
                o.error = std::current_exception();
                for (uint64_t seen = failed_page_.load(); p->number < seen && !failed_page_.compare_exchange_weak(seen, p->number);) {
                }
            }
            o.sent = true;
        };
        const auto post = [&](std::function<void()> task) {
            {
                std::lock_guard lock(p->mutex);
                ++p->unfinished;
            }
            try {
                workers_.post(std::move(task));
            } catch (...) {
                p->one_done();
                throw;
            }
        };
        try {
            if (concurrency_ <= 1) {
                // One at a time and in order: a failed request stops the sending.
                post([p, calls, call] {
                    for (size_t c = 0; c < calls; ++c) call(c);
                    p->one_done();
                });
            } else {
                for (size_t c = 0; c < calls; ++c)
                    post([p, c, call] {
                        call(c);
                        p->one_done();
                    });
            }
        } catch (...) {
            failed_page_ = 0;
            page->wait();
            throw;
        }
        return page;
    }

    // Waits for a held page and passes on what came of it, as part of that page's checkpoint.
    void settle(Page& page, RunContext& run) {
        RunContext::Settling settling(run, *this);
        page.wait();
        pass_on(page, run);
        settling.done();
    }

    // Every call is accounted for: delivered records go on, the others stay with the run.
    void pass_on(Page& page, RunContext& run) {
        Batch& batch = page.batch;
        std::exception_ptr first_error;
        for (const auto& o : page.outcomes)
            if (!first_error) first_error = o.error;
        if (first_error) run.check_stop();  // a cancel's aborted requests are not failures
        Batch delivered = batch.sibling();
        for (size_t c = 0; c < page.outcomes.size(); ++c) {
            const Outcome& outcome = page.outcomes[c];
            const size_t from = c * batch_size_, to = std::min(batch.size(), (c + 1) * batch_size_);
            const std::string undelivered = outcome.error ? not_delivered(outcome.error)
                                            : !outcome.sent ? "not sent: an earlier request to " + endpoint_ + " failed"
                                                            : std::string();
            for (size_t i = from, k = 0; i < to; ++i, ++k) {
                if (!undelivered.empty())
                    run.keep_undelivered(id(), batch.records[i], undelivered);
                else if (k < outcome.rejected.size() && !outcome.rejected[k].empty())
                    run.fail(id(), batch.records[i], outcome.rejected[k]);
                else if (k < outcome.passed_on.size() && outcome.passed_on[k])
                    delivered.records.emplace_back(*outcome.passed_on[k], delivered.allocator());
                else
                    delivered.records.push_back(std::move(batch.records[i]));
            }
        }
        run.count_delivered(delivered.size());
        forward(next_, std::move(delivered), run);
        // The run fails, after what was delivered went on: its page is not checkpointed.
        if (first_error) std::rethrow_exception(first_error);
        if (failed_page_.load() <= page.number)
            throw Error(Errc::plugin_failed, "not sent: an earlier request to " + endpoint_ + " failed");
    }

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

    // One call of the endpoint with records [from, to); on a worker thread.
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
    bool downstream_checked_ = false, downstream_plain_ = true;
    // `concurrency` is the bound on requests in flight: the slots every call of this
    // shape draws on, whether a call sends one record or a batch (its requests run at once).
    mutable RequestSlots slots_;
    uint64_t pages_started_ = 0;
    // The first page with a failed request (0: stop everything; max: none).
    std::atomic<uint64_t> failed_page_{std::numeric_limits<uint64_t>::max()};
    std::unique_ptr<Page> held_;  // the page going out in the background
    SendWorkers workers_;                    // last: its threads end before the pages they work on
};

}  // namespace

std::unique_ptr<Shape> make_send_connection(const Spec& spec, std::string id, std::string instance,
                                            std::string instance_name, const Operation& op) {
    return std::make_unique<SendShape>(spec, std::move(id), std::move(instance), std::move(instance_name), op);
}

}  // namespace junction::core::flows
