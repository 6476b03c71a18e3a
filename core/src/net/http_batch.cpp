// HttpClient::perform_many: a batch of requests at once on the calling thread, through
// libcurl's multi interface, as many in flight as the caller's RequestSlots grant. A send
// of 100 records is 100 requests on a few keep-alive connections, driven by one thread
// that sleeps in poll() between answers, not 100 threads or 100 round trips one by one.
#include <junction/core/net/http_client.hpp>

#include "curl_transfer.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <optional>

namespace junction::core {

std::unique_ptr<HttpClient::Multi> HttpClient::acquire_multi() {
    {
        std::lock_guard lock(mutex_);
        if (!idle_multi_.empty()) {
            auto m = std::move(idle_multi_.back());
            idle_multi_.pop_back();
            return m;
        }
    }
    auto m = std::make_unique<Multi>();
    if (!m->multi) throw std::bad_alloc();
    return m;
}

void HttpClient::release_multi(std::unique_ptr<Multi> multi) {
    std::lock_guard lock(mutex_);
    if (idle_multi_.size() < 16) idle_multi_.push_back(std::move(multi));
}

namespace {

using Clock = std::chrono::steady_clock;

// How far past the oldest result not yet handed on a batch may start requests: answers
// that finish early wait in memory for it, and this bounds how many do, and how many bytes.
constexpr size_t kMaxAhead = HttpClient::kBatchMaxInFlight;
constexpr size_t kMaxWaitingBytes = 16u << 20;

// One request of the batch, from its start until its result is handed on.
struct Item {
    net::Transfer transfer;
    std::optional<HttpExchange> exchange;  // when an observer watches
    Clock::time_point started;
    bool holds_slot = false;
    bool in_flight = false;
    bool done = false;
    jn_status status = JN_OK;
    long code = 0;
    std::string error;

