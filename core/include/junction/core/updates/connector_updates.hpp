// Version changes of installed connectors: which version runs, how a newer one reaches
// every instance, and how to go back. An update (or a rollback) follows DESIGN.md:
//   1. load the target version beside the running one;
//   2. bring every unpinned instance's config to the target: kept when it fits, restored
//      from the snapshot taken when it last left that version, or migrated by the target
//      plugin's migrate_config; any that cannot be is named and nothing switches;
//   3. canary: one instance is created on the target and must pass test_connection;
//   4. the plugin objects of the running instances are created on the target, aside;
//   5. in one step (acquire() held off for the few milliseconds of a store transaction):
//      configs, snapshots, the new active version and a history line are committed, and
//      the new plugin objects replace the old ones.
// Calls in flight finish on the old version; it unloads when its last call returns. Any
// failure before step 5 leaves the old version serving, and is recorded in the history.
#pragma once

#include <junction/core/common/counter_table.hpp>
#include <junction/core/instances/instance_runtime.hpp>
#include <junction/core/registry/isolation_choices.hpp>
#include <junction/core/updates/active_versions.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace junction::core {

struct SwapReport {
    bool switched = false;
    std::string connector;
    std::string from_version;
    std::string to_version;
    std::string reason;  // why nothing switched
    size_t instances = 0;       // unpinned instances now on to_version
    size_t configs_migrated = 0;
    size_t configs_restored = 0;
    size_t plugin_objects_replaced = 0;
    double millis = 0;  // from the request to every instance on the new version
    // On a store several hosts share, once the switch was recorded: the live hosts that run
    // to_version now (this one first), and those that did not within the wait.
    struct Host {
        std::string id, name;
    };
    std::vector<Host> hosts_switched, hosts_not_switched;

    std::string to_json() const;
};

struct ConnectorStatus {
    ConnectorState state;
    std::string newest_installed;
    bool update_available = false;
    std::map<std::string, size_t> instances_by_version;  // version -> count (pinned included)

    std::string to_json() const;
};

// What `junction connectors release` did: per installed version, what it was quarantined
// for (empty: it was not, and nothing changed for it).
struct ReleaseReport {
    std::string connector;
    std::vector<ConnectorRegistry::Released> versions;
    bool active_loaded = false;  // the active version, refused at the start, runs now

    std::string to_json() const;
};

// What an isolation change did: where the connector runs now, whether that was an API
// choice or the config file's, and the move of its instances when it was reloaded.
struct IsolationChange {
    std::string connector;
    Isolation isolation = Isolation::process;
    bool chosen = false;      // set through the API (else the config file's)
    bool reloaded = false;    // the active version moved to the new mode now
    SwapReport swap;          // the move; refused: swap.reason says why, nothing changed

    std::string to_json() const;
};

class ConnectorUpdates {
public:
    // With `choices`, an isolation set through the API is kept in the store and restored at
    // the start; without, set_isolation refuses.
    ConnectorUpdates(Store& store, const SecretBox& secrets, ConnectorRegistry& registry,
                     InstanceRuntime& runtime, ActiveVersions& active, IsolationChoices* choices = nullptr);

    // At start: each installed connector runs its recorded active version, or its newest.
    void restore();

    // A version was installed: the first version of a connector becomes active; a newer
    // one is applied at once under the "auto" policy, or waits as "update available".
    void on_installed(const PackageInfo& package, const std::string& actor);

    // Applies `version` (the newest installed when empty). Never throws for a refused
    // update: the report says why, and the history keeps it.
    SwapReport apply(std::string_view connector, std::string_view version, const std::string& actor);
    SwapReport rollback(std::string_view connector, const std::string& actor);

    // Lifts the quarantine of `connector`'s versions (of `version` only when given), and
    // loads its active version if the quarantine had kept it from loading. Records each
    // release in the history. Throws Error(not_found) for a connector not installed.
    ReleaseReport release(std::string_view connector, std::string_view version, const std::string& actor);

