#include "spawn_connector_process.hpp"

#include <junction/core/common/error.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <unistd.h>

namespace junction::core {

namespace fs = std::filesystem;

namespace {

// Closes what it holds unless released: a failed start leaks no descriptor.
struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
    int release() { return std::exchange(fd, -1); }
};

// What the process's environment carries over: the time zone, the locale, and the
// sanitizer settings of a sanitizer build (with the memory limit as an RSS limit there,
// since a sanitizer's shadow memory cannot live under an address-space limit).
std::vector<std::string> connector_environment(const ConnectorProcessOptions& options) {
    std::vector<std::string> env{"PATH=/usr/bin:/bin"};
    for (const char* name : {"TZ", "TZDIR", "LANG", "LC_ALL"})
        if (const char* v = std::getenv(name)) env.push_back(std::string(name) + "=" + v);
#if defined(JUNCTION_SANITIZER_ADDRESS) || defined(JUNCTION_SANITIZER_THREAD)
    // The memory limit as an RSS limit; and a connector's fatal signals are left to the
    // kernel, as in a shipped build (a sanitizer would turn SIGSEGV into exit status 1).
    const std::string ours = "hard_rss_limit_mb=" + std::to_string(options.memory_limit_mb) +
                             ":handle_segv=0:handle_sigbus=0:handle_abort=0:handle_sigill=0:handle_sigfpe=0";
    for (const char* name : {"ASAN_OPTIONS", "TSAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
        const char* v = std::getenv(name);
        std::string value = v ? v : "";
        if (std::string_view(name) != "UBSAN_OPTIONS" && std::string_view(name) != "LSAN_OPTIONS")
            value += (value.empty() ? "" : ":") + ours;
        if (!value.empty()) env.push_back(std::string(name) + "=" + value);
    }
#else
    (void)options;
#endif
    return env;
}

}  // namespace

fs::path connector_host_program(const ConnectorProcessOptions& options) {
    if (!options.program.empty()) return options.program;
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    return (ec ? fs::path(".") : self.parent_path()) / "junction-connector-host";
}

SpawnedProcess spawn_connector_process(const ConnectorProcessOptions& options, const fs::path& library) {
    const fs::path program = connector_host_program(options);
    if (::access(program.c_str(), X_OK) != 0)
        throw Error(Errc::plugin_rejected,
                    "cannot run connector processes: " + program.string() + " is missing or not executable (" +
                        std::strerror(errno) + "); install junction-connector-host beside junctiond, or set "
                        "connector-host-program",
                    options.label);

    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
        throw Error(Errc::io, std::string("cannot make a socket for a connector process: ") + std::strerror(errno),
                    options.label);
    Fd ours{pair[0]}, theirs{pair[1]};
    int err[2];
    if (::pipe2(err, O_CLOEXEC) != 0)
        throw Error(Errc::io, std::string("cannot make a pipe for a connector process: ") + std::strerror(errno),
                    options.label);
    Fd err_read{err[0]}, err_write{err[1]};

    std::vector<std::string> args{program.string(),
                                  "--channel-fd", "3",
                                  "--library", library.string(),
                                  "--memory-limit-mb", std::to_string(options.memory_limit_mb),
                                  "--open-files", std::to_string(options.max_open_files),
                                  "--max-message-bytes", std::to_string(options.max_message_bytes),
                                  "--label", options.label};
    if (!options.work_dir.empty()) {
        std::error_code ec;
        fs::create_directories(options.work_dir, ec);
        args.insert(args.end(), {"--work-dir", options.work_dir.string()});
    }
    for (const auto& path : options.paths) args.insert(args.end(), {"--allow-path", path.string()});
    if (!options.confine) args.push_back("--no-confine");
    const std::vector<std::string> env = connector_environment(options);

    std::vector<char*> argv, envp;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, err_write.fd, 2);
    posix_spawn_file_actions_adddup2(&actions, theirs.fd, 3);  // dup2 clears FD_CLOEXEC
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    // Its own process group: a terminal's ^C reaches junctiond, which stops it in order.
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attributes, 0);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);  // what junctiond ignores or handles goes back to the default
    for (int sig : {SIGPIPE, SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD}) sigaddset(&defaults, sig);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, program.c_str(), &actions, &attributes, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (rc != 0)
        throw Error(Errc::plugin_rejected,
                    "cannot start " + program.string() + ": " + std::strerror(rc), options.label);
    return SpawnedProcess{pid, ours.release(), err_read.release()};
}

}  // namespace junction::core
