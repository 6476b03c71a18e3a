// Where the build put the things tests load, and scratch folders that clean up after
// themselves.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace junction::testing {

inline std::filesystem::path plugin_dir() { return JUNCTION_TEST_PLUGIN_DIR; }
inline std::filesystem::path fixture_dir() { return JUNCTION_TEST_FIXTURE_DIR; }
inline std::filesystem::path bin_dir() { return JUNCTION_TEST_BIN_DIR; }
inline std::filesystem::path source_dir() { return JUNCTION_TEST_SOURCE_DIR; }
inline std::filesystem::path fixture(const std::string& name) { return fixture_dir() / (name + ".so"); }

class TempDir {
public:
    TempDir() {
        std::random_device rd;
        path_ = std::filesystem::temp_directory_path() /
                ("junction-test-" + std::to_string(rd()) + std::to_string(rd()));
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path& file, const std::string& content) {
    std::ofstream out(file, std::ios::binary);
    out << content;
}

inline std::string read_text(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// True when the process has a file of that name mapped (it is loaded).
inline bool is_mapped(const std::filesystem::path& file) {
    return read_text("/proc/self/maps").find(file.filename().string()) != std::string::npos;
}

// The junction-connector-host processes whose parent is `parent`; with `library`, only
// those that run it.
inline std::vector<pid_t> connector_processes_of(pid_t parent, const std::filesystem::path& library = {}) {
    std::vector<pid_t> found;
    const std::string wanted = library.empty() ? std::string("junction-connector-host")
                                               : std::string("--library") + '\0' + library.string() + '\0';
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string pid = entry.path().filename().string();
        if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
        const std::string stat = read_text(entry.path() / "stat");  // "pid (name) S ppid ..."
        const size_t close = stat.rfind(')');
        if (close == std::string::npos || stat.size() < close + 4) continue;
        const size_t ppid_at = close + 4;
        if (stat.substr(ppid_at, stat.find(' ', ppid_at) - ppid_at) != std::to_string(parent)) continue;
        if (read_text(entry.path() / "cmdline").find(wanted) != std::string::npos)
            found.push_back(static_cast<pid_t>(std::stol(pid)));
    }
    return found;
}

// How many connector processes of this test process run `file`.
inline int connector_processes_for(const std::filesystem::path& file) {
    return static_cast<int>(connector_processes_of(::getpid(), file).size());
}

}  // namespace junction::testing
