#include "runner.hpp"

#include "worker_pool.hpp"

#include <junction/core/common/error.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include <sys/socket.h>
#include <unistd.h>

namespace junction::connector_host {

namespace wire = core::wire;

namespace {

// Pages a call may have sent that junctiond has not taken yet: emit waits beyond this, so
// a connector producing faster than the flow consumes holds memory here, bounded.
constexpr unsigned kEmitWindow = 4;

// Pages up to this size are held to go out with the call's next message (decision 0015).
constexpr size_t kHeldPageBytes = 8 * 1024;

// The longest log line or error text sent on: a connector's text, not its data.
constexpr size_t kMaxText = 64 * 1024;

// HTTP requests of a batch go to junctiond in writes of up to this many bytes (less where
// the lane's socket buffer is smaller); junctiond answers each write's requests together.
constexpr size_t kBatchWriteBytes = 64 * 1024;

// Cancels that came before their call started, kept until it does (a few at most).
constexpr size_t kMaxEarlyCancels = 64;

struct Call;

// A call's socket from junctiond and the thread that serves it (wire.hpp): calls arrive one
// at a time and run on that thread, and what they ask of junctiond (pages, HTTP) goes back
// on it. Whichever thread waits for an answer reads the socket; the others wait their turn.
struct Lane {
    Lane(int fd, size_t max_frame_bytes) : channel(fd, max_frame_bytes), batch_write_bytes(batch_write_limit(fd)) {
        channel.set_spin(wire::Channel::kLaneSpin);
    }
    wire::Channel channel;
    // The most a batch of HTTP requests writes at once: less than the socket holds, so the
    // write never waits on junctiond while junctiond, answering, waits on this process.
    const size_t batch_write_bytes;
    std::mutex mutex;
    std::condition_variable changed;
    bool reading = false;  // a thread is inside channel.receive()
    bool ended = false;    // junctiond closed it
    std::optional<wire::Frame> next_call;
    Call* current = nullptr;  // the call running on it
    std::unordered_map<uint64_t, std::optional<wire::Frame>> answers;  // HTTP requests waiting
    uint64_t next_request = 1;

    // Half the socket's send buffer, less a held page, within [4 KiB, 64 KiB].
    static size_t batch_write_limit(int fd) {
        int buffer = 0;
        socklen_t size = sizeof buffer;
        if (::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, &size) != 0 || buffer <= 0) return 4096;
        const size_t half = static_cast<size_t>(buffer) / 2;
        return std::clamp<size_t>(half > kHeldPageBytes ? half - kHeldPageBytes : 0, 4096, kBatchWriteBytes);
    }
};

// What a jn_call handed to the plugin points to in this process.
struct Call {
    uint64_t id = 0;  // first member: the misbehaving test fixture reads it to forge frames
    Lane* lane = nullptr;
    std::atomic<bool> cancelled{false};  // junctiond sent cancel
    unsigned unacked = 0;  // pages sent and not acknowledged; under lane->mutex, like stop
    bool stop = false;     // junctiond refused a page: the plugin should stop producing
    // The last page emitted, not sent yet: it goes with whatever the call sends next (the
    // next page, an HTTP request, the error or the done), so that a call's last page and its
    // done reach junctiond in one message. Under lane->mutex.
    std::string held;
};

// What a jn_host_instance handed to the plugin points to in this process.
struct Instance {
    uint64_t handle = 0;  // junctiond's name for it
    jn_instance* plugin = nullptr;
};

// One answer junctiond owes (to an HTTP or state request).
struct Waiter {
    std::mutex mutex;
    std::condition_variable ready;
    std::optional<wire::Frame> frame;
};

class Runner {
public:
    Runner(int fd, std::filesystem::path library, size_t max_message_bytes)
        // What junctiond sends is trusted (the process's parent); a response body may be
        // as large as its HTTP cap. Lanes arrive as descriptors on this socket.
        : channel_(fd, size_t{2} << 30, 0, true), library_path_(std::move(library)),
          max_payload_(max_message_bytes > 4096 ? max_message_bytes - 4096 : max_message_bytes) {}

