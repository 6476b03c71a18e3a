// The PostgreSQL schema, as forward migrations: index i brings it from version i to i + 1.
// Never edit a published step; append a new one. Step 1 is the SQLite schema as of its
// version 8, in PostgreSQL's types: text compares byte by byte (COLLATE "C", SQLite's
// order, whatever the database's locale), sealed values and plugin state are bytea,
// integers are bigint.
#include "postgres_connection.hpp"

namespace junction::core::postgres {

const std::vector<const char*>& store_migrations() {
    static const std::vector<const char*> migrations = {
    R"(CREATE TABLE meta(key TEXT COLLATE "C" PRIMARY KEY, value BYTEA NOT NULL);
       CREATE TABLE instances(
         id TEXT COLLATE "C" PRIMARY KEY,
         name TEXT COLLATE "C" NOT NULL UNIQUE,
         connector TEXT COLLATE "C" NOT NULL,
         auth_method TEXT NOT NULL,
         settings TEXT NOT NULL,
         version_pin TEXT COLLATE "C" NOT NULL DEFAULT '',
         created_ms BIGINT NOT NULL,
         updated_ms BIGINT NOT NULL,
         test_status TEXT NOT NULL DEFAULT 'untested',
         test_detail TEXT NOT NULL DEFAULT '',
         tested_ms BIGINT NOT NULL DEFAULT 0,
         revision BIGINT NOT NULL DEFAULT 1);
       CREATE INDEX instances_by_connector ON instances(connector, name);
       CREATE TABLE instance_secrets(
         instance_id TEXT COLLATE "C" NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
         field TEXT COLLATE "C" NOT NULL,
         nonce BYTEA NOT NULL,
         ciphertext BYTEA NOT NULL,
         PRIMARY KEY(instance_id, field));
       CREATE TABLE instance_state(
         instance_id TEXT COLLATE "C" NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
         key TEXT COLLATE "C" NOT NULL,
         value BYTEA NOT NULL,
         PRIMARY KEY(instance_id, key));
       CREATE TABLE instance_rotated_secrets(
         instance_id TEXT COLLATE "C" NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
         field TEXT COLLATE "C" NOT NULL,
         base_nonce BYTEA NOT NULL,
         base_ciphertext BYTEA NOT NULL,
         nonce BYTEA NOT NULL,
         ciphertext BYTEA NOT NULL,
         PRIMARY KEY(instance_id, field));
       CREATE TABLE connectors(
         name TEXT COLLATE "C" PRIMARY KEY,
         active_version TEXT NOT NULL,
         previous_version TEXT NOT NULL DEFAULT '',
         update_policy TEXT NOT NULL DEFAULT 'manual',
         isolation TEXT NOT NULL DEFAULT '');
       CREATE TABLE connector_history(
         seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
         connector TEXT COLLATE "C" NOT NULL,
         action TEXT NOT NULL,
         from_version TEXT NOT NULL,
         to_version TEXT NOT NULL,
         actor TEXT NOT NULL,
         at_ms BIGINT NOT NULL,
         outcome TEXT NOT NULL,
         detail TEXT NOT NULL);
       CREATE INDEX connector_history_by_name ON connector_history(connector, seq);
       CREATE TABLE instance_snapshots(
         instance_id TEXT COLLATE "C" NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
         connector_version TEXT COLLATE "C" NOT NULL,
         settings TEXT NOT NULL,
         PRIMARY KEY(instance_id, connector_version));
       CREATE TABLE instance_snapshot_secrets(
         instance_id TEXT COLLATE "C" NOT NULL,
         connector_version TEXT COLLATE "C" NOT NULL,
         field TEXT COLLATE "C" NOT NULL,
         nonce BYTEA NOT NULL,
         ciphertext BYTEA NOT NULL,
         PRIMARY KEY(instance_id, connector_version, field),
         FOREIGN KEY(instance_id, connector_version)
           REFERENCES instance_snapshots(instance_id, connector_version) ON DELETE CASCADE);
       CREATE TABLE flows(
         id TEXT COLLATE "C" PRIMARY KEY,
         name TEXT COLLATE "C" NOT NULL UNIQUE,
         version BIGINT NOT NULL,
         enabled BIGINT NOT NULL DEFAULT 1,
         webhook_token_sha256 TEXT NOT NULL DEFAULT '',
         created_ms BIGINT NOT NULL,
         updated_ms BIGINT NOT NULL);
       CREATE TABLE flow_versions(
         flow_id TEXT COLLATE "C" NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
         version BIGINT NOT NULL,
         document TEXT NOT NULL,
         created_ms BIGINT NOT NULL,
         PRIMARY KEY(flow_id, version));
       -- No cascade from instances: an instance a flow uses cannot be deleted.
       CREATE TABLE flow_instances(
         flow_id TEXT COLLATE "C" NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
         shape TEXT COLLATE "C" NOT NULL,
         instance_id TEXT COLLATE "C" NOT NULL REFERENCES instances(id),
         PRIMARY KEY(flow_id, shape));
       CREATE INDEX flow_instances_by_instance ON flow_instances(instance_id);
       CREATE TABLE flow_cursors(
         flow_id TEXT COLLATE "C" NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
         shape TEXT COLLATE "C" NOT NULL,
         cursor TEXT NOT NULL,
         PRIMARY KEY(flow_id, shape));
       CREATE TABLE runs(
         id TEXT COLLATE "C" PRIMARY KEY,
         flow_id TEXT COLLATE "C" NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
         flow_version BIGINT NOT NULL,
         trigger TEXT NOT NULL,
         status TEXT COLLATE "C" NOT NULL,
         started_ms BIGINT NOT NULL,
         ended_ms BIGINT NOT NULL DEFAULT 0,
         error TEXT NOT NULL DEFAULT '',
         retry_of TEXT COLLATE "C" NOT NULL DEFAULT '',
         payload TEXT NOT NULL DEFAULT '',
         start_cursors TEXT NOT NULL DEFAULT '{}',
         checkpoint TEXT NOT NULL DEFAULT '{}',
         counts TEXT NOT NULL DEFAULT '{}',
         resumed BIGINT NOT NULL DEFAULT 0,
         crash_resumes BIGINT NOT NULL DEFAULT 0,
         paused BIGINT NOT NULL DEFAULT 0);
       CREATE INDEX runs_by_flow ON runs(flow_id, started_ms);
       CREATE INDEX runs_by_status ON runs(status, started_ms);
       CREATE TABLE run_log(
         seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
         run_id TEXT COLLATE "C" NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
         at_ms BIGINT NOT NULL,
         level TEXT NOT NULL,
         shape TEXT NOT NULL,
         message TEXT NOT NULL);
       CREATE INDEX run_log_by_run ON run_log(run_id, seq);
       CREATE TABLE run_failures(
         seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
         run_id TEXT COLLATE "C" NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
         shape TEXT NOT NULL,
         reason TEXT NOT NULL,
         record TEXT NOT NULL);
       CREATE INDEX run_failures_by_run ON run_failures(run_id, seq);
       CREATE TABLE dedupe_keys(
         scope TEXT COLLATE "C" NOT NULL,
         key TEXT COLLATE "C" NOT NULL,
         added_ms BIGINT NOT NULL DEFAULT 0,
         PRIMARY KEY(scope, key));
       CREATE INDEX dedupe_keys_by_age ON dedupe_keys(scope, added_ms);)",
    // SQLite's step 9: leased runs, a schedule's tick fired once, the hosts' heartbeats.
    R"(ALTER TABLE runs ADD COLUMN host TEXT COLLATE "C" NOT NULL DEFAULT '';
       ALTER TABLE runs ADD COLUMN lease_until_ms BIGINT NOT NULL DEFAULT 0;
       ALTER TABLE runs ADD COLUMN cancel_requested BIGINT NOT NULL DEFAULT 0;
       ALTER TABLE flows ADD COLUMN schedule_tick_ms BIGINT NOT NULL DEFAULT 0;
       CREATE TABLE hosts(
         id TEXT COLLATE "C" PRIMARY KEY,
         name TEXT NOT NULL,
         version TEXT NOT NULL,
         address TEXT NOT NULL,
         state TEXT NOT NULL,
         started_ms BIGINT NOT NULL,
         seen_ms BIGINT NOT NULL);)",
    // SQLite's step 10: which claim of a run holds it.
    R"(ALTER TABLE runs ADD COLUMN lease_epoch BIGINT NOT NULL DEFAULT 0;)",
    // SQLite's step 11: connector packages by content hash.
    R"(CREATE TABLE packages(
         sha256 TEXT COLLATE "C" PRIMARY KEY,
         name TEXT COLLATE "C" NOT NULL,
         version TEXT COLLATE "C" NOT NULL,
         file_name TEXT NOT NULL,
         signature TEXT NOT NULL,
         bytes BYTEA NOT NULL,
         added_ms BIGINT NOT NULL);)",
    // SQLite's step 12: versions uninstalled through a host.
    R"(CREATE TABLE withdrawn_packages(
         name TEXT COLLATE "C" NOT NULL,
         version TEXT COLLATE "C" NOT NULL,
         at_ms BIGINT NOT NULL,
         PRIMARY KEY(name, version));)",
    // SQLite's step 13: the version of each connector each host runs.
    R"(CREATE TABLE host_versions(
         host_id TEXT COLLATE "C" NOT NULL,
         connector TEXT COLLATE "C" NOT NULL,
         version TEXT COLLATE "C" NOT NULL,
         PRIMARY KEY(host_id, connector));)",
    };
    return migrations;
}

}  // namespace junction::core::postgres
