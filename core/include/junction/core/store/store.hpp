// The one persistence interface of core. The embedded default is SQLite, one file in the
// state directory; several hosts share a PostgreSQL database. Both are one implementation
// over two engines (core/src/store, decision 0023), and nothing outside that folder knows
// which is in use. Every method is atomic: a method that changes several rows does it in
// one transaction. Implementations are thread-safe.
#pragma once

#include <junction/core/store/flow_store.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace junction::core {

// A credential as stored: AES-256-GCM output, never the clear value.
struct SealedSecret {
    std::string field;       // the config property it belongs to
    std::string nonce;       // 12 random bytes, fresh for every sealing
    std::string ciphertext;  // ciphertext followed by the 16-byte tag
};

// A credential the connector rotated (jn_host_api.credential_swap): `value` stands for the
// configured secret of the same field while that is still `base` (both sealed, `base` under
// the field name + "#base").
struct RotatedSecret {
    std::string field;
    SealedSecret base;
    SealedSecret value;
};

struct InstanceRecord {
    std::string id;           // "inst_" + 16 hex digits, never reused
    std::string name;         // unique, human: "shopify-uk"
    std::string connector;    // connector name
    std::string auth_method;  // one of the connector's auth methods
    std::string settings_json = "{}";  // the non-secret config fields, a JSON object
    std::vector<SealedSecret> secrets;
    std::vector<RotatedSecret> rotated;  // read with the record; written only by rotate_secret
    std::string version_pin;  // empty: follow the connector's current version
    int64_t created_ms = 0;
    int64_t updated_ms = 0;
    std::string test_status = "untested";  // "untested" | "ok" | "failing"
    std::string test_detail;               // the last test's detail or failure reason
    int64_t tested_ms = 0;
    // Bumped by every write of the settings or secrets; a write names the revision it read
    // (compare-and-set). 1 after insert.
    int64_t revision = 1;
};

struct InstanceQuery {
    std::string connector;   // only this connector's instances when not empty
    std::string after_name;  // paging: names strictly after this one
    size_t limit = 100;
    // Reads the credentials the connector rotated too (a listing that only shows which
    // fields are secret does without).
    bool with_rotations = true;
    // Reads each sealed secret's nonce and ciphertext; without, only its field name (all a
    // listing shows, and the ciphertexts are most of a page's bytes).
    bool with_sealed_values = true;
};

// Which version of a connector runs, and how updates reach it.
struct ConnectorState {
    std::string name;
    std::string active_version;
    std::string previous_version;          // where a rollback goes; empty before any update
    std::string update_policy = "manual";  // "manual" | "auto"
    // Where it runs, as set through the API: "process" | "in-process"; empty: as the config
    // file says (decision 0015).
    std::string isolation;
};

// One line of a connector's version history: what changed, who did it, how it ended.
struct HistoryEntry {
    int64_t seq = 0;
    std::string connector;
    std::string action;  // "activate" | "apply" | "rollback" | "policy" | "release" | "isolation"
    std::string from_version;
    std::string to_version;
    std::string actor;  // "admin", "auto-update", "startup"...
    int64_t at_ms = 0;
    std::string outcome;  // "done" | "refused"
    std::string detail;
};

// An instance's config as it was on one connector version, kept when an update migrates
// it, so a rollback can put it back exactly.
struct InstanceSnapshot {
    std::string instance_id;
    std::string connector_version;
    std::string settings_json;
    std::vector<SealedSecret> secrets;
};

// Re-seals one sealed value of an instance (master key rotation).
using Resealer = std::function<SealedSecret(const std::string& instance_id, const SealedSecret& sealed)>;

// Offered an instance's configured sealed value of a field and its rotation (each nullopt
// when there is none), returns the rotation to store, or nullopt to store nothing.
using Rotation = std::function<std::optional<RotatedSecret>(const std::optional<SealedSecret>& configured,
                                                            const std::optional<RotatedSecret>& rotated)>;

// Offered, when a version switch replaces an instance's configured secret (a migration or a
// snapshot restored), the value configured before and after and the connector's rotation of
// that field; returns the rotation re-based onto the new value, or nullopt to leave it.
using Rebase = std::function<std::optional<RotatedSecret>(const std::string& instance_id,
                                                          const std::optional<SealedSecret>& before,
                                                          const std::optional<SealedSecret>& after,
                                                          const RotatedSecret& rotation)>;