    int run();

    // The host services, reached through the one Runner of this process.
    static Runner* self;
    static const jn_host_api table;

private:
    void dispatch(wire::Frame& frame);
    void open_lane(uint64_t number);
    void serve_lane(Lane* lane);
    void run_call(const wire::Frame& frame, Lane& lane);
    jn_status open(Call& call, const wire::Open& m);
    jn_status create(Call& call, const wire::Create& m);
    Instance* find(uint64_t handle);
    void destroy(uint64_t handle);
    void send_done(Call& call, jn_status status);
    // Sends `frame` on the call's lane after the page it holds, in one write.
    static bool send_after_held(Call& call, std::string frame);
    // Waits until `done` holds or the lane ends, reading the lane while no one else does.
    static void wait_on(Lane& lane, std::unique_lock<std::mutex>& lock, const std::function<bool()>& done);
    static void route(Lane& lane, wire::Frame&& frame);
    // Sends a request and waits for junctiond's answer to it.
    wire::Frame ask(wire::Type type, const std::function<std::string(uint64_t id)>& encode);

    // Host services.
    static void log(jn_host_instance* instance, uint32_t level, jn_str message);
    static jn_status http_request(jn_call* call, const jn_http_request* request, jn_http_response_fn on_response,
                                  void* user);
    static jn_status http_request_batch(jn_call* call, const jn_http_request* const* requests, size_t count,
                                        jn_http_result_fn on_result, void* user);
    static jn_status state_get(jn_host_instance* instance, jn_str key, jn_value_fn sink, void* user);
    static jn_status state_set(jn_host_instance* instance, jn_str key, jn_str value);
    static jn_status state_delete(jn_host_instance* instance, jn_str key);
    static jn_status credential_get(jn_host_instance* instance, jn_str name, jn_value_fn sink, void* user);
    static jn_status credential_swap(jn_host_instance* instance, jn_str name, jn_str expected, jn_str value);
    static int64_t clock_now_ms();
    static uint32_t is_cancelled(jn_call* call);
    static jn_status emit(jn_call* call, jn_str json);
    static void set_error(jn_call* call, jn_str message);
    static void call_log(jn_call* call, uint32_t level, jn_str message);

    wire::Channel channel_;
    std::filesystem::path library_path_;
    size_t max_payload_;  // the most a page or request body may be, with room for its frame
    std::shared_ptr<core::PluginLibrary> library_;
    jn_definition* definition_ = nullptr;
    WorkerPool pool_;

    std::mutex mutex_;
    std::unordered_map<uint64_t, Call*> calls_;
    std::unordered_map<uint64_t, Instance*> instances_;
    std::unordered_map<uint64_t, std::shared_ptr<Waiter>> waiters_;
    std::deque<uint64_t> early_cancels_;
    uint64_t next_request_ = 1;
};

Runner* Runner::self = nullptr;

std::string_view sv(jn_str s) { return {s.ptr ? s.ptr : "", s.len}; }
jn_str js(std::string_view s) { return {s.data(), s.size()}; }
Call* as_call(jn_call* c) { return reinterpret_cast<Call*>(c); }
jn_call* as_abi(Call* c) { return reinterpret_cast<jn_call*>(c); }
Instance* as_instance(jn_host_instance* h) { return reinterpret_cast<Instance*>(h); }

const jn_host_api Runner::table = {
    sizeof(jn_host_api),    &Runner::log,          &Runner::http_request, &Runner::state_get,
    &Runner::state_set,     &Runner::state_delete, &Runner::clock_now_ms, &Runner::is_cancelled,
    &Runner::emit,          &Runner::set_error,    &Runner::http_request_batch, &Runner::credential_get,
    &Runner::credential_swap, &Runner::call_log,
};

int Runner::run() {
    self = this;
    wire::Frame frame;
    try {
        while (channel_.receive(frame)) dispatch(frame);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "junction-connector-host: stopping: %s\n", e.what());
        return 3;  // junctiond sent something broken: nothing sensible is left to do
    }
    // junctiond closed the socket: it holds no instance and no call of this process any
    // more. Leave without running the plugin's destructors (a hung one would keep us).
    return 0;
}

