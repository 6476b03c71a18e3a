#include <junction/core/cluster/host_heartbeat.hpp>

#include <junction/core/common/error.hpp>
#include <junction/core/common/ids.hpp>
#include <junction/core/common/log.hpp>
#include <junction/core/common/thread_name.hpp>

namespace junction::core {

namespace {

constexpr int64_t kForgetAfterMs = 24 * 3600 * 1000;

}  // namespace

HostHeartbeat::HostHeartbeat(Store& store, HostRecord self, std::chrono::milliseconds interval,
                             std::function<std::string()> state,
                             std::function<std::map<std::string, std::string>()> versions)
    : store_(store), self_(std::move(self)), interval_(interval), state_(std::move(state)),
      versions_(std::move(versions)) {
    self_.started_ms = now_ms();
    refuse_a_copied_id();
    beat();
    thread_ = std::thread([this] {
        name_this_thread("jn-heartbeat");
        loop();
    });
}

HostHeartbeat::~HostHeartbeat() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
    self_.state = "stopped";
    self_.seen_ms = now_ms();
    try {
        store_.put_host(self_);
    } catch (const std::exception& e) {
        log_warn("cluster", std::string("cannot record this host as stopped: ") + e.what());
    }
}

// The host lock keeps two processes of one machine off a state directory; a copy of the
// directory on another machine (a cloned VM, a restored backup) would carry the same id,
// and the two hosts would end each other's leases. A live row of this id that another
// machine wrote gives that away.
void HostHeartbeat::refuse_a_copied_id() {
    const int64_t live_after = self_.started_ms - kMissedHeartbeats * interval_.count();
    for (const auto& h : store_.list_hosts())
        if (h.id == self_.id && h.state != "stopped" && h.seen_ms >= live_after && h.name != self_.name)
            throw Error(Errc::invalid_argument,
                        "this host's id (" + h.id + ") is in use by the live host " + h.name + " (" + h.address +
                            "): its state directory was copied from that host's. Delete host-id in this host's "
                            "state directory, so that it gets an id of its own, and start it again");
}

void HostHeartbeat::beat() {
    // One beat at a time, from the snapshot to its write: beats come from the loop, a drain
    // and a version switch, and an older row must not land after a newer one.
    std::lock_guard writing(write_mutex_);
    HostRecord row;
    {
        std::lock_guard lock(mutex_);
        self_.state = state_();
        if (versions_) self_.versions = versions_();
        self_.seen_ms = now_ms();
        row = self_;
    }
    try {
        store_.put_host(row);
        store_.forget_hosts(row.seen_ms - kForgetAfterMs);
    } catch (const std::exception& e) {
        log_warn("cluster", std::string("heartbeat not recorded: ") + e.what());
    }
}

void HostHeartbeat::loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        if (wake_.wait_for(lock, interval_, [&] { return stopping_; })) break;
        lock.unlock();
        beat();
        lock.lock();
    }
}

}  // namespace junction::core
