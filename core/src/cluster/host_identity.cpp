#include <junction/core/cluster/host_identity.hpp>

#include <junction/core/common/error.hpp>
#include <junction/core/common/ids.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace junction::core {

namespace {

bool valid_id(const std::string& id) {
    if (id.size() < 8 || id.size() > 64) return false;
    for (char c : id)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
    return true;
}

}  // namespace

HostIdentity::HostIdentity(const std::filesystem::path& state_dir) {
    std::filesystem::create_directories(state_dir);
    const auto lock_file = state_dir / "host.lock";
    lock_fd_ = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd_ < 0)
        throw Error(Errc::io, std::string("cannot open the state directory's lock: ") + std::strerror(errno),
                    lock_file.string());
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
        ::close(lock_fd_);
        throw Error(Errc::io,
                    "the state directory is in use by another process (is another junctiond running on it? each "
                    "host needs a state directory of its own)",
                    state_dir.string());
    }
    try {
        read_or_create_id(state_dir / "host-id");
    } catch (...) {
        ::close(lock_fd_);
        throw;
    }
}

void HostIdentity::read_or_create_id(const std::filesystem::path& id_file) {
    std::ifstream in(id_file);
    std::getline(in, id_);
    if (!valid_id(id_)) {  // first start (or a damaged file: a new id, the old one's leases run out)
        id_ = random_id("host_");
        auto tmp = id_file;
        tmp += ".tmp";
        {
            std::ofstream out(tmp, std::ios::trunc);
            out << id_ << "\n";
            if (!out.flush())
                throw Error(Errc::io, "cannot write this host's id", id_file.string());
        }
        std::filesystem::rename(tmp, id_file);
    }
}

HostIdentity::~HostIdentity() {
    if (lock_fd_ >= 0) ::close(lock_fd_);
}

}  // namespace junction::core