void Runner::dispatch(wire::Frame& frame) {
    using wire::Type;
    switch (frame.type) {
        case Type::lane:
            open_lane(frame.id);
            return;
        case Type::destroy: {
            const uint64_t handle = wire::decode_instance_call(frame.payload).instance;
            if (!pool_.post([this, handle] { destroy(handle); })) destroy(handle);  // here, then
            return;
        }
        case Type::cancel: {
            std::lock_guard lock(mutex_);
            auto it = calls_.find(frame.id);
            if (it == calls_.end()) {  // not started yet, or over: remembered a while
                early_cancels_.push_back(frame.id);
                if (early_cancels_.size() > kMaxEarlyCancels) early_cancels_.pop_front();
                return;
            }
            Call& call = *it->second;
            std::lock_guard l(call.lane->mutex);  // so a waiting emit cannot miss the change
            call.cancelled.store(true);
            call.lane->changed.notify_all();
            return;
        }
        case Type::state_reply: {
            std::shared_ptr<Waiter> waiter;
            {
                std::lock_guard lock(mutex_);
                auto it = waiters_.find(frame.id);
                if (it == waiters_.end()) return;
                waiter = it->second;
                waiters_.erase(it);
            }
            {
                std::lock_guard w(waiter->mutex);
                waiter->frame = std::move(frame);
            }
            waiter->ready.notify_one();
            frame = wire::Frame{};
            return;
        }
        default:
            throw wire::WireError("junctiond sent a message of type " +
                                  std::to_string(static_cast<unsigned>(frame.type)) + " on the control socket");
    }
}

void Runner::open_lane(uint64_t number) {
    const int fd = channel_.take_descriptor();
    if (fd < 0) {  // over the open-files limit: the kernel dropped it, and junctiond sees the lane end
        std::fprintf(stderr, "junction-connector-host: lane %llu came without its socket (open-files limit)\n",
                     static_cast<unsigned long long>(number));
        return;
    }
    auto* lane = new Lane(fd, size_t{2} << 30);
    if (pool_.post([this, lane] { serve_lane(lane); })) return;
    // No thread for it (the memory limit counts their stacks): its first call fails, the
    // process and its other calls go on. junctiond sends the call right after the lane.
    wire::Frame call;
    if (lane->channel.receive(call)) {
        lane->channel.send_text(wire::Type::set_error, call.id,
                                "the connector process cannot start a thread for this call: it is at its "
                                "memory limit (connector-memory-limit-mb) or its thread limit");
        lane->channel.send(wire::encode(wire::Type::done, call.id, wire::StatusOnly{JN_ERR_TRANSIENT}));
    }
    delete lane;
}

void Runner::serve_lane(Lane* lane) {
    for (;;) {
        wire::Frame call;
        {
            std::unique_lock lock(lane->mutex);
            wait_on(*lane, lock, [&] { return lane->next_call.has_value(); });
            if (!lane->next_call) break;  // junctiond closed the lane
            call = std::move(*lane->next_call);
            lane->next_call.reset();
        }
        run_call(call, *lane);
    }
    delete lane;
}

