// Process-wide settings junctiond makes once, at the very start of main, before any thread:
// core dumps off and not dumpable (credentials in memory stay there),
// SIGPIPE ignored (a write to a closed pipe or socket becomes an EPIPE error, not a death),
// the soft open-file limit raised to the hard one, and the allocator's arenas bounded so
// memory returns near its baseline after bursts of large requests.
#pragma once

#include <string>

namespace junction::daemon {

struct ProcessLimits {
    unsigned long open_files = 0;  // the soft RLIMIT_NOFILE after raising it
    bool raised = false;           // false when it already was the hard limit
    bool core_dumps_off = false;   // RLIMIT_CORE 0 and PR_SET_DUMPABLE 0 both took
};

ProcessLimits apply_process_limits();

// One log line about the figures (logged once the log is configured).
std::string describe(const ProcessLimits& limits);

// Gives freed heap pages back to the system (after a large request).
void release_free_memory();

}  // namespace junction::daemon