    void fail(jn_status s, std::string why) {
        status = s;
        error = std::move(why);
        done = true;
    }
};

// Sets RequestSlots::handing_results() for as long as results go to the caller.
struct HandingResults {
    bool before = RequestSlots::handing_results();
    HandingResults() { RequestSlots::handing_results() = true; }
    ~HandingResults() { RequestSlots::handing_results() = before; }
};

}  // namespace

void HttpClient::perform_many(const jn_http_request* const* requests, size_t count, const BatchResultFn& on_result,
                              const std::atomic<bool>* cancelled, RequestSlots* slots, Clock::time_point deadline) {
    if (count == 0) return;
    std::vector<std::unique_ptr<Item>> items(count);
    std::vector<std::unique_ptr<Handle>> handles(count);  // the easy handle of each request in flight
    auto multi = acquire_multi();
    CURLM* m = multi->multi;
    size_t next = 0, delivered = 0, in_flight = 0;
    size_t waiting_bytes = 0;  // bodies of answers that wait for an earlier one
    // Inside a plugin's result callback this thread may hold slots of its own batch.
    const bool nested = RequestSlots::handing_results();
    // Each request's start_after_ms counts from here, and from the start of the one before
    // it: one that started late (no slot was free) moves those after it as much, so the
    // spacing a rate limit asked for holds. not_before: when the next request is due,
    // while it waits for its start; min() otherwise.
    const Clock::time_point began = Clock::now();
    Clock::time_point previous_start = began;
    uint32_t previous_after_ms = 0;
    constexpr Clock::time_point kNotWaiting = Clock::time_point::min();
    Clock::time_point not_before = kNotWaiting;

    const auto is_cancelled = [&] { return cancelled && cancelled->load(std::memory_order_relaxed); };
    const auto finish = [&](size_t i) {
        Item& it = *items[i];
        if (it.in_flight) {
            curl_multi_remove_handle(m, handles[i]->curl);
            --in_flight;
            it.in_flight = false;
        }
        if (handles[i]) release(std::move(handles[i]));
        if (it.holds_slot) slots->release();
        it.holds_slot = false;
        it.done = true;
    };
    // Whatever happens (a callback that throws), no handle stays in the multi and no slot is kept.
    struct Cleanup {
        std::function<void()> run;
        ~Cleanup() { run(); }
    } cleanup{[&] {
        for (size_t i = 0; i < count; ++i)
            if (items[i] && !items[i]->done) finish(i);
        release_multi(std::move(multi));
    }};
    // Hands results on in index order: a request that finished early waits for those before it.
    const auto deliver_ready = [&] {
        HandingResults handing;
        for (; delivered < count && items[delivered] && items[delivered]->done; ++delivered) {
            Item& it = *items[delivered];
            if (it.exchange) {
                it.exchange->status = it.status == JN_OK ? static_cast<int>(it.code) : 0;
                it.exchange->response_bytes = it.status == JN_OK ? it.transfer.body.size() : 0;
                it.exchange->error = it.error;
                it.exchange->millis = std::chrono::duration<double, std::milli>(Clock::now() - it.started).count();
                options_.observer(*it.exchange);
            }
            if (it.status != JN_OK) {
                on_result(delivered, it.status, nullptr, it.error);
            } else {
                struct Target {
                    const BatchResultFn& on_result;
                    size_t index;
                } target{on_result, delivered};
                net::deliver(it.code, it.transfer, [](void* u, const jn_http_response* response) {
                    auto* t = static_cast<Target*>(u);
                    t->on_result(t->index, JN_OK, response, std::string());
                }, &target);
            }
            waiting_bytes -= std::min(waiting_bytes, it.transfer.body.size());
            items[delivered].reset();
        }
    };
    // Starts request i, or settles it at once (no request, refused, cancelled, too late).
    // False when it must wait: its start_after_ms has not come (not_before says when), or
    // no slot is free while others of the batch are in flight.
    const auto start = [&](size_t i) {
        const jn_http_request* request = requests[i];
        const uint32_t after_ms = request ? request->start_after_ms : 0;
        const auto due =
            std::max(began + std::chrono::milliseconds(after_ms),
                     previous_start + std::chrono::milliseconds(after_ms > previous_after_ms ? after_ms - previous_after_ms : 0));
        if (due > Clock::now() && due < deadline && !is_cancelled()) {
            not_before = due;
            return false;
        }
        items[i] = std::make_unique<Item>();
        Item& it = *items[i];
        if (request && options_.observer) it.exchange = net::exchange_of(*request);
        it.started = Clock::now();
        if (!request) return it.fail(JN_ERR_INVALID_REQUEST, "no request"), true;
        if (is_cancelled()) return it.fail(JN_ERR_CANCELLED, "cancelled"), true;
        if (const jn_status s = net::check_request(*request, it.error); s != JN_OK) return it.fail(s, it.error), true;
        if (due >= deadline && due > it.started)
            return it.fail(JN_ERR_TIMEOUT, "its start (start_after_ms) falls past the call's deadline"), true;
        const auto left = deadline - it.started;
        if (left <= Clock::duration::zero()) return it.fail(JN_ERR_TIMEOUT, "the call passed its deadline"), true;
        if (slots) {
            // The first in flight waits for a slot; the others take free ones only, so a batch
            // never holds slots while it waits for more. Nested in a result callback, none waits.
            if (slots->try_acquire()) {
                it.holds_slot = true;
            } else if (in_flight > 0) {
                items[i].reset();
                return false;
            } else if (!nested) {
                const auto got = slots->acquire(cancelled, deadline);
                if (got == RequestSlots::Wait::cancelled) return it.fail(JN_ERR_CANCELLED, "cancelled"), true;
                if (got == RequestSlots::Wait::timed_out)
                    return it.fail(JN_ERR_TIMEOUT, "the call passed its deadline while it waited for a slot"), true;
                it.holds_slot = true;
            }
        } else if (in_flight > 0) {
            items[i].reset();  // without slots, one at a time
            return false;
        }
        previous_start = Clock::now();  // it goes now, whatever it waited for
        previous_after_ms = after_ms;
        handles[i] = acquire();
        CURL* c = handles[i]->curl;
        curl_easy_reset(c);
        it.transfer.cancelled = cancelled;
        jn_http_request bounded = *request;  // within what is left of the caller's deadline
        const auto left_ms = std::chrono::duration_cast<std::chrono::milliseconds>(left).count();
        const uint32_t asked = request->timeout_ms ? request->timeout_ms : options_.default_timeout_ms;
        bounded.timeout_ms = static_cast<uint32_t>(std::clamp<int64_t>(left_ms, 1, asked));
        net::configure(c, bounded, options_, it.transfer);
        curl_easy_setopt(c, CURLOPT_PRIVATE, reinterpret_cast<char*>(i));
        if (curl_multi_add_handle(m, c) != CURLM_OK) {
            finish(i);
            return it.fail(JN_ERR_TRANSIENT, "the host could not start the request"), true;
        }
        it.in_flight = true;
        ++in_flight;
        return true;
    };

    for (;;) {
        not_before = kNotWaiting;  // set again by a start that must wait for its time
        while (next < count && next < delivered + kMaxAhead && (waiting_bytes < kMaxWaitingBytes || next == delivered) &&
               start(next))
            ++next;
        deliver_ready();
        // Until the next request is due, or for long enough to see a cancel.
        const auto wait_ms = [&] {
            if (not_before == kNotWaiting) return 100;
            const auto ms = std::chrono::ceil<std::chrono::milliseconds>(not_before - Clock::now()).count();
            return static_cast<int>(std::clamp<int64_t>(ms, 0, 100));
        };
        if (in_flight == 0) {
            if (next >= count) break;
            if (not_before != kNotWaiting) curl_multi_poll(m, nullptr, 0, wait_ms(), nullptr);  // nothing in flight: a plain sleep
            continue;
        }
        int running = 0;
        curl_multi_perform(m, &running);
        int left = 0;
        while (CURLMsg* msg = curl_multi_info_read(m, &left)) {
            if (msg->msg != CURLMSG_DONE) continue;
            char* tag = nullptr;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &tag);
            const size_t i = reinterpret_cast<size_t>(tag);
            Item& it = *items[i];
            it.status = net::conclude(msg->easy_handle, msg->data.result, it.transfer, options_, it.code, it.error);
            finish(i);
            waiting_bytes += it.transfer.body.size();
        }
        deliver_ready();
        // Woken by any socket of the batch; at least every 100 ms, for the cancel flag.
        if (in_flight > 0) curl_multi_poll(m, nullptr, 0, wait_ms(), nullptr);
    }
}

}  // namespace junction::core
