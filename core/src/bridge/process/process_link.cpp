#include "process_link.hpp"

#include <junction/core/secrets/clear_text.hpp>

#include "spawn_connector_process.hpp"

#include <junction/core/common/error.hpp>
#include <junction/core/common/log.hpp>
#include <junction/core/common/thread_name.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>

#include <openssl/crypto.h>

#include <poll.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace junction::core {

namespace {

// For thread names: one link per connector process, started anew after a restart.
std::atomic<unsigned> link_threads{0}, stderr_threads{0};

using Clock = std::chrono::steady_clock;

// Idle lanes kept per process: enough for the usual number of concurrent calls.
constexpr size_t kMaxIdleLanes = 8;

// What a process may log per second (with a burst), in lines and in bytes: beyond, lines
// are dropped and counted, so a connector cannot flood junctiond's log, its disk or its
// reader thread. A line costs at least 128 bytes.
constexpr double kLogLinesPerSecond = 200;
constexpr double kLogBurst = 1000;
constexpr double kLogBytesPerSecond = 64 * 1024;
constexpr double kLogBytesBurst = 1024 * 1024;
constexpr size_t kMaxLogLine = 16 * 1024;

std::string describe_status(int status) {
    if (WIFEXITED(status)) return "it exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        const char* abbrev = sigabbrev_np(sig);
        return "it was killed by signal " + std::to_string(sig) + (abbrev ? std::string(" (SIG") + abbrev + ")" : "");
    }
    return "it ended (wait status " + std::to_string(status) + ")";
}

}  // namespace

ProcessLink::ProcessLink(const ConnectorProcessOptions& options, const std::filesystem::path& library,
                         std::function<void(End, const std::string&)> on_end)
    : options_(options), on_end_(std::move(on_end)) {
    SpawnedProcess spawned = spawn_connector_process(options_, library);
    pid_ = spawned.pid;
    stderr_fd_ = spawned.stderr_fd;
    // A process that stops reading for this long is broken; the call's own deadline is
    // what normally ends a slow call.
    channel_ = std::make_unique<wire::Channel>(spawned.channel_fd, options_.max_message_bytes, 30'000);
    if (options_.counters) {
        options_.counters->starts.fetch_add(1, std::memory_order_relaxed);
        options_.counters->running.fetch_add(1, std::memory_order_relaxed);
    }
    reader_ = std::thread([this] {
        name_this_thread("jn-link", link_threads);
        read_loop();
    });
    stderr_reader_ = std::thread([this] {
        name_this_thread("jn-stderr", stderr_threads);
        drain_stderr();
    });
}

ProcessLink::~ProcessLink() {
    closing_.store(true);
    channel_->shutdown();  // the process reads the end of its socket and exits
    reader_.join();        // reaps it (killing it after the grace period)
    stderr_reader_.join();
    if (stderr_fd_ >= 0) ::close(stderr_fd_);
}

std::unique_ptr<Lane> ProcessLink::take_lane() {
    uint64_t number = 0;
    {
        std::lock_guard lock(mutex_);
        if (ended() || !kill_reason_.empty()) return nullptr;
        if (!idle_lanes_.empty()) {
            auto lane = std::move(idle_lanes_.back());
            idle_lanes_.pop_back();
            busy_lanes_.insert(lane.get());
            return lane;
        }
        number = next_lane_++;
    }
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
        log_warn("connector " + options_.label, std::string("cannot make a socket for a call: ") + std::strerror(errno));
        return nullptr;
    }
    auto lane = std::make_unique<Lane>(number, pair[0], options_.max_message_bytes,
                                       static_cast<unsigned>(std::max<int64_t>(options_.deadlines.grace.count(), 100)));
    const bool passed = channel_->send_descriptor(wire::encode_empty(wire::Type::lane, number), pair[1]);
    ::close(pair[1]);  // the process has its own copy now
    if (!passed) {
        if (!closing_.load()) kill("it stopped reading what junctiond sends it");
        return nullptr;
    }
    std::lock_guard lock(mutex_);
    busy_lanes_.insert(lane.get());
    return lane;
}

void ProcessLink::give_back(std::unique_ptr<Lane> lane, bool reusable) {
    std::lock_guard lock(mutex_);
    busy_lanes_.erase(lane.get());
    if (!reusable) return;
    // A few idle lanes are kept (each is a thread waiting in the process); more are closed,
    // and their threads go back to the process's pool.
    if (!ended() && kill_reason_.empty() && idle_lanes_.size() < kMaxIdleLanes) idle_lanes_.push_back(std::move(lane));
}

