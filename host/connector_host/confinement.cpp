#include "confinement.hpp"

#include <junction/core/common/json.hpp>

#include <seccomp.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <fcntl.h>
#include <sched.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace junction::connector_host {

namespace fs = std::filesystem;

namespace {

// The Landlock ABI as the kernel defines it; Debian 12's header stops at ABI 2, so the
// later fields and rights are spelled here (their values are part of the kernel's ABI).
struct RulesetAttr {
    uint64_t handled_access_fs = 0;
    uint64_t handled_access_net = 0;  // ABI 4
    uint64_t scoped = 0;              // ABI 6
};
constexpr uint64_t kFsTruncate = 1ULL << 14;        // ABI 3
constexpr uint64_t kFsIoctlDev = 1ULL << 15;        // ABI 5
constexpr uint64_t kNetBindTcp = 1ULL << 0;         // ABI 4
constexpr uint64_t kNetConnectTcp = 1ULL << 1;      // ABI 4
constexpr uint64_t kScopeAbstractUnix = 1ULL << 0;  // ABI 6
constexpr uint64_t kScopeSignal = 1ULL << 1;        // ABI 6

constexpr uint64_t kFsRead = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;

int landlock_abi() {
    const long v = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return v < 0 ? 0 : static_cast<int>(v);
}

uint64_t fs_rights(int abi) {
    uint64_t all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;  // ABI 1: bits 0..12
    if (abi >= 2) all |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3) all |= kFsTruncate;
    if (abi >= 5) all |= kFsIoctlDev;
    return all;
}

// Allows `rights` (within what the ruleset handles) beneath `path`; a path that does not
// exist is skipped (a system without /lib64).
void allow(int ruleset, const fs::path& path, uint64_t rights, uint64_t handled, std::string& notes) {
    const int fd = ::open(path.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) return;
    landlock_path_beneath_attr rule{};
    rule.allowed_access = rights & handled;
    rule.parent_fd = fd;
    struct stat st{};
    if (::fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))  // rights on a file: only the file ones
        rule.allowed_access &= LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE |
                               LANDLOCK_ACCESS_FS_WRITE_FILE | kFsTruncate | kFsIoctlDev;
    if (::syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0)
        notes += "landlock: cannot allow " + path.string() + " (" + std::strerror(errno) + "); ";
    ::close(fd);
}

int apply_landlock(const ConfinementPlan& plan, std::string& notes) {
    const int abi = landlock_abi();
    if (abi <= 0) {
        notes += "landlock: not offered by this kernel; ";
        return 0;
    }
    RulesetAttr attr;
    attr.handled_access_fs = fs_rights(abi);
    size_t size = sizeof(uint64_t);
    if (abi >= 4) {
        attr.handled_access_net = kNetBindTcp | kNetConnectTcp;
        size = 2 * sizeof(uint64_t);
    }
    if (abi >= 6) {
        attr.scoped = kScopeAbstractUnix | kScopeSignal;
        size = sizeof attr;
    }
    const int ruleset = static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, size, 0));
    if (ruleset < 0) {
        notes += std::string("landlock: cannot create a ruleset (") + std::strerror(errno) + "); ";
        return 0;
    }
    const uint64_t handled = attr.handled_access_fs;
    // Read-only: the system's libraries, what the loader and the time zone need of /etc (not
    // all of it: the admin API's TLS key and the system's secrets live there), the connector's
    // own folder, and this process's own /proc entry (not /proc: other processes' environments).
    for (const char* path : {"/usr", "/lib", "/lib64", "/lib32", "/sys/devices/system/cpu", "/etc/ld.so.cache",
                             "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/timezone", "/etc/ssl/certs"})
        allow(ruleset, path, kFsRead, handled, notes);
    allow(ruleset, plan.library.parent_path(), kFsRead, handled, notes);
    allow(ruleset, "/proc/self", kFsRead, handled, notes);
    allow(ruleset, "/dev/null", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE, handled, notes);
    allow(ruleset, "/dev/urandom", LANDLOCK_ACCESS_FS_READ_FILE, handled, notes);
    if (!plan.work_dir.empty()) allow(ruleset, plan.work_dir, handled, handled, notes);
    for (const auto& path : plan.paths) allow(ruleset, path, handled, handled, notes);
    const bool ok = ::syscall(SYS_landlock_restrict_self, ruleset, 0) == 0;
    if (!ok) notes += std::string("landlock: cannot restrict the process (") + std::strerror(errno) + "); ";
    ::close(ruleset);
    return ok ? abi : 0;
}