// One junctiond sharing the store, as its last heartbeat said (one host on SQLite).
struct HostRecord {
    std::string id;       // stable for a state directory (host-id in it)
    std::string name;     // for people: the machine's name, or the host-name setting
    std::string version;  // junctiond's
    std::string address;  // its admin API
    std::string state;    // "running" | "draining" | "stopped"
    int64_t started_ms = 0;
    int64_t seen_ms = 0;  // the last heartbeat
    // connector -> the version its unpinned instances run on this host (an update applied
    // through another host is done here once this says so).
    std::map<std::string, std::string> versions;
};

// News that another host changed what every host runs (a connector's version, a package),
// so a host acts on it at once rather than at its next look. Each host has one.
class StoreChanges {
public:
    virtual ~StoreChanges() = default;
    // True when a change was announced (or may have been missed: a connection made again)
    // within `timeout`; false after it, or as soon as interrupt() is called.
    virtual bool wait(std::chrono::milliseconds timeout) = 0;
    // Ends a wait() in progress, or the next one, at once (from any thread).
    virtual void interrupt() = 0;
};

// A connector package as installed through one host, kept so that every host sharing the
// store installs it too (each stages and checks its own copy).
struct StoredPackage {
    std::string sha256;  // of the bytes: the key
    std::string name, version;
    std::string file_name;  // NAME.so or NAME.connector.json: its kind
    std::string signature;  // base64, as the installing host verified it; empty: unsigned
    std::string bytes;      // empty in list_packages()
    int64_t added_ms = 0;
};

class Store {
public:
    virtual ~Store() = default;

    // Instances. insert throws Error(already_exists) when the name is taken.
    virtual void insert_instance(const InstanceRecord& record) = 0;
    // The one write of an instance's settings and secrets, a compare-and-set: replaces the
    // record with that id (secrets included) only if its stored revision is still
    // record.revision, the one the caller read, and stores revision + 1 (returned).
    // Throws Error(conflict) when another writer got there first, Error(not_found).
    virtual int64_t update_instance(const InstanceRecord& record) = 0;
    virtual bool delete_instance(std::string_view id) = 0;
    virtual std::optional<InstanceRecord> find_instance(std::string_view id_or_name) = 0;
    // Ordered by name.
    virtual std::vector<InstanceRecord> list_instances(const InstanceQuery& query) = 0;
    virtual size_t count_instances(std::string_view connector = {}, bool unpinned_only = false) = 0;
    // How many instances of a connector pin each version; key "" counts the unpinned ones.
    virtual std::map<std::string, size_t> count_instances_by_pin(std::string_view connector) = 0;
    virtual void record_test(std::string_view id, std::string_view status,
                             std::string_view detail, int64_t tested_ms) = 0;

    // Per-instance key/value state of the plugin (jn_host_api.state_*).
    virtual std::optional<std::string> state_get(std::string_view id, std::string_view key) = 0;
    virtual void state_set(std::string_view id, std::string_view key, std::string_view value) = 0;
    virtual void state_delete(std::string_view id, std::string_view key) = 0;

    // Small host settings (e.g. the master key check value).
    virtual std::optional<std::string> meta_get(std::string_view key) = 0;
    virtual void meta_set(std::string_view key, std::string_view value) = 0;

    // Master key rotation: every sealed value (instances' secrets, their rotated credentials
    // and their snapshots' secrets, which a rollback restores) is read, passed through `reseal` and written back
    // with the meta entries, in one transaction: all or nothing, and no writer in between.
    // Bumps the revision of every instance. Returns how many values were re-sealed.
    virtual size_t reseal_all_secrets(const Resealer& reseal,
                                      const std::vector<std::pair<std::string, std::string>>& meta) = 0;
    // A credential the connector rotated, read and written in one transaction (`decide`
    // compares and seals). Touches neither the instance's row nor its revision: writes of
    // its settings and secrets never conflict with a rotation, and a rotation outlives them
    // while the configured value stays the one it was rotated from. False when `decide`
    // stored nothing or the instance is gone.
    virtual bool rotate_secret(std::string_view instance_id, const std::string& field, const Rotation& decide) = 0;
    // How many sealed values the store holds (instances' and snapshots').
    virtual size_t count_sealed_values() = 0;

