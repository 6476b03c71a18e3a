// Nothing that crashed the daemon is run again blindly at the next start (issue 13).
// Before a risky call into a connector's own code (loading and describing a library,
// creating or testing an instance) the daemon writes a marker naming the package into
// <state>/loading/ (fsync'd) and removes it when the call returns, however it returns. A
// marker still there at the next start means that call took the process down: the
// package is quarantined by its sha256 (<state>/quarantine/<sha256>, a one-line file
// saying why), and the registry refuses to load it or install it from the plugin folder
// again. A fixed build is a different file (another sha256) and loads; `junction connectors
// release NAME` lifts it (release()). Instance calls of a flow run (invoke) carry no marker:
// a run's crash count covers those (flow_interruptions.cpp).
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace junction::core {

class CrashMarkers {
public:
    // Turns every marker a previous process left into a quarantine entry, logging each
    // with its package and what to do.
    explicit CrashMarkers(const std::filesystem::path& state_dir);

    // The marker of one call in progress; removed when this goes.
    class Scope {
    public:
        Scope() = default;
        Scope(CrashMarkers* owner, std::string sha256) : owner_(owner), sha256_(std::move(sha256)) {}
        Scope(Scope&& other) noexcept
            : owner_(std::exchange(other.owner_, nullptr)), sha256_(std::move(other.sha256_)) {}
        Scope& operator=(Scope&&) = delete;
        ~Scope();

    private:
        CrashMarkers* owner_ = nullptr;
        std::string sha256_;
    };

    // `subject` names the package for a human (the dropped file's name, or name@version);
    // `action` says what the call does ("loading it", "creating an instance"). Calls on one
    // package share its marker while any of them runs: a swap that creates a hundred
    // instances under one scope of its own writes one file, not a hundred.
    Scope mark(const std::string& sha256, const std::string& subject, const std::string& action);

    // Why the package is quarantined; empty when it is not.
    std::string quarantine_reason(const std::string& sha256) const;

    // Quarantines a package for a reason found while running (its connector process kept
    // ending), and lifts a quarantine (`junction connectors release`). Both durable.
    void quarantine(const std::string& sha256, const std::string& reason);
    void release(const std::string& sha256);
    std::filesystem::path quarantine_file(const std::string& sha256) const { return quarantine_dir_ / sha256; }

private:
    void unmark(const std::string& sha256);

    std::filesystem::path markers_dir_, quarantine_dir_;
    struct Live {
        std::filesystem::path file;
        size_t scopes = 0;
    };
    std::mutex mutex_;  // the live markers; held while one is written, so none is missed
    std::map<std::string, Live> live_;
};

// mark() on `markers`, or nothing when there are none (a registry used without a state dir).
CrashMarkers::Scope mark_risky_call(CrashMarkers* markers, const std::string& sha256, const std::string& subject,
                                    const std::string& action);

}  // namespace junction::core
