// junctiond's link to one running connector process: starts it, hands out lanes (a call's
// own socket to a thread of its own in the process, wire.hpp) and keeps the idle ones, and
// reads the control socket on one thread: log lines and state requests go straight to the
// host services of the instance they name. What the process sends is untrusted: a message
// that does not decode, is too large, or names an instance it does not have ends it.
#pragma once

#include <junction/core/bridge/channel.hpp>
#include <junction/core/bridge/host_services.hpp>
#include <junction/core/bridge/process/connector_process_options.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <sys/types.h>

namespace junction::core {

// One call's socket to the connector process, used by one call at a time.
struct Lane {
    // A send the process does not take within `send_timeout_ms` fails (it is then killed).
    Lane(uint64_t number, int fd, size_t max_frame_bytes, unsigned send_timeout_ms)
        : number(number), channel(fd, max_frame_bytes, send_timeout_ms) {
        channel.set_spin(wire::Channel::kLaneSpin);
    }
    uint64_t number;
    wire::Channel channel;
};

class ProcessLink {
public:
    // How a process ended: junctiond closed the link and it exited cleanly; junctiond
    // killed it (a deadline, a cancel it ignored, a broken message); or anything else.
    enum class End { asked, killed, crashed };

    // Starts the process for `library`. Throws Error(plugin_rejected) when it cannot start.
    // `on_end` is called once, on the reader thread, when the process has ended and been
    // reaped, with how and why it ended.
    ProcessLink(const ConnectorProcessOptions& options, const std::filesystem::path& library,
                std::function<void(End end, const std::string& why)> on_end);
    // Closes the socket (the process exits when it sees the end), waits for it up to the
    // grace period, then kills it.
    ~ProcessLink();
    ProcessLink(const ProcessLink&) = delete;
    ProcessLink& operator=(const ProcessLink&) = delete;

    // A new call's id.
    uint64_t next_call_id() { return next_call_.fetch_add(1, std::memory_order_relaxed); }

    // A lane for one call: an idle one, or a new one passed to the process. Null when the
    // process has ended or a socket cannot be made.
    std::unique_ptr<Lane> take_lane();
    // The call is over. A `reusable` lane (the call's done arrived: nothing of it is left to
    // read) may be kept for the next call; any other is closed.
    void give_back(std::unique_ptr<Lane> lane, bool reusable);

    // The instances whose host services (log, state) the process may use, by handle.
    uint64_t add_instance(jn_host_instance* host);
    void remove_instance(uint64_t handle);

    // Sends one frame; false when the process is gone or stopped reading (it is then killed).
    bool send(std::string_view frame, std::string_view tail = {});

    bool ended() const { return ended_.load(std::memory_order_acquire); }
    // Ended, or killed and about to end.
    bool stopping() const;
    // Waits until the process has ended, been reaped and its end handed to `on_end` (so the
    // backoff and a quarantine it causes are in place), up to `limit`; true when it has.
    bool wait_ended(std::chrono::milliseconds limit);
    // Why it ended ("it was killed by signal 11 (SIGSEGV)"); empty while it runs.
    std::string end_reason() const;

    // Kills the process (SIGKILL); `why` becomes its end reason ("invoke 'orders' passed
    // its deadline ..."). Calls in flight fail.
    void kill(const std::string& why);

    pid_t pid() const { return pid_; }
    const ConnectorProcessOptions& options() const { return options_; }

private:
    void read_loop();
    void route(wire::Frame& frame);
    void serve_state(const wire::Frame& frame);
    void serve_credential(const wire::Frame& frame);
    void serve_log(const wire::Frame& frame);
    void reap();
    void drain_stderr();
    // A stderr line is the process's, not one instance's: every instance's secrets go.
    std::string redact_stderr(std::string line) const;

    ConnectorProcessOptions options_;
    std::function<void(End, const std::string&)> on_end_;
    pid_t pid_ = -1;
    int stderr_fd_ = -1;
    std::unique_ptr<wire::Channel> channel_;
    std::atomic<bool> ended_{false};
    bool end_recorded_ = false;  // on_end_ has returned; under mutex_
    std::atomic<bool> closing_{false};  // the destructor runs: an end now is expected

    mutable std::mutex mutex_;
    std::condition_variable ended_changed_;
    // Held by the reader while it serves an instance's log or state, and by
    // remove_instance: an instance's host object is never used after it is removed.
    std::mutex serving_;
    std::unordered_map<uint64_t, jn_host_instance*> instances_;
    std::vector<std::unique_ptr<Lane>> idle_lanes_;
    std::unordered_set<Lane*> busy_lanes_;  // ended by kill() too
    std::atomic<uint64_t> next_call_{1};
    uint64_t next_lane_ = 1;
    uint64_t next_instance_ = 1;
    std::string kill_reason_, end_reason_;
    bool reaped_ = false;  // the pid may have been recycled: never signal it again
    // Set by the stderr reader: the process said it ran out of memory, or its stderr ended.
    std::atomic<bool> out_of_memory_{false};
    std::atomic<bool> stderr_ended_{false};

    std::thread reader_;
    std::thread stderr_reader_;
};

}  // namespace junction::core
