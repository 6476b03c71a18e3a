// junction-connector-host: the program junctiond starts for each connector version it runs
// in a process of its own (docs/decisions/0015). It is not meant to be run by hand:
//
//   junction-connector-host --channel-fd 3 --library FILE [--work-dir DIR]
//       [--memory-limit-mb N] [--open-files N] [--max-message-bytes N] [--allow-path DIR]...
//       [--label TEXT] [--no-confine]
//
// `junction-connector-host --probe` prints what this kernel offers to confine a connector
// (one JSON object) and exits; junctiond runs it once at its start for its status.
//
// Before it loads any of the connector's code it closes every descriptor it did not get on
// purpose, sets its limits and confines itself; then it serves junctiond on the channel.
#include "confinement.hpp"
#include "runner.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <malloc.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

struct Arguments {
    int channel_fd = -1;
    std::string library, work_dir, label;
    std::vector<std::filesystem::path> paths;  // --allow-path, repeated
    junction::connector_host::Limits limits;
    size_t max_message_bytes = size_t{80} << 20;  // what junctiond accepts from us
    bool confine = true;
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "junction-connector-host: %s\n"
                 "usage: junction-connector-host --channel-fd N --library FILE [--work-dir DIR] "
                 "[--memory-limit-mb N] [--open-files N] [--label TEXT] [--no-confine]\n"
                 "       junction-connector-host --probe   (what this kernel can confine, as JSON)\n"
                 "junctiond starts this program; it is not run by hand.\n",
                 why);
    std::_Exit(2);
}

unsigned long number(const char* text) {
    char* end = nullptr;
    errno = 0;
    const unsigned long v = std::strtoul(text, &end, 10);
    if (errno != 0 || !end || *end != '\0' || end == text) usage("a number was expected");
    return v;
}

Arguments parse(int argc, char** argv) {
    Arguments a;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--no-confine") {
            a.confine = false;
            continue;
        }
        if (i + 1 >= argc) usage("an option without its value");
        const char* value = argv[++i];
        if (arg == "--channel-fd") a.channel_fd = static_cast<int>(number(value));
        else if (arg == "--library") a.library = value;
        else if (arg == "--work-dir") a.work_dir = value;
        else if (arg == "--label") a.label = value;
        else if (arg == "--allow-path") a.paths.emplace_back(value);
        else if (arg == "--memory-limit-mb") a.limits.memory_limit_mb = number(value);
        else if (arg == "--open-files") a.limits.open_files = static_cast<uint32_t>(number(value));
        else if (arg == "--max-message-bytes") a.max_message_bytes = number(value);
        else usage("an unknown option");
    }
    if (a.channel_fd < 0 || a.library.empty()) usage("--channel-fd and --library are required");
    return a;
}

// Descriptors junctiond did not mean to pass (any it opened without O_CLOEXEC) are closed
// before the connector's code could find them.
void close_inherited(int keep) {
    for (int fd : {0, 1, 2})
        if (fd == keep) usage("the channel cannot be a standard descriptor");
    if (::syscall(SYS_close_range, static_cast<unsigned>(keep + 1), ~0U, 0) != 0) {
        for (int fd = keep + 1; fd < 65536; ++fd) ::close(fd);
    }
    for (int fd = 3; fd < keep; ++fd) ::close(fd);
}

#if !defined(JUNCTION_SANITIZER_ADDRESS) && !defined(JUNCTION_SANITIZER_THREAD)
// When the process dies of a signal with its address space nearly at the limit, a line on
// stderr (which junctiond logs) says the likely cause: a connector that runs out of memory
// under RLIMIT_AS usually aborts (std::bad_alloc) or faults on a failed allocation. (Under a
// sanitizer the limit is its hard RSS limit, which says so itself.)
uint64_t g_memory_limit_bytes = 0;

void note_memory_and_die(int sig) {
    if (g_memory_limit_bytes > 0) {
        char buffer[128];
        const int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? ::read(fd, buffer, sizeof buffer - 1) : -1;
        if (fd >= 0) ::close(fd);
        uint64_t pages = 0;
        for (ssize_t i = 0; i < n && buffer[i] >= '0' && buffer[i] <= '9'; ++i) pages = pages * 10 + (buffer[i] - '0');
        const uint64_t used = pages * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
        if (used >= g_memory_limit_bytes / 10 * 9) {
            static const char line[] =
                "junction-connector-host: out of memory: the connector used nearly all of its address space "
                "(connector-memory-limit-mb)\n";
            [[maybe_unused]] ssize_t w = ::write(2, line, sizeof line - 1);
        }
    }
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}
#endif

}  // namespace

int main(int argc, char** argv) {
    // Few malloc arenas: each reserves 64 MiB of address space, which RLIMIT_AS counts, and
    // a connector's threads would otherwise make one each (the same setting as junctiond).
    ::mallopt(M_ARENA_MAX, 2);
    // Large blocks (a page of records, an HTTP body) are mapped and given back when freed,
    // rather than kept in the heap at their high-water mark: many connector processes run
    // side by side, each idle most of the time.
    ::mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
    ::mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
    if (argc == 2 && std::string_view(argv[1]) == "--probe") {
        std::printf("%s\n", junction::connector_host::to_json(junction::connector_host::probe_confinement()).c_str());
        return 0;
    }
    const Arguments a = parse(argc, argv);
    close_inherited(a.channel_fd);
    std::signal(SIGPIPE, SIG_IGN);  // a closed channel is an error return, not a death
    try {
        junction::connector_host::apply_limits(a.limits);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "junction-connector-host: %s\n", e.what());
        return 4;
    }
#if !defined(JUNCTION_SANITIZER_ADDRESS) && !defined(JUNCTION_SANITIZER_THREAD)
    g_memory_limit_bytes = a.limits.memory_limit_mb << 20;
    for (int sig : {SIGABRT, SIGSEGV, SIGBUS}) std::signal(sig, note_memory_and_die);
#endif
    if (a.confine) {
        const auto report = junction::connector_host::confine({a.library, a.work_dir, a.paths});
        if (!report.notes.empty()) std::fprintf(stderr, "junction-connector-host: confinement: %s\n", report.notes.c_str());
    }
    if (!a.work_dir.empty() && ::chdir(a.work_dir.c_str()) != 0) {
        std::fprintf(stderr, "junction-connector-host: cannot enter %s: %s\n", a.work_dir.c_str(), std::strerror(errno));
        return 4;
    }
    // Worker threads may still be inside the connector: leave without destructors.
    std::_Exit(junction::connector_host::serve(a.channel_fd, a.library, a.max_message_bytes));
}