void Runner::run_call(const wire::Frame& frame, Lane& lane) {
    Call call;
    call.id = frame.id;
    call.lane = &lane;
    {
        std::lock_guard lock(mutex_);
        calls_[call.id] = &call;
        for (auto it = early_cancels_.begin(); it != early_cancels_.end(); ++it)
            if (*it == call.id) {
                call.cancelled.store(true);
                early_cancels_.erase(it);
                break;
            }
    }
    {
        std::lock_guard lock(lane.mutex);
        lane.current = &call;
    }
    jn_status status = JN_ERR_INTERNAL;
    try {
        const jn_connector_api* api = library_ ? &library_->connector() : nullptr;
        switch (frame.type) {
            case wire::Type::open:
                status = open(call, wire::decode_open(frame.payload));
                break;
            case wire::Type::create:
                status = create(call, wire::decode_create(frame.payload));
                break;
            case wire::Type::test_connection:
            case wire::Type::invoke: {
                const bool test = frame.type == wire::Type::test_connection;
                const wire::Invoke m = test ? wire::Invoke{wire::decode_instance_call(frame.payload).instance, {}, {}}
                                            : wire::decode_invoke(frame.payload);
                Instance* instance = find(m.instance);
                if (!api || !instance) {
                    set_error(as_abi(&call), js("no such instance in this connector process"));
                    status = JN_ERR_INVALID_REQUEST;
                } else if (test) {
                    status = api->test_connection(instance->plugin, as_abi(&call));
                } else {
                    status = api->invoke(instance->plugin, js(m.operation), js(m.request_json), as_abi(&call));
                }
                break;
            }
            case wire::Type::migrate: {
                const wire::Migrate m = wire::decode_migrate(frame.payload);
                status = api && api->migrate_config
                             ? api->migrate_config(js(m.from_version), js(m.config_json), as_abi(&call))
                             : JN_ERR_UNSUPPORTED;
                break;
            }
            default:
                break;
        }
    } catch (const std::exception& e) {  // ours, never the plugin's (nothing throws across the ABI)
        set_error(as_abi(&call), js(std::string("the connector process failed: ") + e.what()));
        status = JN_ERR_INTERNAL;
    }
    send_done(call, status);
    {
        std::lock_guard lock(lane.mutex);
        lane.current = nullptr;
    }
    std::lock_guard lock(mutex_);
    calls_.erase(call.id);
}

jn_status Runner::open(Call& call, const wire::Open& m) {
    try {
        library_ = core::PluginLibrary::load(library_path_, &table);
    } catch (const core::Error& e) {
        // No `opened`: junctiond reads the error as "the library does not load".
        set_error(as_abi(&call), js(e.message()));
        return JN_ERR_INVALID_CONFIG;
    }
    const jn_connector_api& api = library_->connector();
    wire::Opened opened{library_->plugin_abi().major, library_->plugin_abi().minor, api.migrate_config ? 1u : 0u};
    call.lane->channel.send(wire::encode(call.id, opened));
    if (!m.has_definition) return api.describe(as_abi(&call));
    if (!api.definition_open) {
        set_error(as_abi(&call),
                  js("the library is not an engine (ABI 1.2 definition_open): it cannot run connector definitions"));
        return JN_ERR_UNSUPPORTED;
    }
    const jn_status s = api.definition_open(js(m.definition), as_abi(&call), &definition_);
    if (s == JN_OK && !definition_) {
        set_error(as_abi(&call), js("the engine accepted the definition but returned none"));
        return JN_ERR_INTERNAL;
    }
    return s;
}

jn_status Runner::create(Call& call, const wire::Create& m) {
    if (!library_) {
        set_error(as_abi(&call), js("the library is not loaded"));
        return JN_ERR_INTERNAL;
    }
    auto instance = std::make_unique<Instance>();
    instance->handle = m.instance;
    jn_instance_params params{};
    params.struct_size = sizeof params;
    params.instance_id = js(m.instance_id);
    params.config_json = js(m.config_json);
    params.host = reinterpret_cast<jn_host_instance*>(instance.get());
    params.definition = definition_;
    jn_instance* created = nullptr;
    const jn_status s = library_->connector().instance_create(&params, as_abi(&call), &created);
    if (s != JN_OK) return s;
    if (!created) {
        set_error(as_abi(&call), js("instance_create returned JN_OK but no instance"));
        return JN_ERR_INTERNAL;
    }
    instance->plugin = created;
    std::lock_guard lock(mutex_);
    instances_[m.instance] = instance.release();
    return JN_OK;
}

