#include "process_limits.hpp"

#include <malloc.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>

namespace junction::daemon {

namespace {

// glibc makes up to 8 arenas per core, each keeping its freed memory: with eight worker
// threads parsing megabyte bodies the daemon grew tenfold and stayed there. Two arenas
// cost little contention at our request rates.
constexpr int kMallocArenas = 2;

}  // namespace

ProcessLimits apply_process_limits() {
    // The daemon's memory holds the master key, the admin token and every instance's
    // credentials in clear while it uses them: no core file may keep them, and no other
    // process of the same user (a connector process without Landlock) may read its memory,
    // its /proc/<pid>/environ or attach to it. Not dumpable does both.
    const rlimit no_core{0, 0};
    ProcessLimits out;
    out.core_dumps_off = ::setrlimit(RLIMIT_CORE, &no_core) == 0 && ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0;
    ::signal(SIGPIPE, SIG_IGN);
    ::mallopt(M_ARENA_MAX, kMallocArenas);
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) != 0) return out;
    out.open_files = files.rlim_cur;
    if (files.rlim_cur < files.rlim_max) {
        rlimit raised = files;
        raised.rlim_cur = files.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
            out.open_files = raised.rlim_cur;
            out.raised = true;
        }
    }
    return out;
}

std::string describe(const ProcessLimits& limits) {
    const std::string figure = limits.open_files == RLIM_INFINITY ? "unlimited" : std::to_string(limits.open_files);
    return "open-file limit " + figure +
           (limits.raised ? " (raised to the hard limit)" : " (the hard limit; raise LimitNOFILE to allow more)") +
           (limits.core_dumps_off ? "; core dumps off, not dumpable" : "; core dumps could NOT be turned off");
}

void release_free_memory() { ::malloc_trim(0); }

}  // namespace junction::daemon