bool ProcessLink::stopping() const {
    std::lock_guard lock(mutex_);
    return ended() || !kill_reason_.empty();
}

bool ProcessLink::wait_ended(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    return ended_changed_.wait_for(lock, limit, [&] { return end_recorded_; });
}

uint64_t ProcessLink::add_instance(jn_host_instance* host) {
    std::lock_guard lock(mutex_);
    const uint64_t handle = next_instance_++;
    instances_[handle] = host;
    return handle;
}

void ProcessLink::remove_instance(uint64_t handle) {
    std::lock_guard in_use(serving_);  // the reader is not inside this instance's services
    std::lock_guard lock(mutex_);
    instances_.erase(handle);
}

bool ProcessLink::send(std::string_view frame, std::string_view tail) {
    if (ended()) return false;
    if (channel_->send(frame, tail)) return true;
    if (!closing_.load()) kill("it stopped reading what junctiond sends it");
    return false;
}

std::string ProcessLink::end_reason() const {
    std::lock_guard lock(mutex_);
    if (!end_reason_.empty()) return end_reason_;
    return kill_reason_.empty() ? std::string("it is ending") : "junctiond is stopping it: " + kill_reason_;
}

void ProcessLink::kill(const std::string& why) {
    {
        std::lock_guard lock(mutex_);
        if (reaped_ || !kill_reason_.empty()) return;
        kill_reason_ = why;
        // Its whole process group (it leads one): a child it forked, holding the socket,
        // goes too. Not reaped yet (reap() sets reaped_ under this lock first): still ours.
        ::kill(-pid_, SIGKILL);
        ::kill(pid_, SIGKILL);
        for (Lane* lane : busy_lanes_) lane->channel.shutdown();  // its caller sees the end now
    }
    channel_->shutdown();  // the reader sees the end now, whoever else holds the socket
}

void ProcessLink::read_loop() {
    wire::Frame frame;
    try {
        while (channel_->receive(frame)) {
            route(frame);
            // Log lines and state values of a connector may quote its credentials: the
            // frame this loop keeps between messages holds no copy of the last one.
            OPENSSL_cleanse(frame.payload.data(), frame.payload.size());
        }
    } catch (const std::exception& e) {  // a frame too large or one that does not decode
        if (!closing_.load()) kill(std::string("it sent a broken message: ") + e.what());
    }
    channel_->shutdown();
    reap();
}

void ProcessLink::route(wire::Frame& frame) {
    using wire::Type;
    switch (frame.type) {
        case Type::state_get:
        case Type::state_set:
        case Type::state_delete:
            serve_state(frame);
            return;
        case Type::credential_get:
        case Type::credential_swap:
            serve_credential(frame);
            return;
        case Type::log:
            serve_log(frame);
            return;
        default:  // a call's messages come on its lane
            throw wire::WireError("a message of type " + std::to_string(static_cast<unsigned>(frame.type)) +
                                  " on its control socket, where a connector process does not send it");
    }
}

void ProcessLink::serve_state(const wire::Frame& frame) {
    const wire::StateRequest request = wire::decode_state_request(frame.payload);
    std::lock_guard in_use(serving_);  // the instance stays until its service returns
    jn_host_instance* host = nullptr;
    {
        std::lock_guard lock(mutex_);
        auto it = instances_.find(request.instance);
        if (it != instances_.end()) host = it->second;
    }
    wire::StateReply reply;
    const jn_host_api& services = *host_api_table();
    const jn_str key{request.key.data(), request.key.size()};
    if (!host) {
        reply.status = JN_ERR_INVALID_REQUEST;  // an instance destroyed, or never made
    } else if (frame.type == wire::Type::state_get) {
        reply.status = services.state_get(
            host, key, [](void* out, jn_str value) { static_cast<std::string*>(out)->assign(value.ptr, value.len); },
            &reply.value);
    } else if (frame.type == wire::Type::state_set) {
        reply.status = services.state_set(host, key, jn_str{request.value.data(), request.value.size()});
    } else {
        reply.status = services.state_delete(host, key);
    }
    send(wire::encode(frame.id, reply));
}