Instance* Runner::find(uint64_t handle) {
    std::lock_guard lock(mutex_);
    auto it = instances_.find(handle);
    return it == instances_.end() ? nullptr : it->second;
}

void Runner::destroy(uint64_t handle) {
    Instance* instance = nullptr;
    {
        std::lock_guard lock(mutex_);
        auto it = instances_.find(handle);
        if (it == instances_.end()) return;
        instance = it->second;
        instances_.erase(it);
    }
    library_->connector().instance_destroy(instance->plugin);
    delete instance;
}

void Runner::send_done(Call& call, jn_status status) {
    send_after_held(call, wire::encode(wire::Type::done, call.id, wire::StatusOnly{status}));
}

bool Runner::send_after_held(Call& call, std::string frame) {
    std::string both;
    {
        std::lock_guard lock(call.lane->mutex);
        if (!call.held.empty()) ++call.unacked;
        both.swap(call.held);
    }
    if (both.empty()) return frame.empty() || call.lane->channel.send(frame);
    both += frame;
    return call.lane->channel.send(both);
}

void Runner::wait_on(Lane& lane, std::unique_lock<std::mutex>& lock, const std::function<bool()>& done) {
    while (!done() && !lane.ended) {
        if (lane.reading) {
            lane.changed.wait(lock);
            continue;
        }
        lane.reading = true;
        lock.unlock();
        wire::Frame frame;
        bool got = false;
        try {
            got = lane.channel.receive(frame);
        } catch (const wire::WireError&) {  // junctiond's frames are within the cap: not reached
        }
        lock.lock();
        lane.reading = false;
        if (got) route(lane, std::move(frame));
        else lane.ended = true;
        lane.changed.notify_all();
    }
}

void Runner::route(Lane& lane, wire::Frame&& frame) {
    using wire::Type;
    switch (frame.type) {
        case Type::open:
        case Type::create:
        case Type::test_connection:
        case Type::invoke:
        case Type::migrate:
            lane.next_call = std::move(frame);
            return;
        case Type::emit_ack:
            if (lane.current && lane.current->id == frame.id) {
                if (lane.current->unacked > 0) --lane.current->unacked;
                if (wire::decode_status(frame.payload).status != JN_OK) lane.current->stop = true;
            }
            return;  // an ack of a call that has ended is dropped
        case Type::http_response: {
            auto it = lane.answers.find(frame.id);
            if (it != lane.answers.end()) it->second = std::move(frame);
            return;
        }
        default:
            return;
    }
}

wire::Frame Runner::ask(wire::Type, const std::function<std::string(uint64_t id)>& encode) {
    auto waiter = std::make_shared<Waiter>();
    uint64_t id = 0;
    {
        std::lock_guard lock(mutex_);
        id = next_request_++;
        waiters_[id] = waiter;
    }
    if (!channel_.send(encode(id))) ::_exit(0);  // junctiond is gone: so is the reason to run
    std::unique_lock lock(waiter->mutex);
    waiter->ready.wait(lock, [&] { return waiter->frame.has_value(); });
    return std::move(*waiter->frame);
}

void Runner::log(jn_host_instance* instance, uint32_t level, jn_str message) {
    wire::Log line{instance ? as_instance(instance)->handle : 0, level,
                   std::string(sv(message).substr(0, kMaxText))};
    self->channel_.send(wire::encode(0, line));
}

