#include "connector_host_probe.hpp"

#include <junction/core/common/error.hpp>
#include <junction/core/common/json.hpp>

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

namespace junction::daemon {

namespace fs = std::filesystem;

namespace {

// Runs `program --probe` and returns what it printed; throws std::runtime_error saying why
// there is no answer.
std::string run_probe(const fs::path& program, std::chrono::milliseconds deadline) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error(std::string("cannot make a pipe: ") + std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    const std::string path = program.string();
    char* argv[] = {const_cast<char*>(path.c_str()), const_cast<char*>("--probe"), nullptr};
    char* envp[] = {nullptr};  // nothing of junctiond's environment (its master key)
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, path.c_str(), &actions, nullptr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (rc != 0) {
        ::close(out[0]);
        throw std::runtime_error("cannot run it: " + std::string(std::strerror(rc)));
    }
    std::string text;
    bool timed_out = false;
    const auto until = std::chrono::steady_clock::now() + deadline;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        pollfd p{out[0], POLLIN, 0};
        if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) == 0) {
            timed_out = true;
            break;
        }
        char buffer[4096];
        const ssize_t n = ::read(out[0], buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || text.size() > 65536) break;
        text.append(buffer, static_cast<size_t>(n));
    }
    ::close(out[0]);
    if (timed_out) ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out)
        throw std::runtime_error("it did not answer within " + std::to_string(deadline.count()) + " ms and was killed");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error(WIFSIGNALED(status) ? "it was killed by signal " + std::to_string(WTERMSIG(status))
                                                     : "it exited with status " + std::to_string(WEXITSTATUS(status)) +
                                                           " (an older junction-connector-host without --probe?)");
    return text;
}

bool flag(const rapidjson::Value& v, const char* key) {
    auto it = v.FindMember(key);
    return it != v.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

}  // namespace

fs::path connector_host_program(const fs::path& configured) {
    if (!configured.empty()) return configured;
    std::error_code ec;
    return fs::read_symlink("/proc/self/exe", ec).parent_path() / "junction-connector-host";
}

ConnectorHostProbe probe_connector_host(const fs::path& program, std::chrono::milliseconds deadline) {
    ConnectorHostProbe probe;
    probe.program = program;
    try {
        const auto answer = core::parse_json_text(run_probe(program, deadline), "its answer");
        if (!answer.IsObject()) throw std::runtime_error("its answer is not a JSON object");
        probe.no_new_privs = flag(answer, "no_new_privs");
        probe.seccomp = flag(answer, "seccomp");
        auto abi = answer.FindMember("landlock_abi");
        probe.landlock_abi = abi != answer.MemberEnd() && abi->value.IsInt() ? abi->value.GetInt() : 0;
    } catch (const std::exception& e) {
        probe.error = program.string() + " --probe failed: " + e.what() +
                      "; connector processes may not start either: check the program (connector-host-program)";
    }
    return probe;
}

ConfinementWords describe_confinement(const ConnectorHostProbe& p, bool confine) {
    ConfinementWords w;
    w.confined.push_back("limits: memory (connector-memory-limit-mb), open files, a deadline per call; no core dumps, "
                         "and no other process may read its memory");
    if (!confine) {
        w.not_confined.push_back("connector-confine is false: connector processes are not confined beyond their "
                                 "limits; a connector can do whatever the junctiond user can");
        return w;
    }
    if (!p.error.empty()) {
        w.not_confined.push_back("unknown: the probe of the connector host failed (" + p.error + ")");
        return w;
    }
    const bool landlock = p.landlock_abi > 0;
    (p.no_new_privs ? w.confined : w.not_confined)
        .push_back(p.no_new_privs ? "no new privileges: setuid programs and file capabilities give a connector nothing"
                                  : "no_new_privs is not offered: a connector could gain privileges through setuid programs");
    (p.seccomp ? w.confined : w.not_confined)
        .push_back(p.seccomp ? "seccomp: a connector cannot open sockets (its HTTP goes through junctiond), run "
                               "programs, start processes, trace others, or use io_uring, bpf, mounts or namespaces"
                             : "seccomp is not offered: a connector can open network sockets, run programs and trace "
                               "other processes of the junctiond user");
    (landlock ? w.confined : w.not_confined)
        .push_back(landlock ? "Landlock ABI " + std::to_string(p.landlock_abi) +
                                  ": files: a connector reads only /usr, /lib, /etc and its library's folder, and writes "
                                  "only <state-dir>/connector-data/NAME and connector-paths"
                            : "Landlock is not offered: a connector can read and write every file the junctiond user "
                              "can (the store, the master key)");
    if (p.landlock_abi >= 4)
        w.confined.push_back("TCP: no TCP connect or bind (Landlock ABI 4)");
    else if (!p.seccomp)
        w.not_confined.push_back("TCP: a connector can connect anywhere itself, bypassing junctiond's egress policy");
    if (p.landlock_abi >= 6)
        w.confined.push_back("signals and abstract Unix sockets: only within its own process (Landlock ABI 6)");
    else
        w.not_confined.push_back("signals: a connector can signal other processes of the junctiond user, junctiond "
                                 "included (Landlock ABI 6 scopes them; this kernel has " +
                                 (landlock ? "ABI " + std::to_string(p.landlock_abi) : std::string("no Landlock")) + ")");
    return w;
}

}  // namespace junction::daemon
