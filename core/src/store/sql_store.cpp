// The store, written once for both engines (sql_connection.hpp): SQLite, one file in the
// state directory, and PostgreSQL, shared by several hosts. Forward-only schema migrations
// recorded in schema_version, one transaction per multi-row change. Instances, connectors
// and secrets; flows live in sql_flow_store.cpp on the same connection.
#include "sql_connection.hpp"
#include "sql_flow_store.hpp"

#include <junction/core/common/error.hpp>
#include <junction/core/common/log.hpp>
#include <junction/core/store/store.hpp>

#include <map>
#include <set>
#include <unordered_map>
#include <mutex>

namespace junction::core {

namespace {

using sql::Statement;

constexpr const char* kInstanceColumns =
    "id, name, connector, auth_method, settings, version_pin, created_ms, updated_ms, "
    "test_status, test_detail, tested_ms, revision";

class SqlStore final : public Store {
public:
    explicit SqlStore(std::unique_ptr<sql::Connection> connection)
        : conn_(std::move(connection)), flows_(make_sql_flow_store(*conn_)) {}

    FlowStore& flows() override { return *flows_; }
    bool shared() override { return conn_->shared(); }

    std::unique_ptr<StoreChanges> listen_for_changes() override { return conn_->listen_for_changes(); }

    void put_host(const HostRecord& h) override {
        std::lock_guard lock(mutex_);
        transaction([&] {
            Statement s(*conn_, "INSERT INTO hosts(id, name, version, address, state, started_ms, seen_ms) "
                                "VALUES(?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET name=excluded.name, "
                                "version=excluded.version, address=excluded.address, state=excluded.state, "
                                "started_ms=excluded.started_ms, seen_ms=excluded.seen_ms");
            s.bind_text(1, h.id).bind_text(2, h.name).bind_text(3, h.version).bind_text(4, h.address)
                .bind_text(5, h.state).bind(6, h.started_ms).bind(7, h.seen_ms).run();
            Statement d(*conn_, "DELETE FROM host_versions WHERE host_id=?");
            d.bind_text(1, h.id).run();
            for (const auto& [connector, version] : h.versions) {
                Statement v(*conn_, "INSERT INTO host_versions(host_id, connector, version) VALUES(?,?,?)");
                v.bind_text(1, h.id).bind_text(2, connector).bind_text(3, version).run();
            }
        });
    }

    std::vector<HostRecord> list_hosts() override {
        std::lock_guard lock(mutex_);
        std::vector<HostRecord> out;
        std::map<std::string, size_t> by_id;
        Statement s(*conn_, "SELECT id, name, version, address, state, started_ms, seen_ms FROM hosts "
                            "ORDER BY name, id");
        while (s.step()) {
            by_id[s.text(0)] = out.size();
            out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.integer(5), s.integer(6), {}});
        }
        Statement v(*conn_, "SELECT host_id, connector, version FROM host_versions");
        while (v.step())
            if (auto it = by_id.find(v.text(0)); it != by_id.end()) out[it->second].versions[v.text(1)] = v.text(2);
        return out;
    }

    bool put_package(const StoredPackage& p, bool reinstate) override {
        std::lock_guard lock(mutex_);
        bool added = false;
        transaction([&] {
            Statement w(*conn_, reinstate ? "DELETE FROM withdrawn_packages WHERE name=? AND version=?"
                                          : "SELECT 1 FROM withdrawn_packages WHERE name=? AND version=?");
            w.bind_text(1, p.name).bind_text(2, p.version);
            if (w.step() && !reinstate) return;  // withdrawn: only an admin brings it back
            Statement s(*conn_, "INSERT INTO packages(sha256, name, version, file_name, signature, bytes, added_ms) "
                                "VALUES(?,?,?,?,?,?,?) ON CONFLICT(sha256) DO NOTHING");
            s.bind_text(1, p.sha256).bind_text(2, p.name).bind_text(3, p.version).bind_text(4, p.file_name)
                .bind_text(5, p.signature).bind(6, p.bytes).bind(7, p.added_ms).run();
            added = s.changes() == 1;
            if (added) conn_->announce();  // the other hosts install it
        });
        return added;
    }