void ProcessLink::serve_credential(const wire::Frame& frame) {
    // Both carry the instance's handle first.
    const wire::StateRequest get =
        frame.type == wire::Type::credential_get ? wire::decode_state_request(frame.payload) : wire::StateRequest{};
    wire::CredentialSwap swap =
        frame.type == wire::Type::credential_swap ? wire::decode_credential_swap(frame.payload) : wire::CredentialSwap{};
    const uint64_t handle = frame.type == wire::Type::credential_get ? get.instance : swap.instance;
    std::lock_guard in_use(serving_);  // the instance stays until its service returns
    jn_host_instance* host = nullptr;
    {
        std::lock_guard lock(mutex_);
        auto it = instances_.find(handle);
        if (it != instances_.end()) host = it->second;
    }
    wire::StateReply reply;
    const jn_host_api& services = *host_api_table();
    if (!host) {
        reply.status = JN_ERR_INVALID_REQUEST;  // an instance destroyed, or never made
    } else if (frame.type == wire::Type::credential_get) {
        reply.status = services.credential_get(
            host, {get.key.data(), get.key.size()},
            [](void* out, jn_str value) { static_cast<std::string*>(out)->assign(value.ptr, value.len); }, &reply.value);
    } else {
        reply.status = services.credential_swap(host, {swap.name.data(), swap.name.size()},
                                                {swap.expected.data(), swap.expected.size()},
                                                {swap.value.data(), swap.value.size()});
    }
    const std::string answer = wire::encode(frame.id, reply);
    send(answer);
    // Credentials in clear: no copy outlives the answer.
    OPENSSL_cleanse(const_cast<char*>(answer.data()), answer.size());
    wipe_text(reply.value);
    wipe_text(swap.expected);
    wipe_text(swap.value);
}

void ProcessLink::serve_log(const wire::Frame& frame) {
    static thread_local double lines = kLogBurst, bytes = kLogBytesBurst;  // this reader thread's own buckets
    static thread_local Clock::time_point last = Clock::now();
    static thread_local uint64_t dropped = 0;
    wire::Log line = wire::decode_log(frame.payload);
    if (line.message.size() > kMaxLogLine) line.message.resize(kMaxLogLine);  // a line, not data
    const auto now = Clock::now();
    const double elapsed = std::chrono::duration<double>(now - last).count();
    lines = std::min(kLogBurst, lines + elapsed * kLogLinesPerSecond);
    bytes = std::min(kLogBytesBurst, bytes + elapsed * kLogBytesPerSecond);
    last = now;
    const double cost = static_cast<double>(std::max<size_t>(line.message.size(), 128));
    if (lines < 1 || bytes < cost) {
        ++dropped;
        return;
    }
    lines -= 1;
    bytes -= cost;
    if (dropped > 0) {
        log_warn("connector " + options_.label, std::to_string(dropped) + " log lines dropped: more than " +
                                                    std::to_string(static_cast<int>(kLogLinesPerSecond)) +
                                                    " lines or " + std::to_string(static_cast<int>(kLogBytesPerSecond / 1024)) +
                                                    " KiB a second");
        dropped = 0;
    }
    std::lock_guard in_use(serving_);
    jn_host_instance* host = nullptr;
    if (line.instance != 0) {
        std::lock_guard lock(mutex_);
        auto it = instances_.find(line.instance);
        if (it != instances_.end()) host = it->second;
    }
    if (host) {
        host_api_table()->log(host, line.level, jn_str{line.message.data(), line.message.size()});
    } else {
        jn_host_instance library;
        library.log_component = "connector " + options_.label;
        host_api_table()->log(&library, line.level, jn_str{line.message.data(), line.message.size()});
    }
}