    // Runs `connector` in `isolation` ("process" or "in-process"; "" for the config file's)
    // from now on and across restarts. When its active version runs in another mode, a copy
    // is loaded in the new one and every unpinned instance moves to it as in an update
    // (canary, then one switch; calls in flight finish on the old copy): no failed call. A
    // refused move changes nothing. Throws Error(invalid_argument) or Error(not_found).
    IsolationChange set_isolation(std::string_view connector, std::string_view isolation, const std::string& actor);

    // On a store several hosts share: moves this host to the active version the store
    // records for each connector, when another host switched it (an update, a rollback),
    // the way a switch here does (plugin objects built aside, then one exclusive step; calls
    // in flight finish on the old version) without recording it again. A version not
    // installed here (yet) is left for the next call. Returns the connectors it moved.
    std::vector<std::string> follow_store();

    // "manual" or "auto"; throws Error(invalid_argument) otherwise.
    void set_policy(std::string_view connector, std::string_view policy, const std::string& actor);

    ConnectorStatus status(std::string_view connector);
    std::vector<HistoryEntry> history(std::string_view connector, size_t limit = 50);

    // For /metrics: per connector, updates and rollbacks that switched (first) and that
    // were refused (second) since the start.
    const CounterTable& swap_counts() const { return swaps_; }

    // After `version` (every version when empty) was uninstalled: re-points or forgets the
    // connector, and on a shared store removes the packages, so no host installs them again.
    void after_uninstall(std::string_view connector, std::string_view version, const std::string& actor);
    // On a shared store: withdraws `version` (every version when empty) of a connector this
    // host does not have (one it refused), so no host installs it again. Returns how many
    // packages it removed from the store (0 on a store that is not shared).
    size_t withdraw_shared(std::string_view connector, std::string_view version, const std::string& actor);
    // Shares again what withdraw_shared took out when the uninstall then failed here.
    void reshare(std::string_view connector, std::string_view version);

private:
    // `expected_from`: refuse unless the store's active version is still this one.
    SwapReport switch_to(std::string_view connector, std::string target, const std::string& action,
                         const std::string& actor, const std::string& expected_from = {});
    // A move of every unpinned instance onto `next` (steps 2 to 5), committing `next_state`.
    struct Move {
        std::string connector, action, actor;
        ConnectorState state, next_state;
        ConnectorVersionPtr next;
        std::function<void()> on_commit;  // inside the switch, after the store's commit
        std::string detail;               // the history line's start
        std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
        SwapReport report;
    };
    // Plans and commits the move; plans again when an instance record changed underneath.
    SwapReport move_to(Move& move);
    SwapReport plan_and_commit(Move& move);
    SwapReport refuse(Move& move, const std::string& why);
    void activate(const std::string& connector, const std::string& version, const std::string& actor,
                  const std::string& previous = {});
    // Runs the connector's recorded active version, or activates `newest` (its gate held).
    void restore_locked(const std::string& connector, const std::string& newest, const std::string& actor);
    // follow_store for one connector, its gate held; true when it moved.
    bool follow_locked(const std::string& connector);
    void record(const std::string& connector, const std::string& action, const std::string& from,
                const std::string& to, const std::string& actor, const std::string& outcome,
                const std::string& detail);

    Store& store_;
    const SecretBox& secrets_;
    ConnectorRegistry& registry_;
    InstanceRuntime& runtime_;
    ActiveVersions& active_;
    IsolationChoices* choices_;
    // One version change (or isolation, policy, release) of a connector at a time. Per
    // connector: a swap holds it while it builds plugin objects and runs a canary, which
    // must not hold up another connector's update.
    std::mutex& gate(std::string_view connector);
    std::mutex gates_mutex_;
    std::map<std::string, std::unique_ptr<std::mutex>, std::less<>> gates_;
    CounterTable swaps_;
    std::mutex unfollowed_mutex_;
    std::set<std::string> unfollowed_;  // name@version not installed here, said once in the log
};

}  // namespace junction::core
