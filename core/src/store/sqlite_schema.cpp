// The store's schema, as forward migrations: index i brings it from version i to i + 1.
// Never edit a published step; append a new one.
#include "sqlite_connection.hpp"

namespace junction::core::sqlite {

const std::vector<const char*>& store_migrations() {
    static const std::vector<const char*> migrations = {
    R"(CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);
       CREATE TABLE instances(
         id TEXT PRIMARY KEY,
         name TEXT NOT NULL UNIQUE,
         connector TEXT NOT NULL,
         auth_method TEXT NOT NULL,
         settings TEXT NOT NULL,
         version_pin TEXT NOT NULL DEFAULT '',
         created_ms INTEGER NOT NULL,
         updated_ms INTEGER NOT NULL,
         test_status TEXT NOT NULL DEFAULT 'untested',
         test_detail TEXT NOT NULL DEFAULT '',
         tested_ms INTEGER NOT NULL DEFAULT 0);
       CREATE INDEX instances_by_connector ON instances(connector, name);
       CREATE TABLE instance_secrets(
         instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
         field TEXT NOT NULL,
         nonce BLOB NOT NULL,
         ciphertext BLOB NOT NULL,
         PRIMARY KEY(instance_id, field));
       CREATE TABLE instance_state(
         instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
         key TEXT NOT NULL,
         value BLOB NOT NULL,
         PRIMARY KEY(instance_id, key));)",
    R"(CREATE TABLE connectors(
         name TEXT PRIMARY KEY,
         active_version TEXT NOT NULL,
         previous_version TEXT NOT NULL DEFAULT '',
         update_policy TEXT NOT NULL DEFAULT 'manual');
       CREATE TABLE connector_history(
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         connector TEXT NOT NULL,
         action TEXT NOT NULL,
         from_version TEXT NOT NULL,
         to_version TEXT NOT NULL,
         actor TEXT NOT NULL,
         at_ms INTEGER NOT NULL,
         outcome TEXT NOT NULL,
         detail TEXT NOT NULL);
       CREATE INDEX connector_history_by_name ON connector_history(connector, seq);
       CREATE TABLE instance_snapshots(
         instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
         connector_version TEXT NOT NULL,
         settings TEXT NOT NULL,
         PRIMARY KEY(instance_id, connector_version));
       CREATE TABLE instance_snapshot_secrets(
         instance_id TEXT NOT NULL,
         connector_version TEXT NOT NULL,
         field TEXT NOT NULL,
         nonce BLOB NOT NULL,
         ciphertext BLOB NOT NULL,
         PRIMARY KEY(instance_id, connector_version, field),
         FOREIGN KEY(instance_id, connector_version)
           REFERENCES instance_snapshots(instance_id, connector_version) ON DELETE CASCADE);)",
    R"(CREATE TABLE flows(
         id TEXT PRIMARY KEY,
         name TEXT NOT NULL UNIQUE,
         version INTEGER NOT NULL,
         enabled INTEGER NOT NULL DEFAULT 1,
         webhook_token_sha256 TEXT NOT NULL DEFAULT '',
         created_ms INTEGER NOT NULL,
         updated_ms INTEGER NOT NULL);
       CREATE TABLE flow_versions(
         flow_id TEXT NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
         version INTEGER NOT NULL,
         document TEXT NOT NULL,
         created_ms INTEGER NOT NULL,
         PRIMARY KEY(flow_id, version));
       -- No cascade from instances: an instance a flow uses cannot be deleted.
       CREATE TABLE flow_instances(
         flow_id TEXT NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
         shape TEXT NOT NULL,
         instance_id TEXT NOT NULL REFERENCES instances(id),
         PRIMARY KEY(flow_id, shape));
       CREATE INDEX flow_instances_by_instance ON flow_instances(instance_id);
       CREATE TABLE flow_cursors(
         flow_id TEXT NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
         shape TEXT NOT NULL,
         cursor TEXT NOT NULL,
         PRIMARY KEY(flow_id, shape));
       CREATE TABLE runs(
         id TEXT PRIMARY KEY,
         flow_id TEXT NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
         flow_version INTEGER NOT NULL,
         trigger TEXT NOT NULL,
         status TEXT NOT NULL,
         started_ms INTEGER NOT NULL,
         ended_ms INTEGER NOT NULL DEFAULT 0,
         error TEXT NOT NULL DEFAULT '',
         retry_of TEXT NOT NULL DEFAULT '',
         payload TEXT NOT NULL DEFAULT '',
         start_cursors TEXT NOT NULL DEFAULT '{}',
         checkpoint TEXT NOT NULL DEFAULT '{}',
         counts TEXT NOT NULL DEFAULT '{}',
         resumed INTEGER NOT NULL DEFAULT 0);
       CREATE INDEX runs_by_flow ON runs(flow_id, started_ms);
       CREATE INDEX runs_by_status ON runs(status, started_ms);
       CREATE TABLE run_log(
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
         at_ms INTEGER NOT NULL,
         level TEXT NOT NULL,
         shape TEXT NOT NULL,
         message TEXT NOT NULL);
       CREATE INDEX run_log_by_run ON run_log(run_id, seq);
       CREATE TABLE run_failures(
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
         shape TEXT NOT NULL,
         reason TEXT NOT NULL,
         record TEXT NOT NULL);
       CREATE INDEX run_failures_by_run ON run_failures(run_id, seq);
       CREATE TABLE dedupe_keys(
         scope TEXT NOT NULL,
         key TEXT NOT NULL,
         PRIMARY KEY(scope, key)) WITHOUT ROWID;)",
    // A run's crash count: how many starts in a row found it "running" after a crash with no
    // checkpoint since (a poison run is failed, not resumed forever); and whether the last
    // stop was a clean pause, which does not count.
    R"(ALTER TABLE runs ADD COLUMN crash_resumes INTEGER NOT NULL DEFAULT 0;
       ALTER TABLE runs ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;)",
    // A connector's isolation set through the API ('': the config file's).
    R"(ALTER TABLE connectors ADD COLUMN isolation TEXT NOT NULL DEFAULT '';)",
    // An instance's revision: bumped by every write of its settings or secrets, which is
    // a compare-and-set on it, so a writer that read an older record cannot undo a newer one.
    R"(ALTER TABLE instances ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;)",
    // When each de-dupe key was last seen by a run, so flow-scope keys expire (retention). Keys
    // stored before this step count from the upgrade: none expires at once. The index lets
    // the pruner find one flow's old keys without reading them all.
    R"(ALTER TABLE dedupe_keys ADD COLUMN added_ms INTEGER NOT NULL DEFAULT 0;
       UPDATE dedupe_keys SET added_ms = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER);
       CREATE INDEX dedupe_keys_by_age ON dedupe_keys(scope, added_ms);)",
    // Credentials a connector rotated (jn_host_api.credential_swap): each replaces the
    // configured value it was rotated from (`base`, sealed) while that is still the one
    // configured; an operator who sets a new value overrides it. Writes of the instance do
    // not touch it, so a rotation never conflicts with them.
    R"(CREATE TABLE instance_rotated_secrets(
         instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
         field TEXT NOT NULL,
         base_nonce BLOB NOT NULL,
         base_ciphertext BLOB NOT NULL,
         nonce BLOB NOT NULL,
         ciphertext BLOB NOT NULL,
         PRIMARY KEY(instance_id, field));)",
    // Runs are leased (decision 0024): `host` holds a running run until `lease_until_ms`
    // and renews it while it works; a run whose lease ran out is taken by any host. An
    // admin's cancel of a run another host holds is a request that host acts on. A
    // schedule's tick fires once for all hosts: the first to move `schedule_tick_ms`.
    // `hosts`: each junctiond's heartbeat.
    R"(ALTER TABLE runs ADD COLUMN host TEXT NOT NULL DEFAULT '';
       ALTER TABLE runs ADD COLUMN lease_until_ms INTEGER NOT NULL DEFAULT 0;
       ALTER TABLE runs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
       ALTER TABLE flows ADD COLUMN schedule_tick_ms INTEGER NOT NULL DEFAULT 0;
       CREATE TABLE hosts(
         id TEXT PRIMARY KEY,
         name TEXT NOT NULL,
         version TEXT NOT NULL,
         address TEXT NOT NULL,
         state TEXT NOT NULL,
         started_ms INTEGER NOT NULL,
         seen_ms INTEGER NOT NULL);)",
    // Which claim of a run holds it: every claim counts one more, and the run's writes are
    // fenced by it, so a worker whose lease lapsed is refused even when its own host (or
    // a host that took the run and gave it back) claimed the run again.
    R"(ALTER TABLE runs ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0;)",
    // Connector packages by content hash, as installed through any host, with the signature
    // that host verified: every host sharing the store installs them (and checks them again).
    R"(CREATE TABLE packages(
         sha256 TEXT PRIMARY KEY,
         name TEXT NOT NULL,
         version TEXT NOT NULL,
         file_name TEXT NOT NULL,
         signature TEXT NOT NULL,
         bytes BLOB NOT NULL,
         added_ms INTEGER NOT NULL);)",
    // Versions uninstalled through a host: no host shares them again from its own copy.
    R"(CREATE TABLE withdrawn_packages(
         name TEXT NOT NULL,
         version TEXT NOT NULL,
         at_ms INTEGER NOT NULL,
         PRIMARY KEY(name, version));)",
    // The version of each connector each host runs, written with its heartbeat: an update
    // applied through one host answers once every live host runs the new version.
    R"(CREATE TABLE host_versions(
         host_id TEXT NOT NULL,
         connector TEXT NOT NULL,
         version TEXT NOT NULL,
         PRIMARY KEY(host_id, connector));)",
    };
    return migrations;
}

}  // namespace junction::core::sqlite
