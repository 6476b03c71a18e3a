#include "sql_flow_store.hpp"

#include <junction/json/utf8.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include <chrono>

namespace junction::core {

namespace {

using sql::Statement;

constexpr const char* kFlowColumns =
    "f.id, f.name, f.version, f.enabled, f.webhook_token_sha256, f.created_ms, f.updated_ms, v.document";
constexpr const char* kRunColumns =
    "id, flow_id, flow_version, trigger, status, started_ms, ended_ms, error, retry_of, payload, "
    "start_cursors, checkpoint, counts, resumed, host, lease_epoch";

// A de-dupe key as stored: itself when both engines keep it as it is, else (NUL or bytes
// that are not UTF-8, which PostgreSQL's text would turn into U+FFFD, so "a\0" and
// "a\xff" would be one key) a noncharacter prefix and its bytes in hex. Keys that start
// with the prefix are written out the same way, so no two keys ever meet.
std::string stored_key(std::string_view key) {
    static constexpr std::string_view kPrefix = "\xEF\xBF\xBEhex:";  // U+FFFE
    if (json::is_valid_utf8(key) && key.find('\0') == std::string_view::npos && key.rfind(kPrefix, 0) != 0)
        return std::string(key);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(kPrefix);
    for (unsigned char c : key) {
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    return out;
}

// Deletes every key of the scopes starting with `prefix` (';' sorts right after ':').
void delete_scopes(sql::Connection& c, const std::string& prefix) {
    Statement s(c, "DELETE FROM dedupe_keys WHERE scope >= ? AND scope < ?");
    s.bind_text(1, prefix + ":").bind_text(2, prefix + ";").run();
}

class SqlFlowStore final : public FlowStore {
public:
    explicit SqlFlowStore(sql::Connection& c) : c_(c) {}

    void save_flow(const FlowRecord& f) override {
        std::lock_guard lock(c_.mutex);
        c_.transaction([&] {
            {
                Statement s(c_,
                            "INSERT INTO flows(id, name, version, enabled, webhook_token_sha256, created_ms, "
                            "updated_ms) VALUES(?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET name=excluded.name, "
                            "version=excluded.version, enabled=excluded.enabled, "
                            "webhook_token_sha256=excluded.webhook_token_sha256, updated_ms=excluded.updated_ms");
                s.bind_text(1, f.id).bind_text(2, f.name).bind(3, f.version).bind(4, int64_t{f.enabled})
                    .bind_text(5, f.webhook_token_sha256).bind(6, f.created_ms).bind(7, f.updated_ms);
                try {
                    s.run();
                } catch (const Error& e) {
                    if (e.code() != Errc::already_exists) throw;
                    throw Error(Errc::already_exists,
                                "a flow named '" + f.name + "' already exists; choose another name");
                }
            }
            Statement v(c_,
                        "INSERT INTO flow_versions(flow_id, version, document, created_ms) VALUES(?,?,?,?)");
            v.bind_text(1, f.id).bind(2, f.version).bind_text(3, f.document_json).bind(4, f.updated_ms).run();
            Statement clear(c_, "DELETE FROM flow_instances WHERE flow_id=?");
            clear.bind_text(1, f.id).run();
            for (const auto& [shape, instance] : f.instances) {
                Statement i(c_, "INSERT INTO flow_instances(flow_id, shape, instance_id) VALUES(?,?,?)");
                i.bind_text(1, f.id).bind_text(2, shape).bind_text(3, instance).run();
            }
        });
    }

    std::optional<FlowRecord> find_flow(std::string_view id_or_name) override {
        std::lock_guard lock(c_.mutex);
        Statement s(c_, std::string("SELECT ") + kFlowColumns +
                                       " FROM flows f JOIN flow_versions v ON v.flow_id=f.id AND "
                                       "v.version=f.version WHERE f.id=?1 OR f.name=?1");
        s.bind_text(1, id_or_name);
        if (!s.step()) return std::nullopt;
        FlowRecord f = read_flow(s);
        Statement i(c_, "SELECT shape, instance_id FROM flow_instances WHERE flow_id=?");
        i.bind_text(1, f.id);
        while (i.step()) f.instances[i.text(0)] = i.text(1);
        return f;
    }

    std::optional<std::string> flow_document(std::string_view flow_id, int64_t version) override {
        std::lock_guard lock(c_.mutex);
        Statement s(c_, "SELECT document FROM flow_versions WHERE flow_id=? AND version=?");
        s.bind_text(1, flow_id).bind(2, version);
        if (!s.step()) return std::nullopt;
        return s.text(0);
    }

    std::vector<FlowRecord> list_flows(std::string_view after_name, size_t limit) override {
        std::lock_guard lock(c_.mutex);
        Statement s(c_, std::string("SELECT ") + kFlowColumns +
                                       " FROM flows f JOIN flow_versions v ON v.flow_id=f.id AND "
                                       "v.version=f.version WHERE (?1='' OR f.name>?1) ORDER BY f.name LIMIT ?2");
        s.bind_text(1, after_name).bind(2, limit == 0 ? INT64_MAX : static_cast<int64_t>(limit));
        std::vector<FlowRecord> out;
        while (s.step()) out.push_back(read_flow(s));
        return out;
    }

    bool delete_flow(std::string_view flow_id) override {
        std::lock_guard lock(c_.mutex);
        bool deleted = false;
        c_.transaction([&] {
            delete_scopes(c_, "flow:" + std::string(flow_id));
            std::vector<std::string> runs;  // their run-scoped keys go too (runs cascade)
            {
                Statement r(c_, "SELECT id FROM runs WHERE flow_id=?");
                r.bind_text(1, flow_id);
                while (r.step()) runs.push_back(r.text(0));
            }
            for (const auto& run : runs) delete_scopes(c_, "run:" + run);
            Statement s(c_, "DELETE FROM flows WHERE id=?");
            s.bind_text(1, flow_id).run();
            deleted = s.changes() > 0;
        });
        return deleted;
    }

    void set_flow_enabled(std::string_view flow_id, bool enabled) override {
        std::lock_guard lock(c_.mutex);
        Statement s(c_, "UPDATE flows SET enabled=? WHERE id=?");
        s.bind(1, int64_t{enabled}).bind_text(2, flow_id).run();
    }

    void set_webhook_token(std::string_view flow_id, std::string_view token_sha256) override {
        std::lock_guard lock(c_.mutex);
        Statement s(c_, "UPDATE flows SET webhook_token_sha256=? WHERE id=?");
        s.bind_text(1, token_sha256).bind_text(2, flow_id).run();
    }

    std::vector<std::string> flows_using_instance(std::string_view instance_id) override {
        std::lock_guard lock(c_.mutex);
        Statement s(c_, "SELECT DISTINCT f.name FROM flow_instances i JOIN flows f ON f.id=i.flow_id "
                                   "WHERE i.instance_id=? ORDER BY f.name");
        s.bind_text(1, instance_id);
        std::vector<std::string> names;
        while (s.step()) names.push_back(s.text(0));
        return names;
    }

    std::map<std::string, std::string> flow_cursors(std::string_view flow_id) override {
        std::lock_guard lock(c_.mutex);
        return read_cursors(flow_id);
    }

    std::map<std::string, std::string> read_cursors(std::string_view flow_id) {
        Statement s(c_, "SELECT shape, cursor FROM flow_cursors WHERE flow_id=?");
        s.bind_text(1, flow_id);
        std::map<std::string, std::string> out;
        while (s.step()) out[s.text(0)] = s.text(1);
        return out;
    }

    void insert_run(const RunRecord& r) override {
        std::lock_guard lock(c_.mutex);
        write_run(r);
    }

    void write_run(const RunRecord& r) {
        Statement s(c_, std::string("INSERT INTO runs(") + kRunColumns +
                                       ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
        s.bind_text(1, r.id).bind_text(2, r.flow_id).bind(3, r.flow_version).bind_text(4, r.trigger)
            .bind_text(5, r.status).bind(6, r.started_ms).bind(7, r.ended_ms).bind_text(8, r.error)
            .bind_text(9, r.retry_of).bind_text(10, r.payload_json).bind_text(11, r.start_cursors_json)
            .bind_text(12, r.checkpoint_json).bind_text(13, r.counts_json).bind(14, int64_t{r.resumed})
            .bind_text(15, r.host).bind(16, r.lease_epoch);
        s.run();
    }

    ScheduledRun insert_scheduled_run(RunRecord r, int64_t tick_ms, const StartCursors& start_cursors) override {
        std::lock_guard lock(c_.mutex);
        ScheduledRun outcome = ScheduledRun::inserted;
        c_.transaction([&] {
            Statement tick(c_, "UPDATE flows SET schedule_tick_ms=?2 WHERE id=?1 AND schedule_tick_ms < ?2");
            tick.bind_text(1, r.flow_id).bind(2, tick_ms).run();
            if (tick.changes() == 0) {
                outcome = ScheduledRun::already_fired;
                return;
            }
            Statement open(c_, "SELECT 1 FROM runs WHERE flow_id=? AND status IN ('queued','running') LIMIT 1");
            open.bind_text(1, r.flow_id);
            if (open.step()) {
                outcome = ScheduledRun::previous_still_open;  // the tick is spent all the same
                return;
            }
            r.start_cursors_json = start_cursors(read_cursors(r.flow_id));
            write_run(r);
        });
        return outcome;
    }

    std::optional<RunRecord> find_run(std::string_view run_id) override {
        std::lock_guard lock(c_.mutex);
        Statement s(c_, std::string("SELECT ") + kRunColumns + " FROM runs WHERE id=?");
        s.bind_text(1, run_id);
        if (!s.step()) return std::nullopt;
        return read_run(s);
    }

    std::vector<RunRecord> list_runs(const RunQuery& q) override {
        std::lock_guard lock(c_.mutex);
        Statement s(c_, std::string("SELECT ") + kRunColumns +
                                       " FROM runs WHERE (?1='' OR flow_id=?1) AND (?2='' OR status=?2) "
                                       "AND (?3=0 OR started_ms<?3) ORDER BY started_ms DESC, id DESC LIMIT ?4");
        s.bind_text(1, q.flow_id).bind_text(2, q.status).bind(3, q.before_ms)
            .bind(4, static_cast<int64_t>(q.limit));
        std::vector<RunRecord> out;
        while (s.step()) out.push_back(read_run(s));
        return out;
    }

    std::map<std::string, std::map<std::string, int64_t>> count_runs() override {
        std::lock_guard lock(c_.mutex);
        Statement s(c_, "SELECT f.name, r.status, COUNT(*) FROM runs r JOIN flows f ON f.id = r.flow_id "
                                   "GROUP BY f.name, r.status");
        std::map<std::string, std::map<std::string, int64_t>> out;
        while (s.step()) out[s.text(0)][s.text(1)] = s.integer(2);
        return out;
    }

    std::optional<ClaimedRun> claim_run(const RunLease& lease, std::string_view run_id) override {
        std::lock_guard lock(c_.mutex);
        std::optional<ClaimedRun> out;
        c_.transaction([&] {
            const int64_t now = lease.clock();
            int64_t crashes = 0;
            bool paused = false;
            {
                // 'running' sorts before 'queued' descending: interrupted runs go first.
                Statement s(c_, std::string("SELECT ") + kRunColumns +
                                    ", crash_resumes, paused, cancel_requested FROM runs r WHERE (status='queued' OR "
                                    "(status='running' AND lease_until_ms < ?1)) AND (?2='' OR id=?2) "
                                    "ORDER BY status DESC, started_ms, id LIMIT 1" + c_.row_claim("r"));
                s.bind(1, now).bind_text(2, run_id);
                if (!s.step()) return;
                out.emplace();
                out->run = read_run(s);
                crashes = s.integer(16);
                paused = s.integer(17) != 0;
                out->cancel_requested = s.integer(18) != 0;
            }
            RunRecord& r = out->run;
            out->interrupted = r.status == "running";
            if (out->interrupted && !paused) ++crashes;
            out->crashes = out->interrupted ? crashes : 0;
            r.status = "running";
            r.host = lease.host;
            r.lease_epoch += 1;
            r.resumed = r.resumed || out->interrupted;
            Statement u(c_, "UPDATE runs SET status='running', host=?, lease_until_ms=?, lease_epoch=?, paused=0, "
                            "crash_resumes=?, resumed=? WHERE id=?");
            u.bind_text(1, lease.host).bind(2, now + lease.duration_ms).bind(3, r.lease_epoch).bind(4, crashes)
                .bind(5, int64_t{r.resumed}).bind_text(6, r.id).run();
        });
        return out;
    }

    std::map<std::string, bool> renew_leases(const RunLease& lease, const std::vector<HeldRun>& runs) override {
        std::lock_guard lock(c_.mutex);
        const int64_t until = lease.clock() + lease.duration_ms;
        std::map<std::string, bool> held;
        for (const auto& run : runs) {
            // A lease that ran out is still this claim's until the run is claimed again.
            Statement u(c_, "UPDATE runs SET lease_until_ms=? WHERE id=? AND host=? AND lease_epoch=? "
                            "AND status='running' AND paused=0");
            u.bind(1, until).bind_text(2, run.run_id).bind_text(3, lease.host).bind(4, run.epoch).run();
            if (u.changes() == 0) continue;
            Statement s(c_, "SELECT cancel_requested FROM runs WHERE id=?");
            s.bind_text(1, run.run_id);
            held[run.run_id] = s.step() && s.integer(0) != 0;
        }
        return held;
    }

    void release_run(std::string_view host, const HeldRun& run, bool unstarted) override {
        std::lock_guard lock(c_.mutex);
        Statement u(c_, unstarted ? "UPDATE runs SET status='queued', lease_until_ms=0, host='' WHERE id=? AND host=? "
                                    "AND lease_epoch=? AND status='running'"
                                  : "UPDATE runs SET paused=1, lease_until_ms=0, host='' WHERE id=? AND host=? "
                                    "AND lease_epoch=? AND status='running'");
        u.bind_text(1, run.run_id).bind_text(2, host).bind(3, run.epoch).run();
    }

    void expire_leases(std::string_view host) override {
        std::lock_guard lock(c_.mutex);
        Statement u(c_, "UPDATE runs SET lease_until_ms=0 WHERE host=? AND status='running'");
        u.bind_text(1, host).run();
    }

    CancelOutcome request_cancel(std::string_view run_id, int64_t now_ms) override {
        std::lock_guard lock(c_.mutex);
        CancelOutcome outcome = CancelOutcome::not_open;
        c_.transaction([&] {
            Statement s(c_, "SELECT status FROM runs r WHERE id=?" + c_.row_lock("r"));
            s.bind_text(1, run_id);
            const std::string status = s.step() ? s.text(0) : std::string();
            if (status == "queued") {
                Statement u(c_, "UPDATE runs SET status='cancelled', error='cancelled before it started', ended_ms=? "
                                "WHERE id=?");
                u.bind(1, now_ms).bind_text(2, run_id).run();
                outcome = CancelOutcome::cancelled;
            } else if (status == "running") {
                Statement u(c_, "UPDATE runs SET cancel_requested=1 WHERE id=?");
                u.bind_text(1, run_id).run();
                outcome = CancelOutcome::requested;
            }
        });
        return outcome;
    }

    void commit_checkpoint(const RunRecord& run, const Checkpoint& c) override {
        std::lock_guard lock(c_.mutex);
        c_.transaction([&] { write_checkpoint(run, c); });
    }

    void finish_run(const RunRecord& r, const Checkpoint& last,
                    const std::map<std::string, std::string>& cursors) override {
        std::lock_guard lock(c_.mutex);
        c_.transaction([&] {
            write_checkpoint(r, last);
            Statement s(c_, "UPDATE runs SET status=?, ended_ms=?, error=? WHERE id=?");
            s.bind_text(1, r.status).bind(2, r.ended_ms).bind_text(3, r.error).bind_text(4, r.id).run();
            for (const auto& [shape, cursor] : cursors) {
                Statement u(c_, "INSERT INTO flow_cursors(flow_id, shape, cursor) VALUES(?,?,?) "
                                           "ON CONFLICT(flow_id, shape) DO UPDATE SET cursor=excluded.cursor");
                u.bind_text(1, r.flow_id).bind_text(2, shape).bind_text(3, cursor).run();
            }
            delete_scopes(c_, "run:" + r.id);
        });
    }

    void append_run_log(std::string_view run_id, const std::vector<RunLogLine>& lines) override {
        if (lines.empty()) return;
        std::lock_guard lock(c_.mutex);
        c_.transaction([&] {
            for (const auto& l : lines) {
                Statement s(c_,
                            "INSERT INTO run_log(run_id, at_ms, level, shape, message) VALUES(?,?,?,?,?)");
                s.bind_text(1, run_id).bind(2, l.at_ms).bind_text(3, l.level).bind_text(4, l.shape)
                    .bind_text(5, l.message).run();
            }
        });
    }

    std::vector<RunLogLine> run_log(std::string_view run_id, int64_t after_seq, size_t limit) override {
        std::lock_guard lock(c_.mutex);
        Statement s(c_, "SELECT seq, at_ms, level, shape, message FROM run_log WHERE run_id=? "
                                   "AND seq>? ORDER BY seq LIMIT ?");
        s.bind_text(1, run_id).bind(2, after_seq).bind(3, static_cast<int64_t>(limit));
        std::vector<RunLogLine> out;
        while (s.step()) out.push_back({s.integer(0), s.integer(1), s.text(2), s.text(3), s.text(4)});
        return out;
    }

    std::vector<FailedRecord> failed_records(std::string_view run_id, int64_t after_seq, size_t limit) override {
        std::lock_guard lock(c_.mutex);
        Statement s(c_, "SELECT seq, shape, reason, record FROM run_failures WHERE run_id=? "
                                   "AND seq>? ORDER BY seq LIMIT ?");
        s.bind_text(1, run_id).bind(2, after_seq).bind(3, static_cast<int64_t>(limit));
        std::vector<FailedRecord> out;
        while (s.step()) out.push_back({s.integer(0), s.text(1), s.text(2), s.text(3)});
        return out;
    }

    bool dedupe_seen(std::string_view scope, std::string_view key) override {
        std::lock_guard lock(c_.mutex);
        Statement s(c_, "SELECT 1 FROM dedupe_keys WHERE scope=? AND key=?");
        s.bind_text(1, scope).bind_text(2, stored_key(key));
        return s.step();
    }

    size_t prune_runs(std::string_view flow_id, int64_t started_before_ms, int64_t keep_newest,
                      size_t batch) override {
        std::lock_guard lock(c_.mutex);
        size_t deleted = 0;
        // One transaction, and each delete checks again that the run is over and no open
        // retry is based on it: a host may have queued a retry since the selection.
        c_.transaction([&] {
            std::vector<std::string> ids;
            {
                Statement s(c_,
                            "SELECT id FROM runs WHERE flow_id=?1 AND status NOT IN ('queued','running') "
                            "AND id NOT IN (SELECT retry_of FROM runs WHERE flow_id=?1 AND status IN ('queued','running')) "
                            "AND (started_ms < ?2 OR (?3 > 0 AND id IN (SELECT id FROM runs WHERE flow_id=?1 "
                            "ORDER BY started_ms DESC, id DESC LIMIT 9223372036854775807 OFFSET ?3))) LIMIT ?4");
                s.bind_text(1, flow_id).bind(2, started_before_ms).bind(3, keep_newest)
                    .bind(4, static_cast<int64_t>(batch));
                while (s.step()) ids.push_back(s.text(0));
            }
            for (const auto& id : ids) {
                Statement d(c_, "DELETE FROM runs WHERE id=?1 AND status NOT IN ('queued','running') AND id NOT IN "
                                "(SELECT retry_of FROM runs WHERE status IN ('queued','running'))");  // log, failures cascade
                d.bind_text(1, id).run();
                if (d.changes() == 0) continue;
                delete_scopes(c_, "run:" + id);
                ++deleted;
            }
        });
        return deleted;
    }

    size_t prune_dedupe_keys(std::string_view flow_id, int64_t added_before_ms, size_t batch) override {
        std::lock_guard lock(c_.mutex);
        const std::string prefix = "flow:" + std::string(flow_id);
        Statement s(c_,
                    "DELETE FROM dedupe_keys WHERE (scope, key) IN (SELECT scope, key FROM dedupe_keys "
                    "WHERE scope >= ? AND scope < ? AND added_ms < ? LIMIT ?)");
        s.bind_text(1, prefix + ":").bind_text(2, prefix + ";").bind(3, added_before_ms)
            .bind(4, static_cast<int64_t>(batch)).run();
        return static_cast<size_t>(s.changes());
    }

private:
    // Fenced by the lease: a host that lost the run writes nothing of it.
    void write_checkpoint(const RunRecord& run, const Checkpoint& c) {
        const std::string& run_id = run.id;
        // Progress: whatever crashed before did not stop the run here (crash_resumes).
        Statement s(c_, "UPDATE runs SET checkpoint=?, counts=?, crash_resumes=0 WHERE id=? AND host=? "
                        "AND lease_epoch=? AND status='running'");
        s.bind_text(1, c.checkpoint_json).bind_text(2, c.counts_json).bind_text(3, run_id).bind_text(4, run.host)
            .bind(5, run.lease_epoch).run();
        if (s.changes() == 0)
            throw Error(Errc::conflict, "run " + run_id + " is no longer held by this worker (its lease ran out and "
                                        "the run was taken over, or it ended); it stops working on it");
        const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count();
        for (const auto& [scope, key] : c.dedupe_keys) {
            Statement k(c_, "INSERT INTO dedupe_keys(scope, key, added_ms) VALUES(?,?,?) "
                                       "ON CONFLICT(scope, key) DO UPDATE SET added_ms = excluded.added_ms");
            k.bind_text(1, scope).bind_text(2, stored_key(key)).bind(3, now).run();
        }
        for (const auto& f : c.failed) {
            Statement k(c_, "INSERT INTO run_failures(run_id, shape, reason, record) VALUES(?,?,?,?)");
            k.bind_text(1, run_id).bind_text(2, f.shape).bind_text(3, f.reason).bind_text(4, f.record_json).run();
        }
    }

    static FlowRecord read_flow(const Statement& s) {
        FlowRecord f;
        f.id = s.text(0);
        f.name = s.text(1);
        f.version = s.integer(2);
        f.enabled = s.integer(3) != 0;
        f.webhook_token_sha256 = s.text(4);
        f.created_ms = s.integer(5);
        f.updated_ms = s.integer(6);
        f.document_json = s.text(7);
        return f;
    }

    static RunRecord read_run(const Statement& s) {
        RunRecord r;
        r.id = s.text(0);
        r.flow_id = s.text(1);
        r.flow_version = s.integer(2);
        r.trigger = s.text(3);
        r.status = s.text(4);
        r.started_ms = s.integer(5);
        r.ended_ms = s.integer(6);
        r.error = s.text(7);
        r.retry_of = s.text(8);
        r.payload_json = s.text(9);
        r.start_cursors_json = s.text(10);
        r.checkpoint_json = s.text(11);
        r.counts_json = s.text(12);
        r.resumed = s.integer(13) != 0;
        r.host = s.text(14);
        r.lease_epoch = s.integer(15);
        return r;
    }

    sql::Connection& c_;
};

}  // namespace

std::unique_ptr<FlowStore> make_sql_flow_store(sql::Connection& connection) {
    return std::make_unique<SqlFlowStore>(connection);
}

}  // namespace junction::core