bool apply_seccomp(std::string& notes) {
    scmp_filter_ctx filter = seccomp_init(SCMP_ACT_ALLOW);
    if (!filter) {
        notes += "seccomp: cannot make a filter; ";
        return false;
    }
    bool ok = true;
    // The channel to junctiond is the one socket a connector needs: HTTP goes through the
    // daemon. No new program (exec), no debugging of others, no io_uring (its operations
    // would not pass through this filter).
    for (const char* name : {"socket", "connect", "bind", "listen", "accept", "accept4", "execve", "execveat",
                             "ptrace", "process_vm_readv", "process_vm_writev", "io_uring_setup", "io_uring_enter",
                             "io_uring_register", "kexec_load", "init_module", "finit_module", "bpf",
                             "perf_event_open", "userfaultfd", "mount", "umount2", "pivot_root", "chroot",
                             "setns", "unshare", "keyctl", "add_key", "request_key", "fork", "vfork", "fsopen",
                             "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr"}) {
        const int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
        if (seccomp_rule_add(filter, SCMP_ACT_ERRNO(EPERM), nr, 0) != 0) ok = false;
    }
    // Threads, but no new process (a child would outlive a kill of this one, holding the
    // socket) and no namespaces. clone3 passes its flags in memory the filter cannot read:
    // ENOSYS makes the C library fall back to clone, whose flags it can.
    if (seccomp_rule_add(filter, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) != 0) ok = false;
    if (seccomp_rule_add(filter, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                         SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0)) != 0)
        ok = false;
    for (const uint64_t flag : {CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
                                CLONE_NEWCGROUP})
        if (seccomp_rule_add(filter, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)) != 0)
            ok = false;
    if (ok && seccomp_load(filter) != 0) ok = false;
    seccomp_release(filter);
    if (!ok) notes += "seccomp: the filter could not be loaded; ";
    return ok;
}

}  // namespace

void apply_limits(const Limits& limits) {
    const rlimit no_core{0, 0};
    if (::setrlimit(RLIMIT_CORE, &no_core) != 0) throw std::runtime_error("cannot disable core dumps");
    // Not dumpable: no core, and no other process of the same user may read its memory.
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (limits.open_files > 0) {
        const rlimit files{limits.open_files, limits.open_files};
        if (::setrlimit(RLIMIT_NOFILE, &files) != 0)
            throw std::runtime_error("cannot limit open files to " + std::to_string(limits.open_files));
    }
#if !defined(JUNCTION_SANITIZER_ADDRESS) && !defined(JUNCTION_SANITIZER_THREAD)
    // A sanitizer's shadow memory needs terabytes of address space: under a sanitizer build
    // the limit is the sanitizer's hard_rss_limit_mb, set by junctiond in the environment.
    if (limits.memory_limit_mb > 0) {
        const rlim_t bytes = static_cast<rlim_t>(limits.memory_limit_mb) << 20;
        const rlimit memory{bytes, bytes};
        if (::setrlimit(RLIMIT_AS, &memory) != 0)
            throw std::runtime_error("cannot limit memory to " + std::to_string(limits.memory_limit_mb) + " MiB");
    }
#endif
}

namespace {

// Gives up every capability (a junctiond run as root would hand them all to the connector):
// the bounding and ambient sets, then the permitted, effective and inheritable ones.
void drop_capabilities(std::string& notes) {
    ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    for (unsigned long cap = 0; cap < 64; ++cap)  // EPERM without CAP_SETPCAP: then there is none to drop
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno == EINVAL) break;
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct none[2]{};
    if (::syscall(SYS_capset, &header, none) != 0)
        notes += std::string("capabilities: cannot drop them (") + std::strerror(errno) + "); ";
}

}  // namespace

ConfinementReport confine(const ConfinementPlan& plan) {
    ConfinementReport report;
    drop_capabilities(report.notes);
    report.no_new_privs = ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0;
    if (!report.no_new_privs) report.notes += "no_new_privs: refused; ";
    report.landlock_abi = apply_landlock(plan, report.notes);
    report.seccomp = report.no_new_privs && apply_seccomp(report.notes);
    return report;
}

ConfinementReport probe_confinement() {
    ConfinementReport report;
    report.no_new_privs = true;  // every kernel since 3.5
    report.landlock_abi = landlock_abi();
    report.seccomp = ::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
    return report;
}

std::string to_json(const ConfinementReport& report) {
    return std::string(R"({"no_new_privs":)") + (report.no_new_privs ? "true" : "false") + R"(,"seccomp":)" +
           (report.seccomp ? "true" : "false") + R"(,"landlock_abi":)" + std::to_string(report.landlock_abi) +
           R"(,"notes":)" + core::json_quote(report.notes) + "}";
}

}  // namespace junction::connector_host