    std::vector<StoredPackage> list_packages() override {
        std::lock_guard lock(mutex_);
        Statement s(*conn_, "SELECT sha256, name, version, file_name, signature, added_ms FROM packages "
                            "ORDER BY added_ms, sha256");
        std::vector<StoredPackage> out;
        while (s.step()) out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), {}, s.integer(5)});
        return out;
    }

    std::optional<std::string> package_bytes(std::string_view sha256) override {
        std::lock_guard lock(mutex_);
        Statement s(*conn_, "SELECT bytes FROM packages WHERE sha256=?");
        s.bind_text(1, sha256);
        if (!s.step()) return std::nullopt;
        return s.text(0);
    }

    size_t withdraw_packages(std::string_view name, std::string_view version, int64_t now_ms) override {
        std::lock_guard lock(mutex_);
        size_t removed = 0;
        transaction([&] {
            std::set<std::string> versions;
            if (!version.empty()) versions.insert(std::string(version));
            {
                Statement s(*conn_, "SELECT DISTINCT version FROM packages WHERE name=?1 AND (?2='' OR version=?2)");
                s.bind_text(1, name).bind_text(2, version);
                while (s.step()) versions.insert(s.text(0));
            }
            for (const auto& v : versions) {
                Statement w(*conn_, "INSERT INTO withdrawn_packages(name, version, at_ms) VALUES(?,?,?) "
                                    "ON CONFLICT(name, version) DO UPDATE SET at_ms=excluded.at_ms");
                w.bind_text(1, name).bind_text(2, v).bind(3, now_ms).run();
            }
            Statement d(*conn_, "DELETE FROM packages WHERE name=?1 AND (?2='' OR version=?2)");
            d.bind_text(1, name).bind_text(2, version).run();
            removed = static_cast<size_t>(d.changes());
        });
        return removed;
    }

    std::set<std::string> withdrawn_packages() override {
        std::lock_guard lock(mutex_);
        Statement s(*conn_, "SELECT name, version FROM withdrawn_packages");
        std::set<std::string> out;
        while (s.step()) out.insert(s.text(0) + "@" + s.text(1));
        return out;
    }

    size_t forget_hosts(int64_t seen_before_ms) override {
        std::lock_guard lock(mutex_);
        size_t forgotten = 0;
        transaction([&] {
            Statement v(*conn_, "DELETE FROM host_versions WHERE host_id IN (SELECT id FROM hosts WHERE seen_ms < ?)");
            v.bind(1, seen_before_ms).run();
            Statement s(*conn_, "DELETE FROM hosts WHERE seen_ms < ?");
            s.bind(1, seen_before_ms).run();
            forgotten = static_cast<size_t>(s.changes());
        });
        return forgotten;
    }

    void insert_instance(const InstanceRecord& r) override {
        std::lock_guard lock(mutex_);
        transaction([&] {
            Statement s(*conn_, "INSERT INTO instances(id, name, connector, auth_method, settings, "
                             "version_pin, created_ms, updated_ms, test_status, test_detail, "
                             "tested_ms) VALUES(?,?,?,?,?,?,?,?,?,?,?)");
            write_instance_row(s, r);
            write_secrets(r.id, r.secrets);
        });
    }

    int64_t update_instance(const InstanceRecord& r) override {
        std::lock_guard lock(mutex_);
        transaction([&] {
            Statement s(*conn_, "UPDATE instances SET name=?2, connector=?3, auth_method=?4, "
                             "settings=?5, version_pin=?6, created_ms=?7, updated_ms=?8, "
                             "test_status=?9, test_detail=?10, tested_ms=?11, revision=revision+1 "
                             "WHERE id=?1 AND revision=?12");
            s.bind(12, r.revision);
            write_instance_row(s, r);
            finish_compare_and_set(r, s.changes());
        });
        return r.revision + 1;
    }

    bool delete_instance(std::string_view id) override {
        std::lock_guard lock(mutex_);
        Statement s(*conn_, "DELETE FROM instances WHERE id=?");
        s.bind_text(1, id).run();
        return s.changes() > 0;
    }

    std::optional<InstanceRecord> find_instance(std::string_view id_or_name) override {
        std::lock_guard lock(mutex_);
        const std::string sql = std::string("SELECT ") + kInstanceColumns +
                                " FROM instances WHERE id=?1 OR name=?1";
        Statement s(*conn_, sql);
        s.bind_text(1, id_or_name);
        if (!s.step()) return std::nullopt;
        InstanceRecord r = read_instance(s);
        r.secrets = read_secrets(r.id);
        r.rotated = read_rotated(r.id);
        return r;
    }

    // One statement for the page and its sealed secrets (a row per secret, or one for an
    // instance without any), one more for the rotations of those instances when asked: a
    // page of 100 costs two round trips, not 201. The page is chosen by name IN (...), not
    // joined from a subquery: SQLite then walks both indexes in the order asked for, where
    // a joined subquery's rows went through a sort of their own.
    std::vector<InstanceRecord> list_instances(const InstanceQuery& q) override {
        std::lock_guard lock(mutex_);
        static const std::string columns = [] {
            std::string prefixed = "i.";
            for (const char* c = kInstanceColumns; *c; ++c) prefixed += *c == ' ' ? std::string(" i.") : std::string(1, *c);
            return prefixed;
        }();
        const char* sealed = q.with_sealed_values ? "s.nonce, s.ciphertext" : "'', ''";
        Statement s(*conn_, "SELECT " + columns + ", s.field, " + sealed +
                                " FROM instances i LEFT JOIN instance_secrets s ON s.instance_id = i.id "
                                "WHERE i.name IN (SELECT name FROM instances WHERE (?1 = '' OR connector = ?1) "
                                "AND name > ?2 ORDER BY name LIMIT ?3) ORDER BY i.name, s.field");
        s.bind_text(1, q.connector).bind_text(2, q.after_name).bind(3, static_cast<int64_t>(q.limit));
        std::vector<InstanceRecord> out;
        constexpr int kSecret = 12;  // the first column after kInstanceColumns
        while (s.step()) {
            if (out.empty() || out.back().id != s.text(0)) out.push_back(read_instance(s));
            if (!s.is_null(kSecret)) out.back().secrets.push_back({s.text(kSecret), s.text(kSecret + 1), s.text(kSecret + 2)});
        }
        if (q.with_rotations && !out.empty()) {
            // By the ids read above: a page computed again could differ on a shared database.
            // In groups of up to 256 parameters (an old SQLite takes 999 at most), each group
            // padded with '' to a power of two: a few statements to keep prepared.
            constexpr size_t kGroup = 256;
            std::map<std::string, InstanceRecord*> by_id;
            for (auto& record : out) by_id[record.id] = &record;
            for (size_t from = 0; from < out.size(); from += kGroup) {
                const size_t n = std::min(kGroup, out.size() - from);
                size_t slots = 1;
                while (slots < n) slots *= 2;
                std::string ids;
                for (size_t k = 1; k <= slots; ++k) ids += (k > 1 ? ",?" : "?") + std::to_string(k);
                Statement r(*conn_, "SELECT instance_id, field, base_nonce, base_ciphertext, nonce, ciphertext FROM "
                                    "instance_rotated_secrets WHERE instance_id IN (" + ids + ") ORDER BY instance_id, field");
                for (size_t k = 0; k < slots; ++k)
                    r.bind_text(static_cast<int>(k + 1), k < n ? std::string_view(out[from + k].id) : std::string_view());
                while (r.step()) {
                    const auto it = by_id.find(r.text(0));
                    if (it == by_id.end()) continue;
                    const std::string field = r.text(1);
                    it->second->rotated.push_back({field, {field + "#base", r.text(2), r.text(3)}, {field, r.text(4), r.text(5)}});
                }
            }
        }
        return out;
    }

    size_t count_instances(std::string_view connector, bool unpinned_only) override {
        std::lock_guard lock(mutex_);
        Statement s(*conn_, "SELECT count(*) FROM instances WHERE (?1 = '' OR connector = ?1) AND "
                         "(?2 = 0 OR version_pin = '')");
        s.bind_text(1, connector).bind(2, static_cast<int64_t>(unpinned_only));
        s.step();
        return static_cast<size_t>(s.integer(0));
    }

    std::map<std::string, size_t> count_instances_by_pin(std::string_view connector) override {
        std::lock_guard lock(mutex_);
        Statement s(*conn_, "SELECT version_pin, count(*) FROM instances WHERE connector = ? "
                                 "GROUP BY version_pin");
        s.bind_text(1, connector);
        std::map<std::string, size_t> out;
        while (s.step()) out[s.text(0)] = static_cast<size_t>(s.integer(1));
        return out;
    }

    void record_test(std::string_view id, std::string_view status, std::string_view detail,
                     int64_t tested_ms) override {
        std::lock_guard lock(mutex_);
        Statement s(*conn_, "UPDATE instances SET test_status=?, test_detail=?, tested_ms=? WHERE id=?");
        s.bind_text(1, status).bind_text(2, detail).bind(3, tested_ms).bind_text(4, id).run();
    }

    std::optional<std::string> state_get(std::string_view id, std::string_view key) override {
        std::lock_guard lock(mutex_);
        Statement s(*conn_, "SELECT value FROM instance_state WHERE instance_id=? AND key=?");
        s.bind_text(1, id).bind_text(2, key);
        if (!s.step()) return std::nullopt;
        return s.text(0);
    }
    void state_set(std::string_view id, std::string_view key, std::string_view value) override {
        std::lock_guard lock(mutex_);
        Statement s(*conn_, "INSERT INTO instance_state(instance_id, key, value) VALUES(?,?,?) "
                         "ON CONFLICT(instance_id, key) DO UPDATE SET value=excluded.value");
        s.bind_text(1, id).bind_text(2, key).bind(3, value).run();
    }
    void state_delete(std::string_view id, std::string_view key) override {
        std::lock_guard lock(mutex_);
        Statement s(*conn_, "DELETE FROM instance_state WHERE instance_id=? AND key=?");
        s.bind_text(1, id).bind_text(2, key).run();
    }

    std::optional<std::string> meta_get(std::string_view key) override {
        std::lock_guard lock(mutex_);
        Statement s(*conn_, "SELECT value FROM meta WHERE key=?");
        s.bind_text(1, key);
        if (!s.step()) return std::nullopt;
        return s.text(0);
    }
    void meta_set(std::string_view key, std::string_view value) override {
        std::lock_guard lock(mutex_);
        write_meta(key, value);
    }

    size_t reseal_all_secrets(const Resealer& reseal,
                              const std::vector<std::pair<std::string, std::string>>& meta) override {
        std::lock_guard lock(mutex_);
        size_t count = 0;
        transaction([&] {
            conn_->lock_for_rewrite({"meta", "instances", "instance_secrets", "instance_snapshots",
                                     "instance_snapshot_secrets", "instance_rotated_secrets"});
            // Read first, then write: no statement updates a table it is still stepping over.
            struct Sealed { std::string id, version; SealedSecret value; };
            std::vector<Sealed> values;
            {
                Statement s(*conn_, "SELECT instance_id, '', field, nonce, ciphertext FROM instance_secrets "
                                 "UNION ALL SELECT instance_id, connector_version, field, nonce, ciphertext "
                                 "FROM instance_snapshot_secrets");
                while (s.step()) values.push_back({s.text(0), s.text(1), {s.text(2), s.text(3), s.text(4)}});
            }
            std::set<std::pair<std::string, std::string>> dropped;  // snapshots (instance, version)
            for (const auto& v : values) {
                if (dropped.count({v.id, v.version})) continue;
                SealedSecret next;
                try {
                    next = reseal(v.id, v.value);
                } catch (const Error& e) {
                    // A snapshot a rotation before this version left sealed with a key that
                    // is gone: nothing can open it, so a rollback to it could only fail. It
                    // goes, and the rotation goes on. An instance's own value stops it.
                    if (v.version.empty()) throw;
                    Statement del(*conn_, "DELETE FROM instance_snapshots WHERE instance_id=? AND connector_version=?");
                    del.bind_text(1, v.id).bind_text(2, v.version).run();
                    dropped.insert({v.id, v.version});
                    log_warn("store", "the snapshot of instance " + v.id + " at version " + v.version +
                                          " was sealed with an earlier key and cannot be opened; it is removed "
                                          "(a rollback to that version will have no snapshot to restore)");
                    continue;
                }
                ++count;
                if (v.version.empty()) {
                    Statement u(*conn_, "UPDATE instance_secrets SET nonce=?, ciphertext=? WHERE "
                                     "instance_id=? AND field=?");
                    u.bind(1, next.nonce).bind(2, next.ciphertext).bind_text(3, v.id).bind_text(4, v.value.field).run();
                } else {
                    Statement u(*conn_, "UPDATE instance_snapshot_secrets SET nonce=?, ciphertext=? WHERE "
                                     "instance_id=? AND connector_version=? AND field=?");
                    u.bind(1, next.nonce).bind(2, next.ciphertext).bind_text(3, v.id).bind_text(4, v.version)
                        .bind_text(5, v.value.field).run();
                }
            }
            // Rotated credentials: both values of each (an instance's own: a failure stops it).
            std::vector<std::pair<std::string, RotatedSecret>> rotated;
            {
                Statement s(*conn_, "SELECT instance_id, field FROM instance_rotated_secrets");
                std::vector<std::pair<std::string, std::string>> keys;
                while (s.step()) keys.emplace_back(s.text(0), s.text(1));
                for (const auto& [id, field] : keys)
                    for (auto& r : read_rotated(id))
                        if (r.field == field) rotated.emplace_back(id, std::move(r));
            }
            for (const auto& [id, r] : rotated) {
                const SealedSecret base = reseal(id, r.base), value = reseal(id, r.value);
                count += 2;
                Statement u(*conn_, "UPDATE instance_rotated_secrets SET base_nonce=?, base_ciphertext=?, "
                                 "nonce=?, ciphertext=? WHERE instance_id=? AND field=?");
                u.bind(1, base.nonce).bind(2, base.ciphertext).bind(3, value.nonce).bind(4, value.ciphertext)
                    .bind_text(5, id).bind_text(6, r.field).run();
            }
            exec("UPDATE instances SET revision = revision + 1");
            for (const auto& [k, v] : meta) write_meta(k, v);
        });
        return count;
    }

    bool rotate_secret(std::string_view instance_id, const std::string& field, const Rotation& decide) override {
        std::lock_guard lock(mutex_);
        bool written = false;
        transaction([&] {
            std::optional<SealedSecret> configured;
            {
                // The instance's row is locked first: no write of its secrets until the
                // rotation is stored. Its secret is read after the lock, by a statement of
                // its own, so it is the one a writer that held the lock before committed.
                Statement lock_row(*conn_, "SELECT id FROM instances i WHERE id = ?" + conn_->row_lock("i"));
                lock_row.bind_text(1, instance_id);
                if (!lock_row.step()) return;  // gone
                Statement s(*conn_, "SELECT nonce, ciphertext FROM instance_secrets WHERE instance_id = ? AND field = ?");
                s.bind_text(1, instance_id).bind_text(2, field);
                if (s.step()) configured = SealedSecret{field, s.text(0), s.text(1)};
            }
            std::optional<RotatedSecret> rotated;
            for (auto& r : read_rotated(std::string(instance_id)))
                if (r.field == field) rotated = std::move(r);
            const std::optional<RotatedSecret> next = decide(configured, rotated);
            if (!next) return;
            Statement u(*conn_, "INSERT INTO instance_rotated_secrets(instance_id, field, base_nonce, "
                             "base_ciphertext, nonce, ciphertext) VALUES(?,?,?,?,?,?) ON CONFLICT(instance_id, field) "
                             "DO UPDATE SET base_nonce=excluded.base_nonce, base_ciphertext=excluded.base_ciphertext, "
                             "nonce=excluded.nonce, ciphertext=excluded.ciphertext");
            u.bind_text(1, instance_id).bind_text(2, field).bind(3, next->base.nonce).bind(4, next->base.ciphertext)
                .bind(5, next->value.nonce).bind(6, next->value.ciphertext).run();
            written = true;
        });
        return written;
    }

    size_t count_sealed_values() override {
        std::lock_guard lock(mutex_);
        Statement s(*conn_, "SELECT (SELECT count(*) FROM instance_secrets) + "
                                 "(SELECT count(*) FROM instance_snapshot_secrets) + "
                                 "2 * (SELECT count(*) FROM instance_rotated_secrets)");
        s.step();
        return static_cast<size_t>(s.integer(0));
    }

    std::optional<ConnectorState> connector_state(std::string_view name) override {
        std::lock_guard lock(mutex_);
        Statement s(*conn_, "SELECT name, active_version, previous_version, update_policy, isolation "
                         "FROM connectors WHERE name=?");
        s.bind_text(1, name);
        if (!s.step()) return std::nullopt;
        return ConnectorState{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4)};
    }
    void put_connector_state(const ConnectorState& c) override {
        std::lock_guard lock(mutex_);
        transaction([&] {
            write_connector_state(c);
            conn_->announce();
        });
    }
    bool replace_connector_state(const ConnectorState& c, std::string_view expected_active) override {
        std::lock_guard lock(mutex_);
        bool replaced = false;
        transaction([&] {
            const auto stored = stored_active_version(c.name);
            if (stored.value_or("") != expected_active) return;
            // No row to lock: of two hosts inserting it, the first wins.
            if (!write_connector_state(c, !stored)) return;
            conn_->announce();
            replaced = true;
        });
        return replaced;
    }
    std::vector<ConnectorState> list_connector_states() override {
        std::lock_guard lock(mutex_);
        Statement s(*conn_, "SELECT name, active_version, previous_version, update_policy, isolation "
                            "FROM connectors ORDER BY name");
        std::vector<ConnectorState> out;
        while (s.step()) out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.text(4)});
        return out;
    }
    void delete_connector_state(std::string_view name) override {
        std::lock_guard lock(mutex_);
        Statement s(*conn_, "DELETE FROM connectors WHERE name=?");
        s.bind_text(1, name).run();
    }
    void append_history(const HistoryEntry& e) override {
        std::lock_guard lock(mutex_);
        write_history(e);
    }
    std::vector<HistoryEntry> history(std::string_view connector, size_t limit) override {
        std::lock_guard lock(mutex_);
        Statement s(*conn_, "SELECT seq, connector, action, from_version, to_version, actor, at_ms, "
                         "outcome, detail FROM connector_history WHERE connector=? "
                         "ORDER BY seq DESC LIMIT ?");
        s.bind_text(1, connector).bind(2, static_cast<int64_t>(limit));
        std::vector<HistoryEntry> out;
        while (s.step())
            out.push_back({s.integer(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5),
                           s.integer(6), s.text(7), s.text(8)});
        return out;
    }
    std::optional<InstanceSnapshot> snapshot(std::string_view id, std::string_view version) override {
        std::lock_guard lock(mutex_);
        Statement s(*conn_, "SELECT settings FROM instance_snapshots WHERE instance_id=? AND "
                         "connector_version=?");
        s.bind_text(1, id).bind_text(2, version);
        if (!s.step()) return std::nullopt;
        InstanceSnapshot snap{std::string(id), std::string(version), s.text(0), {}};
        Statement sec(*conn_, "SELECT field, nonce, ciphertext FROM instance_snapshot_secrets WHERE "
                           "instance_id=? AND connector_version=? ORDER BY field");
        sec.bind_text(1, id).bind_text(2, version);
        while (sec.step()) snap.secrets.push_back({sec.text(0), sec.text(1), sec.text(2)});
        return snap;
    }
    void commit_version_switch(const ConnectorState& state, const std::vector<InstanceRecord>& updated,
                               const std::vector<InstanceSnapshot>& snapshots,
                               const HistoryEntry& entry, const Rebase& rebase) override {
        std::lock_guard lock(mutex_);
        transaction([&] {
            if (const auto stored = stored_active_version(state.name); stored && *stored != entry.from_version)
                throw Error(Errc::conflict, "another host switched " + state.name + " to " + *stored +
                                                " while this switch from " + entry.from_version + " was planned");
            // An instance deleted since the switch read it is a conflict like one written
            // since (the switch plans again without it), not a missing instance (a 404) or
            // a snapshot without its instance.
            for (const auto& r : updated) {
                Statement now(*conn_, "SELECT 1 FROM instances i WHERE id=?" + conn_->row_lock("i"));
                now.bind_text(1, r.id);
                if (!now.step())
                    throw Error(Errc::conflict, "instance " + r.name + " was deleted since it was read");
            }
            for (const auto& snap : snapshots) {
                Statement del(*conn_, "DELETE FROM instance_snapshots WHERE instance_id=? AND connector_version=?");
                del.bind_text(1, snap.instance_id).bind_text(2, snap.connector_version).run();
                Statement ins(*conn_, "INSERT INTO instance_snapshots(instance_id, connector_version, "
                                   "settings) VALUES(?,?,?)");
                ins.bind_text(1, snap.instance_id).bind_text(2, snap.connector_version)
                    .bind_text(3, snap.settings_json).run();
                for (const auto& sec : snap.secrets) {
                    Statement si(*conn_, "INSERT INTO instance_snapshot_secrets(instance_id, "
                                      "connector_version, field, nonce, ciphertext) VALUES(?,?,?,?,?)");
                    si.bind_text(1, snap.instance_id).bind_text(2, snap.connector_version)
                        .bind_text(3, sec.field).bind(4, sec.nonce).bind(5, sec.ciphertext).run();
                }
            }
            for (const auto& r : updated) {
                const std::vector<SealedSecret> before = read_secrets(r.id);
                Statement u(*conn_, "UPDATE instances SET settings=?, updated_ms=?, test_status=?, "
                                 "test_detail=?, revision=revision+1 WHERE id=? AND revision=?");
                u.bind_text(1, r.settings_json).bind(2, r.updated_ms).bind_text(3, r.test_status)
                    .bind_text(4, r.test_detail).bind_text(5, r.id).bind(6, r.revision).run();
                finish_compare_and_set(r, u.changes());
                if (rebase) rebase_rotations(r, before, rebase);
            }
            write_connector_state(state);
            write_history(entry);
            conn_->announce();  // the other hosts follow the switch (at the commit)
        });
    }

    std::string describe() override { return conn_->describe(); }

    std::string integrity_check() override {
        std::lock_guard lock(mutex_);
        return conn_->integrity_check();
    }

    int schema_version() override {
        std::lock_guard lock(mutex_);
        return read_version();
    }

