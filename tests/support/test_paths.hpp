// Where the build put the things tests load, and scratch folders that clean up after
// themselves.
#pragma once

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

}  // namespace junction::testing