void ProcessLink::reap() {
    // Waits for the exit without reaping (WNOWAIT), so that until `reaped_` is set under
    // the lock the pid is still this process's and kill() cannot hit a recycled one.
    const auto give_up = Clock::now() + options_.deadlines.grace;
    siginfo_t info{};
    for (;;) {
        info.si_pid = 0;
        const int r = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
        if ((r == 0 && info.si_pid == pid_) || (r < 0 && errno != EINTR)) break;
        if (Clock::now() >= give_up) {  // it closed its socket but lives on
            {
                std::lock_guard lock(mutex_);
                if (kill_reason_.empty() && !closing_.load()) kill_reason_ = "it closed its socket and did not exit";
            }
            ::kill(pid_, SIGKILL);
            while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
            }
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    {
        std::lock_guard lock(mutex_);
        reaped_ = true;
    }
    int status = 0;
    rusage usage{};
    while (::wait4(pid_, &status, 0, &usage) < 0 && errno == EINTR) {
    }
    // What it wrote last (an out-of-memory line) is read before the reason is written.
    for (int i = 0; i < 100 && !stderr_ended_.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::string why;
    {
        std::lock_guard lock(mutex_);
        why = kill_reason_.empty() ? describe_status(status) : "junctiond stopped it: " + kill_reason_;
        if (out_of_memory_.load())
            why += "; it ran out of memory (connector-memory-limit-mb = " + std::to_string(options_.memory_limit_mb) + ")";
        end_reason_ = why;
        ended_.store(true, std::memory_order_release);
        idle_lanes_.clear();
    }
    ended_changed_.notify_all();
    if (options_.counters) options_.counters->running.fetch_sub(1, std::memory_order_relaxed);
    End end = End::crashed;
    {
        std::lock_guard lock(mutex_);
        if (!kill_reason_.empty()) end = End::killed;
        else if (closing_.load() && WIFEXITED(status) && WEXITSTATUS(status) == 0) end = End::asked;
    }
    try {
        if (on_end_) on_end_(end, why);
    } catch (const std::exception& e) {  // a full disk while quarantining: logged, not fatal
        log_error("connector " + options_.label, std::string("after its connector process ended: ") + e.what());
    }
    // Only now may the next call look: before this it would start a process that the backoff
    // or the quarantine this end caused should have held back.
    {
        std::lock_guard lock(mutex_);
        end_recorded_ = true;
    }
    ended_changed_.notify_all();
}

void ProcessLink::drain_stderr() {
    // What the process writes to stderr (a crash message, a sanitizer report) goes to the
    // log a line at a time, bounded like its log lines; stdout goes nowhere.
    std::string pending;
    char buffer[4096];
    size_t lines = 0;
    constexpr size_t kMaxLine = 2000, kMaxLines = 200;
    for (;;) {
        // Polled, not read blindly: a child the connector forked may hold the pipe open
        // after the process itself has ended; reading stops with the process.
        pollfd p{stderr_fd_, POLLIN, 0};
        const int ready = ::poll(&p, 1, 100);
        if (ended()) break;  // a forked child writing on for ever does not keep this thread
        if (ready == 0) continue;
        if (ready < 0 && errno == EINTR) continue;
        const ssize_t n = ready < 0 ? -1 : ::read(stderr_fd_, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        pending.append(buffer, static_cast<size_t>(n));
        size_t start = 0, end;
        while ((end = pending.find('\n', start)) != std::string::npos || pending.size() - start > kMaxLine) {
            if (end == std::string::npos) end = start + kMaxLine;
            const std::string_view line = std::string_view(pending).substr(start, std::min(end - start, kMaxLine));
            if (line.starts_with("junction-connector-host: out of memory") ||
                line.find("hard rss limit exhausted") != std::string_view::npos)  // the same, under a sanitizer
                out_of_memory_.store(true);
            if (++lines <= kMaxLines)
                log_warn("connector " + options_.label,
                         "stderr: " + redact_stderr(pending.substr(start, std::min(end - start, kMaxLine))));
            else if (lines == kMaxLines + 1)
                log_warn("connector " + options_.label, "stderr: more lines follow, not logged");
            start = end + (end < pending.size() && pending[end] == '\n' ? 1 : 0);
        }
        pending.erase(0, start);
        // A line may quote a credential: neither this thread's stack nor what the erase
        // moved along keeps the bytes once logged (redacted).
        OPENSSL_cleanse(buffer, sizeof buffer);
        OPENSSL_cleanse(pending.data() + pending.size(), pending.capacity() - pending.size());
    }
    if (!pending.empty() && ++lines <= kMaxLines)
        log_warn("connector " + options_.label, "stderr: " + redact_stderr(pending.substr(0, kMaxLine)));
    stderr_ended_.store(true);
}

std::string ProcessLink::redact_stderr(std::string line) const {
    std::lock_guard lock(mutex_);  // an instance in the map has not been destroyed
    for (const auto& [handle, host] : instances_) line = host->redact(std::move(line));
    return line;
}

}  // namespace junction::core