private:
    static void bind_instance(Statement& s, const InstanceRecord& r) {
        s.bind_text(1, r.id).bind_text(2, r.name).bind_text(3, r.connector)
            .bind_text(4, r.auth_method).bind_text(5, r.settings_json).bind_text(6, r.version_pin)
            .bind(7, r.created_ms).bind(8, r.updated_ms).bind_text(9, r.test_status)
            .bind_text(10, r.test_detail).bind(11, r.tested_ms);
    }

    // Runs an INSERT or UPDATE of an instance row; a taken name says so in words.
    static void write_instance_row(Statement& s, const InstanceRecord& r) {
        bind_instance(s, r);
        try {
            s.run();
        } catch (const Error& e) {
            if (e.code() == Errc::already_exists)
                throw Error(Errc::already_exists,
                            "an instance named '" + r.name + "' already exists; choose another name");
            throw;
        }
    }

    // The second half of the one compare-and-set of an instance, after its
    // "UPDATE ... WHERE id=? AND revision=<read>" ran: no row changed means it is gone or
    // someone else wrote since the read (the transaction then rolls back). Else its secrets
    // are replaced by the record's.
    void finish_compare_and_set(const InstanceRecord& r, int64_t changed) {
        if (changed == 0) {
            Statement now(*conn_, "SELECT revision FROM instances WHERE id=?");
            now.bind_text(1, r.id);
            if (!now.step()) throw Error(Errc::not_found, "no instance with id " + r.id);
            throw Error(Errc::conflict, "instance " + r.name + " changed since it was read (revision " +
                                            std::to_string(r.revision) + " was read, it is now at " +
                                            std::to_string(now.integer(0)) + ")");
        }
        Statement del(*conn_, "DELETE FROM instance_secrets WHERE instance_id=?");
        del.bind_text(1, r.id).run();
        write_secrets(r.id, r.secrets);
    }

    static InstanceRecord read_instance(const Statement& s) {
        InstanceRecord r;
        r.id = s.text(0);
        r.name = s.text(1);
        r.connector = s.text(2);
        r.auth_method = s.text(3);
        r.settings_json = s.text(4);
        r.version_pin = s.text(5);
        r.created_ms = s.integer(6);
        r.updated_ms = s.integer(7);
        r.test_status = s.text(8);
        r.test_detail = s.text(9);
        r.tested_ms = s.integer(10);
        r.revision = s.integer(11);
        return r;
    }

    std::vector<SealedSecret> read_secrets(const std::string& id) {
        Statement s(*conn_, "SELECT field, nonce, ciphertext FROM instance_secrets "
                         "WHERE instance_id=? ORDER BY field");
        s.bind_text(1, id);
        std::vector<SealedSecret> out;
        while (s.step()) out.push_back({s.text(0), s.text(1), s.text(2)});
        return out;
    }

    // The connector's rotations of `r`'s credentials, carried onto the values just written.
    void rebase_rotations(const InstanceRecord& r, const std::vector<SealedSecret>& before, const Rebase& rebase) {
        const auto find = [](const std::vector<SealedSecret>& in, const std::string& field) -> std::optional<SealedSecret> {
            for (const auto& s : in)
                if (s.field == field) return s;
            return std::nullopt;
        };
        for (const auto& rotation : read_rotated(r.id)) {
            const auto next = rebase(r.id, find(before, rotation.field), find(r.secrets, rotation.field), rotation);
            if (!next) continue;
            Statement w(*conn_, "UPDATE instance_rotated_secrets SET base_nonce=?, base_ciphertext=?, nonce=?, "
                             "ciphertext=? WHERE instance_id=? AND field=?");
            w.bind(1, next->base.nonce).bind(2, next->base.ciphertext).bind(3, next->value.nonce)
                .bind(4, next->value.ciphertext).bind_text(5, r.id).bind_text(6, rotation.field).run();
        }
    }

    std::vector<RotatedSecret> read_rotated(const std::string& id) {
        Statement s(*conn_, "SELECT field, base_nonce, base_ciphertext, nonce, ciphertext FROM "
                         "instance_rotated_secrets WHERE instance_id=? ORDER BY field");
        s.bind_text(1, id);
        std::vector<RotatedSecret> out;
        while (s.step()) {
            const std::string field = s.text(0);
            out.push_back({field, {field + "#base", s.text(1), s.text(2)}, {field, s.text(3), s.text(4)}});
        }
        return out;
    }

    void write_secrets(const std::string& id, const std::vector<SealedSecret>& secrets) {
        for (const auto& sec : secrets) {
            Statement s(*conn_, "INSERT INTO instance_secrets(instance_id, field, nonce, ciphertext) "
                             "VALUES(?,?,?,?)");
            s.bind_text(1, id).bind_text(2, sec.field).bind(3, sec.nonce).bind(4, sec.ciphertext).run();
        }
    }

    // The connector's active version as stored ("" without a row), its row locked against
    // other hosts until the transaction ends.
    std::optional<std::string> stored_active_version(const std::string& name) {
        Statement s(*conn_, "SELECT active_version FROM connectors c WHERE name=?" + conn_->row_lock("c"));
        s.bind_text(1, name);
        if (!s.step()) return std::nullopt;
        return s.text(0);
    }

    // Inserts or replaces the row; with `only_new`, inserts only when there is none. Returns
    // whether a row was written.
    bool write_connector_state(const ConnectorState& c, bool only_new = false) {
        Statement s(*conn_, std::string("INSERT INTO connectors(name, active_version, previous_version, "
                                        "update_policy, isolation) VALUES(?,?,?,?,?) ON CONFLICT(name) ") +
                                (only_new ? "DO NOTHING"
                                          : "DO UPDATE SET active_version=excluded.active_version, previous_version="
                                            "excluded.previous_version, update_policy=excluded.update_policy, "
                                            "isolation=excluded.isolation"));
        s.bind_text(1, c.name).bind_text(2, c.active_version).bind_text(3, c.previous_version)
            .bind_text(4, c.update_policy).bind_text(5, c.isolation).run();
        return s.changes() == 1;
    }

    void write_history(const HistoryEntry& e) {
        Statement s(*conn_, "INSERT INTO connector_history(connector, action, from_version, "
                         "to_version, actor, at_ms, outcome, detail) VALUES(?,?,?,?,?,?,?,?)");
        s.bind_text(1, e.connector).bind_text(2, e.action).bind_text(3, e.from_version)
            .bind_text(4, e.to_version).bind_text(5, e.actor).bind(6, e.at_ms)
            .bind_text(7, e.outcome).bind_text(8, e.detail).run();
    }

    void write_meta(std::string_view key, std::string_view value) {
        Statement s(*conn_, "INSERT INTO meta(key, value) VALUES(?,?) "
                         "ON CONFLICT(key) DO UPDATE SET value=excluded.value");
        s.bind_text(1, key).bind(2, value).run();
    }

    void exec(const char* sql) { conn_->exec(sql); }
    template <class F>
    void transaction(F&& body) { conn_->transaction(std::forward<F>(body)); }
    int read_version() { return conn_->read_version(); }

    std::unique_ptr<sql::Connection> conn_;
    std::unique_ptr<FlowStore> flows_;
    std::mutex& mutex_ = conn_->mutex;
};

}  // namespace

std::unique_ptr<Store> make_sql_store(std::unique_ptr<sql::Connection> connection) {
    return std::make_unique<SqlStore>(std::move(connection));
}

}  // namespace junction::core
