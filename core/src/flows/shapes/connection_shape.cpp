// connection: one instance's endpoint. A receive reads pages (filters, the incremental
// cursor) and sends each down the flow; a send delivers records in calls of `batch_size`
// records, at most `concurrency` HTTP requests in flight, and passes on the delivered ones
// (../connection/send_connection.cpp).
//   {"id": "orders", "type": "connection", "instance": "shopify-uk", "endpoint": "orders.receive",
//    "direction": "receive", "filters": {"financial_status": "paid"}, "incremental": true, "next": "map"}
//   {"id": "upsert", "type": "connection", "instance": "netsuite", "endpoint": "salesorder.upsert",
//    "direction": "send", "batch_size": 1, "concurrency": 8}
#include <junction/core/common/error.hpp>
#include <junction/core/common/thread_name.hpp>
#include <junction/core/flows/run_context.hpp>
#include <junction/core/flows/shape.hpp>
#include <junction/core/flows/time_values.hpp>
#include <junction/core/instances/instance_runtime.hpp>
#include <junction/core/common/json_schema.hpp>

#include "../connection/call_options.hpp"
#include "../connection/send_connection.hpp"
#include "../page_queue.hpp"

#include <junction/json/utf8_writer.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <exception>
#include <functional>
#include <thread>

namespace junction::core::flows {

namespace {

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
            for (;;) {
                // The source is behind the flow: what the sends hold is settled and checkpointed
                // before the wait, so a stop during it finds nothing sent and not checkpointed.
                if (!pages.ready()) run.settle_held_pages();
                auto page = pages.pop();
                if (!page) break;
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
        run.page_done(/*settle_now=*/run.draining());
    }

    std::string instance_, instance_name_, endpoint_, filters_;  // instance_: its id (a rename keeps the flow)
    bool incremental_ = false;
    std::optional<Pointer> cursor_;
    Link& next_;
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
    return make_send_connection(spec, id, record->id, record->name, *op);
}

}  // namespace

void register_connection_shape(ShapeRegistry& registry) { registry.add("connection", build); }

}  // namespace junction::core::flows
