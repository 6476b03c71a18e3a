#include <junction/core/common/crash_markers.hpp>

#include <junction/core/common/error.hpp>
#include <junction/core/common/log.hpp>

#include <atomic>
#include <fstream>

#include <fcntl.h>
#include <unistd.h>

namespace junction::core {

namespace fs = std::filesystem;

namespace {

// Written and fsync'd (file and folder) before the risky call: the marker must survive the
// crash it is there to witness.
void write_durably(const fs::path& file, const std::string& text) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw Error(Errc::io, "cannot write the crash marker; check the state directory", file.string());
    const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    const int dir = ::open(file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const bool synced = dir >= 0 && ::fsync(dir) == 0;
    if (dir >= 0) ::close(dir);
    if (!written || !synced)
        throw Error(Errc::io, "cannot write the crash marker; check the state directory", file.string());
}

std::string first_lines(const fs::path& file, std::string& second) {
    std::ifstream in(file, std::ios::binary);
    std::string first;
    std::getline(in, first);
    std::getline(in, second);
    return first;
}

bool is_sha256(const std::string& s) {
    return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

CrashMarkers::CrashMarkers(const fs::path& state_dir)
    : markers_dir_(state_dir / "loading"), quarantine_dir_(state_dir / "quarantine") {
    fs::create_directories(markers_dir_);
    fs::create_directories(quarantine_dir_);
    for (const auto& entry : fs::directory_iterator(markers_dir_)) {
        std::string why;
        const std::string sha = first_lines(entry.path(), why);  // line 1: sha256, line 2: what
        std::error_code ec;
        if (is_sha256(sha)) {
            if (!fs::exists(quarantine_file(sha))) write_durably(quarantine_file(sha), why + "\n");
            log_error("registry", why + "; it is quarantined (sha256 " + sha.substr(0, 12) +
                                      ") and will not be loaded again: remove it, or install a fixed build "
                                      "(a different file is not quarantined); to try this one again, run "
                                      "`junction connectors release NAME` (a file that was never installed: "
                                      "delete " + quarantine_file(sha).string() + ")");
        }
        fs::remove(entry.path(), ec);
    }
}

CrashMarkers::Scope CrashMarkers::mark(const std::string& sha256, const std::string& subject, const std::string& action) {
    static std::atomic<uint64_t> next{0};
    std::lock_guard lock(mutex_);
    Live& live = live_[sha256];
    if (live.scopes == 0) {
        live.file = markers_dir_ / (std::to_string(::getpid()) + "-" + std::to_string(next++) + ".marker");
        try {
            write_durably(live.file, sha256 + "\n" + subject + " crashed the daemon while " + action + "\n");
        } catch (...) {
            live_.erase(sha256);
            throw;
        }
    }
    ++live.scopes;
    return Scope(this, sha256);
}

void CrashMarkers::unmark(const std::string& sha256) {
    std::lock_guard lock(mutex_);
    auto it = live_.find(sha256);
    if (it == live_.end() || --it->second.scopes > 0) return;
    std::error_code ec;
    fs::remove(it->second.file, ec);  // every call returned: no crash to remember
    live_.erase(it);
}

CrashMarkers::Scope::~Scope() {
    if (owner_) owner_->unmark(sha256_);
}

std::string CrashMarkers::quarantine_reason(const std::string& sha256) const {
    if (!is_sha256(sha256)) return {};
    std::error_code ec;
    if (!fs::exists(quarantine_file(sha256), ec)) return {};
    std::string unused;
    const std::string why = first_lines(quarantine_file(sha256), unused);
    return why.empty() ? "it crashed the daemon" : why;
}

void CrashMarkers::quarantine(const std::string& sha256, const std::string& reason) {
    if (!is_sha256(sha256)) return;
    std::string line = reason;
    for (char& c : line)
        if (c == '\n' || c == '\r') c = ' ';  // the reason is the file's first line
    write_durably(quarantine_file(sha256), line + "\n");
}

void CrashMarkers::release(const std::string& sha256) {
    if (!is_sha256(sha256)) return;
    std::error_code ec;
    fs::remove(quarantine_file(sha256), ec);
}

CrashMarkers::Scope mark_risky_call(CrashMarkers* markers, const std::string& sha256, const std::string& subject,
                                    const std::string& action) {
    return markers ? markers->mark(sha256, subject, action) : CrashMarkers::Scope();
}

}  // namespace junction::core