    // Connector versions and their history.
    virtual std::optional<ConnectorState> connector_state(std::string_view name) = 0;
    virtual void put_connector_state(const ConnectorState& state) = 0;
    // put_connector_state only while the stored active version is still `expected_active`
    // ("" when there is no row yet): another host may have switched it since it was read.
    // False, writing nothing, when it was.
    virtual bool replace_connector_state(const ConnectorState& state, std::string_view expected_active) = 0;
    // Every connector's state, by name.
    virtual std::vector<ConnectorState> list_connector_states() = 0;
    virtual void delete_connector_state(std::string_view name) = 0;
    virtual void append_history(const HistoryEntry& entry) = 0;
    // Newest first.
    virtual std::vector<HistoryEntry> history(std::string_view connector, size_t limit) = 0;
    virtual std::optional<InstanceSnapshot> snapshot(std::string_view instance_id,
                                                     std::string_view connector_version) = 0;

    // A version switch in one transaction: the instances' new configs, snapshots of the
    // configs they replace, the connector's new state and the history line. Each updated
    // record is written by the same compare-and-set as update_instance: when one changed
    // since it was read, nothing is written and Error(conflict) names the instance. Each
    // updated instance's rotated credentials are offered to `rebase` in the same
    // transaction: a migration or a restore does not undo the connector's rotation. Throws
    // Error(conflict), committing nothing, when the stored active version is no longer
    // `entry.from_version` (another host switched the connector since the switch read it).
    virtual void commit_version_switch(const ConnectorState& state,
                                       const std::vector<InstanceRecord>& updated,
                                       const std::vector<InstanceSnapshot>& snapshots,
                                       const HistoryEntry& entry, const Rebase& rebase = {}) = 0;

    // The hosts' heartbeats: put_host inserts or replaces the host's row (and its versions).
    virtual void put_host(const HostRecord& host) = 0;
    // By name, then id.
    virtual std::vector<HostRecord> list_hosts() = 0;
    // Forgets hosts whose last heartbeat is older than `seen_before_ms`; returns how many.
    virtual size_t forget_hosts(int64_t seen_before_ms) = 0;

    // Connector packages by content hash. put_package returns false when that hash is
    // stored already, or its version was withdrawn and `reinstate` is false (a host sharing
    // its own copy); `reinstate` (an admin installed it) takes the withdrawal back.
    // list_packages leaves out the bytes (oldest first).
    virtual bool put_package(const StoredPackage& package, bool reinstate) = 0;
    virtual std::vector<StoredPackage> list_packages() = 0;
    virtual std::optional<std::string> package_bytes(std::string_view sha256) = 0;
    // An uninstall: removes the packages of `name` at `version` (every version when empty)
    // and remembers each such version as withdrawn. Returns how many packages it removed.
    virtual size_t withdraw_packages(std::string_view name, std::string_view version, int64_t now_ms) = 0;
    // "name@version" of every withdrawn version.
    virtual std::set<std::string> withdrawn_packages() = 0;

    // Flows and their runs, in the same database.
    virtual FlowStore& flows() = 0;

    // "ok", or what the storage engine found wrong.
    virtual std::string integrity_check() = 0;
    virtual int schema_version() = 0;
    // True when several hosts may share this store (what they install is shared through it).
    virtual bool shared() = 0;
    // Where this host hears of the others' version switches and packages (PostgreSQL's
    // LISTEN/NOTIFY; on a store no other host writes, never). A connection of its own.
    virtual std::unique_ptr<StoreChanges> listen_for_changes() = 0;
    // The engine and the database, for the log and GET /v1/daemon; never a password.
    virtual std::string describe() = 0;
};

// Opens (creating and migrating as needed) the SQLite store in `file`.
std::unique_ptr<Store> open_sqlite_store(const std::filesystem::path& file);

// Opens (creating and migrating as needed) the PostgreSQL store named by a libpq
// connection string or URL ("postgresql://user@host:port/db"); the password comes from the
// URL or the usual libpq environment (PGPASSWORD, PGPASSFILE / ~/.pgpass). Messages name
// the database without the password.
std::unique_ptr<Store> open_postgres_store(const std::string& conninfo);

// True for a postgresql:// (or postgres://) URL.
bool is_postgres_location(std::string_view location);

// The store a host's `store` setting names: empty for SQLite in `state_dir`, else a
// PostgreSQL URL. Either is held by this process alone: a second host is refused.
std::unique_ptr<Store> open_store(const std::string& location, const std::filesystem::path& state_dir);

}  // namespace junction::core
