// This host among the hosts sharing a store: an id kept in the state directory (host-id),
// so a restarted host knows the runs its last process held and hands them on at once, and
// a lock on the directory (host.lock), so no two processes ever act under one id.
#pragma once

#include <filesystem>
#include <string>

namespace junction::core {

class HostIdentity {
public:
    // Reads the id (creating it on the first start) and locks the directory. Throws
    // Error(io) naming the directory when another process holds it.
    explicit HostIdentity(const std::filesystem::path& state_dir);
    ~HostIdentity();
    HostIdentity(const HostIdentity&) = delete;
    HostIdentity& operator=(const HostIdentity&) = delete;

    const std::string& id() const { return id_; }

private:
    void read_or_create_id(const std::filesystem::path& id_file);

    int lock_fd_ = -1;
    std::string id_;
};

}  // namespace junction::core
