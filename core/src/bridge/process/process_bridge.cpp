// The process bridge (docs/decisions/0015): each call is a message on a lane of its own to
// the connector process; the caller's thread then serves what the process sends back on it
// (pages, the error, HTTP requests: executed here, by junctiond's HTTP client) until the
// call is done, the process ends, or a deadline passes (cancel first, kill after the grace
// period). No thread stands between the caller and the process's thread running the call.
#include <junction/core/bridge/process/connector_process.hpp>

#include "process_link.hpp"

#include <junction/core/common/error.hpp>
#include <junction/core/common/log.hpp>
#include <junction/core/net/http_client.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <utility>

namespace junction::core {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The longest error text a connector process's call may set.
constexpr size_t kMaxErrorText = 64 * 1024;

// One kind of call and its limit, for the messages that name them.
struct CallKind {
    const char* setting;  // "connector-deadline-invoke"
    milliseconds deadline;
};

std::string seconds_text(milliseconds d) {
    const auto ms = d.count();
    return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

// Answers to HTTP requests held while more requests wait on the lane (a batch, ABI 1.3),
// to go back in one write, up to this many bytes.
constexpr size_t kHeldAnswerBytes = 1024 * 1024;

// Of each HTTP batch of the call being served, the start_after_ms of its last request that
// got an answer (so it started, before the next piece was read): the batch's next piece
// counts its turns from it. The last 16 batches of the call; the oldest is forgotten first.
class CountedTurns {
public:
    uint32_t of(uint64_t batch) const {
        for (const auto& [b, ms] : batches_)
            if (b == batch) return ms;
        return 0;
    }
    void set(uint64_t batch, uint32_t ms) {
        for (auto& [b, counted] : batches_)
            if (b == batch) {
                counted = std::max(counted, ms);
                return;
            }
        if (batches_.size() == 16) batches_.pop_front();
        batches_.emplace_back(batch, ms);
    }

private:
    std::deque<std::pair<uint64_t, uint32_t>> batches_;
};

// The HTTP requests the process asked for and junctiond has read (a batch arrives in one
// write): run by junctiond's client for the call's instance, at once as the call's request
// slots allow, with the call's cancel flag, within what is left of its deadline (on the
// jn_call). Each answer's frame goes to `answer` as soon as those before it went.
void serve_http(uint64_t call_id, const std::vector<wire::Frame>& frames, jn_call& call,
                const std::function<void(std::string frame)>& answer, CountedTurns& counted) {
    std::vector<wire::HttpRequest> asked;
    asked.reserve(frames.size());
    for (const auto& frame : frames) {
        asked.push_back(wire::decode_http_request(frame.payload));
        if (asked.back().call != call_id)
            throw wire::WireError("an HTTP request for call " + std::to_string(asked.back().call) +
                                  " on the lane of call " + std::to_string(call_id));
    }
    std::vector<std::vector<jn_http_header>> headers(asked.size());
    std::vector<jn_http_request> requests(asked.size());
    std::vector<const jn_http_request*> pointers(asked.size());
    for (size_t i = 0; i < asked.size(); ++i) {
        const wire::HttpRequest& request = asked[i];
        headers[i].reserve(request.headers.size());
        for (const auto& [name, value] : request.headers)
            headers[i].push_back({{name.data(), name.size()}, {value.data(), value.size()}});
        jn_http_request& r = requests[i];
        r.struct_size = sizeof r;
        r.timeout_ms = request.timeout_ms;
        const uint32_t before = counted.of(request.batch);
        r.start_after_ms = request.start_after_ms > before ? request.start_after_ms - before : 0;
        r.method = {request.method.data(), request.method.size()};
        r.url = {request.url.data(), request.url.size()};
        r.headers = headers[i].data();
        r.header_count = headers[i].size();
        r.body = {request.body.data(), request.body.size()};
        pointers[i] = &r;
    }
    struct Answers {
        const std::vector<wire::Frame>& frames;
        const std::vector<wire::HttpRequest>& asked;
        jn_call& call;
        const std::function<void(std::string)>& answer;
        CountedTurns& counted;
    } answers{frames, asked, call, answer, counted};
    host_api_table()->http_request_batch(
        &call, pointers.data(), pointers.size(),
        [](void* user, size_t index, jn_status status, const jn_http_response* got) {
            auto& to = *static_cast<Answers*>(user);
            wire::HttpResponse response;
            response.status = status;
            if (got) {
                response.status_code = got->status_code;
                for (size_t i = 0; i < got->header_count && i < wire::kMaxHeaders; ++i)
                    response.headers.emplace_back(std::string(got->headers[i].name.ptr, got->headers[i].name.len),
                                                  std::string(got->headers[i].value.ptr, got->headers[i].value.len));
                response.body.assign(got->body.ptr ? got->body.ptr : "", got->body.len);
            }
            if (status != JN_OK) response.error = to.call.error;
            // Answered, so it started (a request that failed may never have: a start past
            // the deadline is not a turn taken).
            if (got) to.counted.set(to.asked[index].batch, to.asked[index].start_after_ms);
            to.answer(wire::encode(to.frames[index].id, response));
        },
        &answers);
}

// A call in progress: its id, and the lane it has for as long as it runs.
class CallScope {
public:
    explicit CallScope(ProcessLink& link) : link_(link), id_(link.next_call_id()), lane_(link.take_lane()) {}
    ~CallScope() {
        if (lane_) link_.give_back(std::move(lane_), clean_);
    }
    CallScope(const CallScope&) = delete;
    ProcessLink& link() { return link_; }
    uint64_t id() const { return id_; }
    Lane* lane() { return lane_.get(); }
    // The call's done arrived: nothing of it is left on the lane, which the next call may use.
    void finished() { clean_ = true; }

private:
    ProcessLink& link_;
    uint64_t id_;
    std::unique_ptr<Lane> lane_;
    bool clean_ = false;
};

// Why a call ended without its done: the process's end (waited for, since the lane can end
// a moment before junctiond has reaped the process, and the next call must find it ended),
// or the process refused the lane.
std::string lost_lane_reason(ProcessLink& link, const char* when) {
    if (link.wait_ended(link.options().deadlines.grace + milliseconds(1000)))
        return std::string("the connector process ") + when + ": " + link.end_reason() +
               "; junctiond restarts it for the next call";
    return "the connector process could not take another call at once (its thread or memory limit, "
           "connector-memory-limit-mb)";
}

// Sends the call's message and serves the call until it is done. Returns the plugin's
// status, or JN_ERR_TRANSIENT (the process ended), JN_ERR_TIMEOUT (the deadline passed)
// or JN_ERR_CANCELLED (cancelled and killed), with call.error saying what happened.
jn_status run_call(CallScope& scope, std::string_view message, jn_call& call, const CallKind& kind,
                   wire::Opened* opened = nullptr) {
    ProcessLink& link = scope.link();
    const jn_host_api& services = *host_api_table();
    const auto deadline = Clock::now() + kind.deadline;
    const auto grace = link.options().deadlines.grace;
    auto kill_at = Clock::time_point::max();
    bool cancel_sent = false, timed_out = false, killed = false;
    const auto deadline_text = [&] {
        return "the call did not finish within its deadline of " + seconds_text(kind.deadline) + " (" + kind.setting +
               "): it was cancelled" +
               (killed ? ", and its connector process was stopped when it had not returned " + seconds_text(grace) +
                             " later (connector-kill-grace)"
                       : "");
    };
    Lane* lane = scope.lane();
    if (!lane && !link.stopping()) {
        call.error = "junctiond could not open a socket to the connector process for this call (its open-files "
                     "limit?); try again";
        return JN_ERR_TRANSIENT;
    }
    if (!lane || !lane->channel.send(message)) {
        if (lane) link.kill("it stopped reading what junctiond sends it");
        call.error = lost_lane_reason(link, "had ended");
        return JN_ERR_TRANSIENT;
    }
    // Acks owed for pages taken: sent together when the lane has nothing more to read, and
    // not at all when the call's done came with its pages (the process no longer waits).
    // Answers owed to HTTP requests likewise: a batch's answers go back in one write.
    std::string owed_acks, owed_answers;
    // HTTP requests read and not served yet: those that came in one write run together.
    std::vector<wire::Frame> asked_http;
    call.deadline = deadline;  // the requests it asks for get no more than what is left
    // Answers go back in one write once they pass kHeldAnswerBytes or nothing more waits to be
    // read; acks first, in the same write: after answers that fill the socket, a separate ack
    // could not go without waiting. A process that asked and does not read the answers is
    // broken: killed, not waited for.
    bool answers_refused = false;
    const auto send_owed = [&] {
        owed_acks += owed_answers;
        owed_answers.clear();
        if (!answers_refused && !lane->channel.send(owed_acks)) answers_refused = true;
        owed_acks.clear();
    };
    CountedTurns counted;  // of the call's HTTP batches (ABI 1.5 start_after_ms)
    const std::function<void(std::string)> answer = [&](std::string frame) {
        owed_answers += frame;
        if (owed_answers.size() > kHeldAnswerBytes) send_owed();
    };
    for (;;) {
        wire::Frame frame;
        // Wakes at least every 20 ms to look at the caller's cancel flag.
        const auto next = !cancel_sent ? deadline : killed ? kill_at + grace : kill_at;
        const auto wake = std::min(Clock::now() + milliseconds(20), next);
        wire::Channel::Got got = wire::Channel::Got::end;
        try {
            if (!asked_http.empty() && (!lane->channel.frame_ready() || asked_http.size() >= JN_HTTP_BATCH_MAX)) {
                serve_http(scope.id(), asked_http, call, answer, counted);
                asked_http.clear();
            }
            if (!owed_answers.empty() && (!lane->channel.frame_ready() || owed_answers.size() > kHeldAnswerBytes))
                send_owed();
            if (answers_refused) throw wire::WireError("it did not read the HTTP responses it asked for");
            if (!owed_acks.empty() && !lane->channel.frame_ready()) {
                // A few small frames: an honest process, which waits for them once 4 pages
                // ahead, always has room. One that floods pages and reads nothing has not.
                if (!lane->channel.send_now(owed_acks))
                    throw wire::WireError("it sends pages without reading their acknowledgements");
                owed_acks.clear();
            }
            got = lane->channel.receive_until(frame, wake);
            if (got == wire::Channel::Got::frame) {
                if (frame.type != wire::Type::http_request && frame.id != scope.id())
                    throw wire::WireError("a message for call " + std::to_string(frame.id) + " on the lane of call " +
                                          std::to_string(scope.id()));
                switch (frame.type) {
                    case wire::Type::done: {
                        const jn_status status = wire::decode_status(frame.payload).status;
                        // Anything after the done (a second done, a late page) would reach
                        // the next call on this lane: such a lane is closed instead.
                        if (!lane->channel.has_buffered()) scope.finished();
                        if (timed_out) {
                            call.error = deadline_text();
                            return JN_ERR_TIMEOUT;
                        }
                        return status;
                    }
                    case wire::Type::emit: {
                        const std::string_view json = wire::decode_text(frame.payload);
                        const jn_status status = services.emit(&call, {json.data(), json.size()});
                        owed_acks += wire::encode(wire::Type::emit_ack, scope.id(), wire::StatusOnly{status});
                        break;
                    }
                    case wire::Type::set_error: {
                        // A reason, not data: bounded as the runner bounds it.
                        const std::string_view text = wire::decode_text(frame.payload).substr(0, kMaxErrorText);
                        services.set_error(&call, {text.data(), text.size()});
                        break;
                    }
                    case wire::Type::call_log: {
                        wire::Log line = wire::decode_log(frame.payload);
                        const std::string_view text = std::string_view(line.message).substr(0, kMaxErrorText);
                        if (services.call_log) services.call_log(&call, line.level, {text.data(), text.size()});
                        break;
                    }
                    case wire::Type::opened:
                        if (opened) *opened = wire::decode_opened(frame.payload);
                        break;
                    case wire::Type::http_request:
                        if (cancel_sent) {  // requests already on the lane when the call was stopped
                            wire::HttpResponse refused;
                            refused.status = timed_out ? JN_ERR_TIMEOUT : JN_ERR_CANCELLED;
                            refused.error = timed_out ? "the call passed its deadline" : "the call was cancelled";
                            owed_answers += wire::encode(frame.id, refused);
                        } else {
                            asked_http.push_back(std::move(frame));
                        }
                        break;
                    default:
                        throw wire::WireError("a message of type " + std::to_string(static_cast<unsigned>(frame.type)) +
                                              " on a call's lane, where a connector process does not send it");
                }
            }
        } catch (const wire::WireError& e) {
            link.kill(std::string("it sent a broken message: ") + e.what());
            got = wire::Channel::Got::end;
        }
        if (got == wire::Channel::Got::end || (killed && Clock::now() >= kill_at + grace)) {  // gone, or as good as gone
            if (killed) link.wait_ended(grace);  // the next call finds it ended, and starts another
            if (timed_out) {
                call.error = deadline_text();
                return JN_ERR_TIMEOUT;
            }
            if (killed) {
                call.error = "the call was cancelled and did not stop within " + seconds_text(grace) +
                             " (connector-kill-grace): its connector process was stopped";
                return JN_ERR_CANCELLED;
            }
            call.error = lost_lane_reason(link, "ended during the call");
            return JN_ERR_TRANSIENT;
        }
        // Checked after every message too: a process that keeps sending must still be
        // cancelled at its deadline.
        const auto now = Clock::now();
        const auto& stopping = link.options().stopping;
        if (!cancel_sent && ((call.cancelled && call.cancelled->load(std::memory_order_relaxed)) ||
                             (stopping && stopping->load(std::memory_order_relaxed)) || now >= deadline)) {
            timed_out = now >= deadline;
            cancel_sent = true;
            kill_at = now + grace;
            link.send(wire::encode_empty(wire::Type::cancel, scope.id()));
        } else if (cancel_sent && !killed && now >= kill_at) {
            killed = true;
            link.kill(timed_out ? "a call passed its deadline (" + std::string(kind.setting) + ") and did not stop"
                                : "a cancelled call did not stop");
        }
    }
}

class ProcessVersion;

class ProcessInstance final : public InstanceBridge {
public:
    ProcessInstance(std::shared_ptr<ProcessLink> link, uint64_t handle) : link_(std::move(link)), handle_(handle) {}
    ~ProcessInstance() override {
        if (!link_->ended()) link_->send(wire::encode(wire::Type::destroy, 0, wire::InstanceCall{handle_}));
        link_->remove_instance(handle_);
    }
    bool usable() const override { return !link_->ended(); }

    jn_status test_connection(jn_call& call) override {
        CallScope scope(*link_);
        const auto& d = link_->options().deadlines;
        return run_call(scope, wire::encode(wire::Type::test_connection, scope.id(), wire::InstanceCall{handle_}), call,
                        {"connector-deadline-test-connection", d.test_connection});
    }

    jn_status invoke(std::string_view operation, std::string_view request_json, jn_call& call) override {
        CallScope scope(*link_);
        const auto& d = link_->options().deadlines;
        return run_call(scope,
                        wire::encode(scope.id(), wire::Invoke{handle_, std::string(operation), std::string(request_json)}),
                        call, {"connector-deadline-invoke", d.invoke});
    }

private:
    std::shared_ptr<ProcessLink> link_;
    uint64_t handle_;
};

// How a version's processes have ended, to space restarts and to quarantine a version whose
// process keeps ending. Shared with the links' end callbacks, which may outlive the version.
struct Supervision {
    std::mutex mutex;
    std::deque<Clock::time_point> ends;  // unexpected ends within the crash window
    Clock::time_point next_start{};
    std::string last_end;
    std::string quarantined;  // why; empty while it is not
};

class ProcessVersion final : public VersionBridge {
public:
    ProcessVersion(const ConnectorProcessOptions& options, std::filesystem::path library, const std::string* definition)
        : options_(options), library_(std::move(library)), has_definition_(definition != nullptr),
          definition_(definition ? *definition : std::string()), supervision_(std::make_shared<Supervision>()) {
        supervision_->quarantined = options_.quarantined;
    }

    Isolation isolation() const override { return Isolation::process; }
    AbiVersion plugin_abi() const override { return abi_; }
    bool offers_migration() const override { return has_migrate_; }

    // Starts a process and opens the library in it, emitting the manifest into `call`. The
    // process is kept for the first instance (which holds it from then on), or until
    // let_process_end(). Throws Error(plugin_rejected) when the library does not load.
    jn_status open_first(jn_call& call) {
        std::lock_guard lock(mutex_);
        auto link = start_locked();
        wire::Opened opened;
        opened.abi_major = 0;
        const jn_status status = open_in(*link, call, &opened);
        if (opened.abi_major == 0) {  // it never loaded: the file is wrong, or the process died
            const std::string why = call.error.empty() ? link->end_reason() : call.error;
            throw Error(Errc::plugin_rejected, why.empty() ? "the library could not be loaded" : why,
                        library_.filename().string());
        }
        abi_ = {opened.abi_major, opened.abi_minor};
        has_migrate_ = opened.has_migrate != 0;
        link_ = link;
        held_ = std::move(link);
        return status;
    }

    jn_status create_instance(std::string_view instance_id, std::string_view config_json, jn_host_instance* host,
                              jn_call& call, std::unique_ptr<InstanceBridge>& out) override {
        jn_status status = JN_OK;
        auto link = live_link(call, status);
        if (!link) return status;
        const uint64_t handle = link->add_instance(host);
        CallScope scope(*link);
        status = run_call(scope,
                          wire::encode(scope.id(), wire::Create{handle, std::string(instance_id), std::string(config_json)}),
                          call, {"connector-deadline-create", options_.deadlines.create});
        if (status == JN_OK) {
            out = std::make_unique<ProcessInstance>(link, handle);
            let_process_end();  // the instance holds it now
        } else {
            // It may exist in the process all the same (made just after its deadline).
            link->send(wire::encode(wire::Type::destroy, 0, wire::InstanceCall{handle}));
            link->remove_instance(handle);
        }
        return status;
    }

    jn_status migrate_config(std::string_view from_version, std::string_view config_json, jn_call& call) override {
        jn_status status = JN_OK;
        auto link = live_link(call, status);
        if (!link) return status;
        CallScope scope(*link);
        return run_call(scope, wire::encode(scope.id(), wire::Migrate{std::string(from_version), std::string(config_json)}),
                        call, {"connector-deadline-migrate", options_.deadlines.migrate});
    }

    void let_process_end() override {
        std::lock_guard lock(mutex_);
        held_.reset();
    }

    void lift_quarantine() override {
        std::lock_guard lock(supervision_->mutex);
        supervision_->quarantined.clear();
        supervision_->ends.clear();
        supervision_->next_start = {};
    }

private:
    jn_status open_in(ProcessLink& link, jn_call& call, wire::Opened* opened) {
        CallScope scope(link);
        return run_call(scope, wire::encode(scope.id(), wire::Open{definition_, has_definition_}), call,
                        {"connector-deadline-open", options_.deadlines.open}, opened);
    }

    std::shared_ptr<ProcessLink> start_locked() {
        std::weak_ptr<Supervision> weak = supervision_;
        auto options = options_;
        return std::make_shared<ProcessLink>(options_, library_, [weak, options](ProcessLink::End end, const std::string& why) {
            if (end == ProcessLink::End::asked) return;
            if (options.counters)
                (end == ProcessLink::End::killed ? options.counters->limit_kills : options.counters->crashes)
                    .fetch_add(1, std::memory_order_relaxed);
            log_warn("connector " + options.label, "its connector process ended: " + why);
            if (auto s = weak.lock()) record_end(*s, options, why, end == ProcessLink::End::crashed);
        });
    }

    // An end the version's next start waits for (backoff); a crash counts towards the
    // quarantine, a kill by junctiond (a deadline, an ignored cancel) does not: the calls it
    // ended have failed already, and hanging is not a reason to stop every tenant's calls.
    static void record_end(Supervision& s, const ConnectorProcessOptions& options, const std::string& why, bool crash) {
        std::string quarantine;
        {
            std::lock_guard lock(s.mutex);
            const auto now = Clock::now();
            if (crash) s.ends.push_back(now);
            while (!s.ends.empty() && now - s.ends.front() > options.crash_window) s.ends.pop_front();
            s.last_end = why;
            const size_t recent = std::max<size_t>(s.ends.size(), 1);
            const auto backoff = options.backoff_min * (1 << std::min<size_t>(recent - 1, 16));
            s.next_start = now + std::min<milliseconds>(backoff, options.backoff_max);
            if (s.quarantined.empty() && s.ends.size() >= options.crash_limit) {
                s.quarantined = "its connector process ended " + std::to_string(s.ends.size()) + " times within " +
                                std::to_string(options.crash_window.count()) +
                                " s (connector-crash-limit, connector-crash-window); the last time " + why;
                quarantine = s.quarantined;
            }
        }
        if (quarantine.empty()) return;
        if (options.counters) options.counters->quarantines.fetch_add(1, std::memory_order_relaxed);
        log_error("connector " + options.label, "quarantined: " + quarantine);
        if (options.on_quarantine) options.on_quarantine(quarantine);
    }

    // The running process, started again if it ended (after its backoff); null with
    // `status` and call.error set when there is none to use.
    std::shared_ptr<ProcessLink> live_link(jn_call& call, jn_status& status) {
        std::lock_guard lock(mutex_);
        std::shared_ptr<ProcessLink> running = link_.lock();
        // One being stopped is let end first: its end sets the backoff for the next.
        if (running && running->stopping()) running->wait_ended(options_.deadlines.grace + milliseconds(1000));
        {
            std::lock_guard s(supervision_->mutex);
            if (!supervision_->quarantined.empty()) {
                call.error = "quarantined: " + supervision_->quarantined +
                             ". Calls fail at once: install a fixed build and apply it, or lift the quarantine "
                             "with `junction connectors release " + options_.label.substr(0, options_.label.find('@')) + "`";
                status = JN_ERR_INTERNAL;
                return nullptr;
            }
            if (running && !running->ended()) return running;
            const auto wait = supervision_->next_start - Clock::now();
            if (wait > Clock::duration::zero()) {
                call.error = "its connector process ended (" + supervision_->last_end + "); it is started again in " +
                             seconds_text(std::chrono::duration_cast<milliseconds>(wait) + milliseconds(1));
                status = JN_ERR_TRANSIENT;
                return nullptr;
            }
        }
        try {
            auto link = start_locked();
            jn_call open;  // the manifest is the one the version has already
            const std::function<void(std::string_view)> ignore = [](std::string_view) {};
            open.on_emit = &ignore;
            wire::Opened opened;
            const jn_status s = open_in(*link, open, &opened);
            if (s != JN_OK) {  // spaced like any other end, and counted
                call.error = "its connector process was started again but did not open the library: " + open.error;
                // A process that died opening it has had its end recorded already.
                if (!link->wait_ended(milliseconds(0))) record_end(*supervision_, options_, call.error, true);
                status = JN_ERR_TRANSIENT;
                return nullptr;
            }
            link_ = link;
            return link;
        } catch (const Error& e) {
            call.error = e.message();
            status = JN_ERR_TRANSIENT;
            return nullptr;
        }
    }

    ConnectorProcessOptions options_;
    std::filesystem::path library_;
    bool has_definition_;
    std::string definition_;
    AbiVersion abi_;
    bool has_migrate_ = false;
    std::shared_ptr<Supervision> supervision_;
    std::mutex mutex_;
    // The process, while an instance or a call holds it: a version nobody uses has none
    // (an engine whose definitions run in processes of their own, a version whose instances
    // are all gone). `held_` keeps the one open_first started until the first instance.
    std::weak_ptr<ProcessLink> link_;
    std::shared_ptr<ProcessLink> held_;
};

}  // namespace

std::unique_ptr<VersionBridge> open_in_connector_process(const ConnectorProcessOptions& options,
                                                         const std::filesystem::path& library,
                                                         const std::string* definition, jn_call& call,
                                                         jn_status& status) {
    auto options_with_label = options;
    if (options_with_label.label.empty()) options_with_label.label = library.filename().string();
    auto version = std::make_unique<ProcessVersion>(options_with_label, library, definition);
    status = version->open_first(call);
    return version;
}

}  // namespace junction::core