namespace {

// Encodes `request` as the wire frame `id` at the end of `out`; any status but JN_OK
// refuses it here (junctiond would end a process that sent more than a frame may hold).
// `batch`: which of the call's batches it belongs to; junctiond counts the turns
// (start_after_ms, ABI 1.5) of each batch's pieces on their own.
jn_status encode_http(uint64_t call_id, const jn_http_request* request, uint64_t id, size_t max_payload,
                      uint64_t batch, std::string& out) {
    if (!request) return JN_ERR_INVALID_REQUEST;
    jn_http_request r{};  // zero-fills what an older plugin did not know
    std::memcpy(&r, request, std::min<size_t>(request->struct_size, sizeof r));
    if (r.header_count > wire::kMaxHeaders) return JN_ERR_INVALID_REQUEST;
    wire::HttpRequest m;
    m.call = call_id;
    m.timeout_ms = r.timeout_ms;
    m.start_after_ms = r.start_after_ms;
    m.batch = batch;
    m.method = sv(r.method);
    m.url = sv(r.url);
    for (size_t i = 0; i < r.header_count; ++i)
        m.headers.emplace_back(std::string(sv(r.headers[i].name)), std::string(sv(r.headers[i].value)));
    m.body = sv(r.body);
    size_t size = m.body.size() + m.url.size() + m.method.size();
    for (const auto& [name, value] : m.headers) size += name.size() + value.size() + 8;
    if (size > max_payload) return JN_ERR_TOO_LARGE;
    out += wire::encode(id, m);
    return JN_OK;
}

// Hands junctiond's answer to request `index` to the plugin.
void deliver(const wire::Frame& answer, size_t index, jn_http_result_fn on_result, void* user) {
    const wire::HttpResponse response = wire::decode_http_response(answer.payload);
    if (response.status != JN_OK) return on_result(user, index, response.status, nullptr);
    std::vector<jn_http_header> headers;
    headers.reserve(response.headers.size());
    for (const auto& [name, value] : response.headers) headers.push_back({js(name), js(value)});
    jn_http_response out{};
    out.struct_size = sizeof out;
    out.status_code = response.status_code;
    out.headers = headers.data();
    out.header_count = headers.size();
    out.body = js(response.body);
    on_result(user, index, JN_OK, &out);
}

}  // namespace

jn_status Runner::http_request(jn_call* c, const jn_http_request* request, jn_http_response_fn on_response,
                               void* user) {
    if (!c || !request || !on_response) return JN_ERR_INVALID_REQUEST;
    struct Single {
        jn_http_response_fn on_response;
        void* user;
        jn_status status = JN_ERR_CANCELLED;
    } single{on_response, user};
    http_request_batch(c, &request, 1, [](void* s, size_t, jn_status status, const jn_http_response* response) {
        auto& to = *static_cast<Single*>(s);
        to.status = status;
        if (status == JN_OK) to.on_response(to.user, response);
    }, &single);
    return single.status;
}

