#include <junction/core/cluster/host_heartbeat.hpp>

#include <junction/core/common/ids.hpp>
#include <junction/core/common/log.hpp>

namespace junction::core {

namespace {

constexpr int64_t kForgetAfterMs = 24 * 3600 * 1000;

}  // namespace

HostHeartbeat::HostHeartbeat(Store& store, HostRecord self, std::chrono::milliseconds interval,
                             std::function<std::string()> state)
    : store_(store), self_(std::move(self)), interval_(interval), state_(std::move(state)) {
    self_.started_ms = now_ms();
    beat();
    thread_ = std::thread([this] { loop(); });
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

void HostHeartbeat::beat() {
    HostRecord row;
    {
        std::lock_guard lock(mutex_);
        self_.state = state_();
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
