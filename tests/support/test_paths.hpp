// Where the build put the things tests load, and scratch folders that clean up after
// themselves.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

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

// How many connector processes this process runs for the library `file` (children started
// with --library FILE).
inline int connector_processes_for(const std::filesystem::path& file) {
    int count = 0;
    const std::string wanted = std::string("--library") + '\0' + file.string() + '\0';
    const std::string parent = std::to_string(::getpid());
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string pid = entry.path().filename().string();
        if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
        const std::string stat = read_text(entry.path() / "stat");  // "pid (name) S ppid ..."
        const size_t close = stat.rfind(')');
        if (close == std::string::npos || stat.size() < close + 4) continue;
        const size_t ppid_at = close + 4, ppid_end = stat.find(' ', ppid_at);
        if (stat.substr(ppid_at, ppid_end - ppid_at) != parent) continue;
        if (read_text(entry.path() / "cmdline").find(wanted) != std::string::npos) ++count;
    }
    return count;
}

}  // namespace junction::testing