jn_status Runner::http_request_batch(jn_call* c, const jn_http_request* const* requests, size_t count,
                                     jn_http_result_fn on_result, void* user) {
    if (!c || (!requests && count > 0) || !on_result) return JN_ERR_INVALID_REQUEST;
    if (count > JN_HTTP_BATCH_MAX) return JN_ERR_TOO_LARGE;
    Call& call = *as_call(c);
    // On the call's lane, where the calling thread in junctiond serves them.
    Lane& lane = *call.lane;
    const auto new_id = [&] {
        std::lock_guard lock(lane.mutex);
        return lane.next_request++;
    };
    std::optional<uint64_t> carried_id;  // the request that did not fit the last write: it opens the next
    const uint64_t batch = new_id();      // an id of the lane's, never a request's: this batch's name
    for (size_t next = 0; next < count;) {
        // As many requests as fit one write the socket takes whole (one that is larger goes
        // alone): this thread then reads the answers, so the lane cannot fill up both ways.
        const size_t first = next;
        std::vector<jn_status> refused;  // per request of this write: JN_OK when sent
        std::vector<uint64_t> ids;
        std::string frames;
        while (next < count) {
            std::string frame;
            uint64_t id = 0;
            jn_status s = JN_OK;
            id = carried_id ? *std::exchange(carried_id, std::nullopt) : new_id();
            s = call.cancelled.load() ? JN_ERR_CANCELLED
                                      : encode_http(call.id, requests[next], id, self->max_payload_, batch, frame);
            if (s == JN_OK && !frames.empty() && frames.size() + frame.size() > lane.batch_write_bytes) {
                carried_id = id;
                break;
            }
            refused.push_back(s);
            ids.push_back(id);
            frames += frame;
            ++next;
        }
        std::unique_lock lock(lane.mutex);
        for (size_t i = 0; i < ids.size(); ++i)
            if (refused[i] == JN_OK) lane.answers[ids[i]];
        lock.unlock();
        // The page it holds goes first: a connector that emits, then fetches the next page,
        // streams without waiting on the fetch.
        const bool sent = frames.empty() || send_after_held(call, std::move(frames));
        // Each answer is handed on as it comes (they come in order), so a batch holds one
        // response at a time here, whatever their sizes.
        for (size_t i = 0; i < ids.size(); ++i) {
            if (refused[i] != JN_OK) {
                on_result(user, first + i, refused[i], nullptr);
                continue;
            }
            lock.lock();
            auto& slot = lane.answers[ids[i]];
            if (sent) wait_on(lane, lock, [&] { return slot.has_value(); });
            std::optional<wire::Frame> answer = std::move(slot);
            lane.answers.erase(ids[i]);
            lock.unlock();
            // A lane junctiond closed ends this call (JN_ERR_CANCELLED), not the process.
            if (answer) deliver(*answer, first + i, on_result, user);
            else on_result(user, first + i, JN_ERR_CANCELLED, nullptr);
        }
    }
    return JN_OK;
}

jn_status Runner::state_get(jn_host_instance* instance, jn_str key, jn_value_fn sink, void* user) {
    if (!instance || !sink) return JN_ERR_INVALID_REQUEST;
    const wire::StateRequest m{as_instance(instance)->handle, std::string(sv(key)), {}};
    const wire::Frame answer =
        self->ask(wire::Type::state_get, [&](uint64_t id) { return wire::encode(wire::Type::state_get, id, m); });
    const wire::StateReply reply = wire::decode_state_reply(answer.payload);
    if (reply.status == JN_OK) sink(user, js(reply.value));
    return reply.status;
}

jn_status Runner::state_set(jn_host_instance* instance, jn_str key, jn_str value) {
    if (!instance) return JN_ERR_INVALID_REQUEST;
    const wire::StateRequest m{as_instance(instance)->handle, std::string(sv(key)), std::string(sv(value))};
    const wire::Frame answer =
        self->ask(wire::Type::state_set, [&](uint64_t id) { return wire::encode(wire::Type::state_set, id, m); });
    return wire::decode_state_reply(answer.payload).status;
}

jn_status Runner::state_delete(jn_host_instance* instance, jn_str key) {
    if (!instance) return JN_ERR_INVALID_REQUEST;
    const wire::StateRequest m{as_instance(instance)->handle, std::string(sv(key)), {}};
    const wire::Frame answer = self->ask(
        wire::Type::state_delete, [&](uint64_t id) { return wire::encode(wire::Type::state_delete, id, m); });
    return wire::decode_state_reply(answer.payload).status;
}

// Credentials stay in junctiond, sealed in its store: each one is asked for when needed.
jn_status Runner::credential_get(jn_host_instance* instance, jn_str name, jn_value_fn sink, void* user) {
    if (!instance || !sink) return JN_ERR_INVALID_REQUEST;
    const wire::StateRequest m{as_instance(instance)->handle, std::string(sv(name)), {}};
    wire::Frame answer = self->ask(wire::Type::credential_get, [&](uint64_t id) {
        return wire::encode(wire::Type::credential_get, id, m);
    });
    wire::StateReply reply = wire::decode_state_reply(answer.payload);
    if (reply.status == JN_OK) sink(user, js(reply.value));
    ::explicit_bzero(reply.value.data(), reply.value.size());
    ::explicit_bzero(answer.payload.data(), answer.payload.size());
    return reply.status;
}

