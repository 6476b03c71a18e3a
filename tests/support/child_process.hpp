// Runs the real programs under test: to completion with their output captured, or in the
// background with their output going to a file, to be signalled and waited for.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

namespace junction::testing {

struct RunResult {
    int exit_code = -1;  // -1 when killed by a signal
    std::string output;  // stdout and stderr, interleaved
};

// Runs argv[0] with the arguments and `input` on its standard input, waits, returns exit
// code and output.
RunResult run_program(const std::vector<std::string>& argv, const std::string& input = {});

class ChildProcess {
public:
    // Starts argv with stdout and stderr appended to `log_file`.
    ChildProcess(const std::vector<std::string>& argv, const std::filesystem::path& log_file);
    ~ChildProcess();  // kills the child if it still runs
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    void signal(int sig) const;
    // Waits up to `timeout`; returns the exit code, or -1 on signal death or timeout.
    int wait(std::chrono::milliseconds timeout);
    bool running() const { return pid_ > 0; }
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
};

// Polls `file` until it contains `text` or `timeout` passes.
bool wait_for_text(const std::filesystem::path& file, const std::string& text,
                   std::chrono::milliseconds timeout);

}  // namespace junction::testing