jn_status Runner::credential_swap(jn_host_instance* instance, jn_str name, jn_str expected, jn_str value) {
    if (!instance) return JN_ERR_INVALID_REQUEST;
    if (expected.len + value.len + name.len + 64 > self->max_payload_) return JN_ERR_TOO_LARGE;
    wire::CredentialSwap m{as_instance(instance)->handle, std::string(sv(name)), std::string(sv(expected)),
                           std::string(sv(value))};
    std::string sent;
    const wire::Frame answer = self->ask(wire::Type::credential_swap, [&](uint64_t id) {
        sent = wire::encode(id, m);
        return sent;
    });
    // This process's copies of the two credentials go; the plugin's own are its to keep.
    for (std::string* text : {&m.expected, &m.value, &sent}) ::explicit_bzero(text->data(), text->size());
    return wire::decode_state_reply(answer.payload).status;
}

int64_t Runner::clock_now_ms() {
    // The same kernel clock junctiond reads: no message needed.
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

uint32_t Runner::is_cancelled(jn_call* c) {
    if (!c) return 0;
    Call& call = *as_call(c);
    if (call.cancelled.load(std::memory_order_relaxed)) return 1;
    std::lock_guard lock(call.lane->mutex);
    return call.stop ? 1 : 0;
}

jn_status Runner::emit(jn_call* c, jn_str json) {
    if (!c) return JN_ERR_INVALID_REQUEST;
    Call& call = *as_call(c);
    if (json.len > self->max_payload_) {
        set_error(c, js("the connector emitted " + std::to_string(json.len) + " bytes at once, more than junctiond "
                        "takes (max-page-bytes)"));
        return JN_ERR_TOO_LARGE;
    }
    Lane& lane = *call.lane;
    {
        std::unique_lock lock(lane.mutex);
        wait_on(lane, lock, [&] { return call.unacked < kEmitWindow || call.stop || call.cancelled.load(); });
        if (call.stop || call.cancelled.load() || lane.ended) return JN_ERR_CANCELLED;
    }
    // A small page is copied and held, to go with the call's next message (its done, most
    // often); a large one goes at once, uncopied: its copy would cost more than a message.
    if (json.len <= kHeldPageBytes) {
        std::string page = wire::encode(wire::Type::emit, call.id, sv(json));
        {
            std::lock_guard lock(lane.mutex);
            page.swap(call.held);  // `page` is now the one held before, if any
            if (page.empty()) return JN_OK;
            ++call.unacked;
        }
        return lane.channel.send(page) ? JN_OK : JN_ERR_CANCELLED;  // junctiond closed the lane
    }
    if (!send_after_held(call, {})) return JN_ERR_CANCELLED;
    {
        std::lock_guard lock(lane.mutex);
        ++call.unacked;
    }
    return lane.channel.send_text(wire::Type::emit, call.id, sv(json)) ? JN_OK : JN_ERR_CANCELLED;
}

void Runner::set_error(jn_call* c, jn_str message) {
    if (!c) return;
    send_after_held(*as_call(c), wire::encode(wire::Type::set_error, as_call(c)->id, sv(message).substr(0, kMaxText)));
}

void Runner::call_log(jn_call* c, uint32_t level, jn_str message) {
    if (!c) return;
    const wire::Log line{0, level, std::string(sv(message).substr(0, kMaxText))};
    send_after_held(*as_call(c), wire::encode(as_call(c)->id, line, wire::Type::call_log));
}

}  // namespace

int serve(int fd, const std::filesystem::path& library, size_t max_message_bytes) {
    // Never destroyed: its worker threads may still be inside the connector when the
    // socket ends, and the process leaves with _Exit.
    auto* runner = new Runner(fd, library, max_message_bytes);
    return runner->run();
}

}  // namespace junction::connector_host
