#include <junction/core/updates/connector_updates.hpp>

#include <junction/core/cluster/package_replication.hpp>

#include <junction/core/secrets/instance_secrets.hpp>

#include <junction/core/common/error.hpp>
#include <junction/core/instances/instance_service.hpp>
#include <junction/core/common/json_schema.hpp>
#include <junction/core/common/ids.hpp>
#include <junction/core/common/log.hpp>
#include <junction/core/secrets/clear_text.hpp>

#include <openssl/crypto.h>
#include <junction/json/utf8_writer.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <unordered_map>

namespace junction::core {

namespace {

std::string quote(std::string_view s) {
    rapidjson::StringBuffer b;
    json::Utf8Writer w(b);
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    return b.GetString();
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : "; ") + i;
    return out;
}

// Every unpinned instance of a connector, page by page.
std::vector<InstanceRecord> unpinned_instances(Store& store, std::string_view connector) {
    std::vector<InstanceRecord> out;
    InstanceQuery q;
    q.connector = std::string(connector);
    q.limit = 1000;
    for (;;) {
        auto page = store.list_instances(q);
        if (page.size() == q.limit) q.after_name = page.back().name;  // before the moves below
        const bool last = page.size() < q.limit;
        for (auto& r : page)
            if (r.version_pin.empty()) out.push_back(std::move(r));
        if (last) break;
    }
    return out;
}

// Seals a migrated config back into a record: credential fields of the new manifest, and
// fields that were sealed before, are sealed again.
void reseal(InstanceRecord& r, const rapidjson::Document& config, const SecretBox& box,
            const Manifest& manifest) {
    rapidjson::Document settings(rapidjson::kObjectType);
    std::vector<SealedSecret> secrets;
    for (const auto& m : config.GetObject()) {
        const std::string field(m.name.GetString(), m.name.GetStringLength());
        const bool was_secret = std::any_of(r.secrets.begin(), r.secrets.end(),
                                            [&](const SealedSecret& s) { return s.field == field; });
        if ((was_secret || is_secret_field(manifest, field)) && m.value.IsString()) {
            secrets.push_back(box.seal(r.id, field, std::string(m.value.GetString(), m.value.GetStringLength())));
        } else {
            settings.AddMember(rapidjson::Value(m.name, settings.GetAllocator()),
                               rapidjson::Value(m.value, settings.GetAllocator()), settings.GetAllocator());
        }
    }
    rapidjson::StringBuffer b;
    json::Utf8Writer w(b);
    settings.Accept(w);
    r.settings_json = b.GetString();
    r.secrets = std::move(secrets);
}

std::string hosts_json(const std::vector<SwapReport::Host>& hosts) {
    std::string out = "[";
    for (const auto& h : hosts) out += (out.size() > 1 ? "," : "") + (R"({"id":)" + quote(h.id) + R"(,"name":)" + quote(h.name) + "}");
    return out + "]";
}

}  // namespace

std::string SwapReport::to_json() const {
    return R"({"switched":)" + std::string(switched ? "true" : "false") + R"(,"connector":)" +
           quote(connector) + R"(,"from_version":)" + quote(from_version) + R"(,"to_version":)" +
           quote(to_version) + R"(,"reason":)" + quote(reason) + R"(,"instances":)" +
           std::to_string(instances) + R"(,"configs_migrated":)" + std::to_string(configs_migrated) +
           R"(,"configs_restored":)" + std::to_string(configs_restored) +
           R"(,"plugin_objects_replaced":)" + std::to_string(plugin_objects_replaced) +
           R"(,"millis":)" + std::to_string(millis) + R"(,"hosts":{"switched":)" + hosts_json(hosts_switched) +
           R"(,"not_switched":)" + hosts_json(hosts_not_switched) + "}}";
}

std::string ConnectorStatus::to_json() const {
    std::string by_version;
    for (const auto& [v, n] : instances_by_version)
        by_version += (by_version.empty() ? "" : ",") + quote(v) + ":" + std::to_string(n);
    return R"({"name":)" + quote(state.name) + R"(,"active_version":)" + quote(state.active_version) +
           R"(,"previous_version":)" + quote(state.previous_version) + R"(,"update_policy":)" +
           quote(state.update_policy) + R"(,"newest_installed":)" + quote(newest_installed) +
           R"(,"update_available":)" + (update_available ? "true" : "false") +
           R"(,"instances_by_version":{)" + by_version + "}}";
}

ConnectorUpdates::ConnectorUpdates(Store& store, const SecretBox& secrets, ConnectorRegistry& registry,
                                   InstanceRuntime& runtime, ActiveVersions& active, IsolationChoices* choices)
    : store_(store), secrets_(secrets), registry_(registry), runtime_(runtime), active_(active), choices_(choices) {}

void ConnectorUpdates::record(const std::string& connector, const std::string& action,
                              const std::string& from, const std::string& to,
                              const std::string& actor, const std::string& outcome,
                              const std::string& detail) {
    store_.append_history({0, connector, action, from, to, actor, now_ms(), outcome, detail});
}

void ConnectorUpdates::activate(const std::string& connector, const std::string& version,
                                const std::string& actor, const std::string& previous) {
    ConnectorVersionPtr v = registry_.load(connector, version);
    if (!v) return;
    ConnectorState state = store_.connector_state(connector).value_or(ConnectorState{connector, "", "", "manual", ""});
    const std::string from = state.active_version;
    state.active_version = version;
    if (!previous.empty()) state.previous_version = previous;
    // New calls reach the version before the store (and so the API) says it is active: a
    // client that sees "active" can use it at once. A failed write puts the old one back.
    const ConnectorVersionPtr before = active_.get(connector);
    const auto put_back = [&] {
        if (before) active_.set(connector, before);
        else active_.erase(connector);
    };
    active_.set(connector, v);
    try {
        if (!store_.replace_connector_state(state, from)) {  // another host activated or switched it first
            put_back();
            log_info("updates", connector + ": another host set its version meanwhile; this host follows it");
            return;
        }
    } catch (...) {
        put_back();
        throw;
    }
    record(connector, "activate", from, version, actor, "done", "");
    log_info("updates", connector + " runs " + version);
}

std::mutex& ConnectorUpdates::gate(std::string_view connector) {
    std::lock_guard lock(gates_mutex_);
    auto it = gates_.find(connector);
    if (it == gates_.end()) it = gates_.emplace(std::string(connector), std::make_unique<std::mutex>()).first;
    return *it->second;  // never erased: one small mutex per connector name ever seen
}

void ConnectorUpdates::restore() {
    std::map<std::string, std::string> newest;
    for (const auto& p : registry_.list()) newest[p.name] = p.version;  // list is sorted
    for (const auto& [name, version] : newest) {
        std::lock_guard lock(gate(name));
        // One connector that cannot load (quarantined after a crash) must not stop the start.
        try {
            restore_locked(name, version, "startup");
        } catch (const Error& e) {
            log_error("updates", name + " has no running version: " + e.what() +
                                     " (its instances fail until a version loads: install a fixed build "
                                     "and apply it)");
        }
    }
}

void ConnectorUpdates::restore_locked(const std::string& name, const std::string& newest, const std::string& actor) {
    const auto state = store_.connector_state(name);
    if (state && choices_) choices_->set(name, parse_isolation(state->isolation));  // before it loads
    if (state && registry_.package(name, state->active_version)) {
        active_.set(name, registry_.load(name, state->active_version));
    } else if (state && store_.shared()) {
        // The other hosts run a version this one lacks: activating another here would move
        // them all to it. It runs here once it is installed (from the store, or by an admin).
        log_warn("updates", name + " runs " + state->active_version + " on the hosts sharing this store, and that "
                                "version is not installed here (refused, or not shared yet: see above); its "
                                "instances do not run on this host until it is");
    } else {
        activate(name, newest, actor);
    }
}

void ConnectorUpdates::on_installed(const PackageInfo& package, const std::string& actor) {
    if (store_.shared()) {
        try {
            publish_package(store_, package, true);  // the other hosts install it from the store
        } catch (const std::exception& e) {
            log_warn("updates", "connector " + package.id() + " is installed here but not shared with the other "
                                "hosts: " + e.what());
        }
    }
    std::optional<ConnectorState> state;
    {
        std::lock_guard lock(gate(package.name));
        state = store_.connector_state(package.name);
        if (!state || (!store_.shared() && !registry_.package(package.name, state->active_version))) {
            activate(package.name, package.version, actor);
            return;
        }
        if (!registry_.package(package.name, state->active_version)) return;  // the others' version: followed
        if (compare_versions(package.version, state->active_version) <= 0) return;
        if (state->update_policy != "auto") {
            log_info("updates", "update available: " + package.name + " " + state->active_version +
                                    " -> " + package.version + " (policy manual: apply it when ready)");
            return;
        }
    }
    const SwapReport r = apply(package.name, package.version, "auto-update");
    if (!r.switched)
        log_warn("updates", "automatic update of " + package.name + " to " + package.version +
                                " refused: " + r.reason);
}

SwapReport ConnectorUpdates::apply(std::string_view connector, std::string_view version,
                                   const std::string& actor) {
    std::string target(version);
    if (target.empty()) {
        auto newest = registry_.package(connector);
        target = newest ? newest->version : "";
    }
    return switch_to(connector, target, "apply", actor);
}

SwapReport ConnectorUpdates::rollback(std::string_view connector, const std::string& actor) {
    const auto state = store_.connector_state(connector);
    if (!state || state->previous_version.empty()) {
        SwapReport r;
        r.connector = std::string(connector);
        r.reason = "there is no previous version of " + std::string(connector) + " to roll back to";
        return r;
    }
    return switch_to(connector, state->previous_version, "rollback", actor, state->active_version);
}

SwapReport ConnectorUpdates::switch_to(std::string_view connector_name, std::string target,
                                       const std::string& action, const std::string& actor,
                                       const std::string& expected_from) {
    std::lock_guard lock(gate(connector_name));
    // A switch plans from the version the store says runs: a host that has not yet followed
    // another host's switch does so first (and a version it cannot run refuses the switch).
    if (store_.shared()) {
        try {
            follow_locked(std::string(connector_name));
        } catch (const Error& e) {  // a version that cannot load here: the check below refuses
            log_warn("updates", std::string(connector_name) + ": " + e.message());
        }
    }
    Move move;
    move.connector = std::string(connector_name);
    move.action = action;
    move.actor = actor;
    move.report.connector = move.connector;
    move.report.to_version = target;
    auto state = store_.connector_state(move.connector);
    if (!state) throw Error(Errc::not_found, "no installed connector '" + move.connector + "'");
    move.state = *state;
    move.report.from_version = state->active_version;
    if (target.empty()) return refuse(move, "no version to switch to is installed");
    if (!expected_from.empty() && expected_from != state->active_version)  // a rollback, read before the gate
        return refuse(move, "another host switched " + move.connector + " to " + state->active_version +
                                " meanwhile; nothing was switched here (look at the history, then roll back again "
                                "if still wanted)");
    if (const auto running = active_.get(move.connector);
        store_.shared() && running && running->version() != state->active_version)
        return refuse(move, "this host does not run " + move.connector + " " + state->active_version +
                                ", the version the store records (see its log); apply it through a host that does");
    if (target == state->active_version) return refuse(move, move.connector + " already runs " + target);
    move.next = registry_.load(move.connector, target);  // loads beside the running one
    if (!move.next) return refuse(move, move.connector + " " + target + " is not installed");
    move.next_state = *state;
    move.next_state.previous_version = state->active_version;
    move.next_state.active_version = target;
    return move_to(move);
}

SwapReport ConnectorUpdates::refuse(Move& move, const std::string& why) {
    move.report.reason = why;
    record(move.connector, move.action, move.report.from_version, move.report.to_version, move.actor, "refused", why);
    swaps_.get(move.connector)->second.fetch_add(1, std::memory_order_relaxed);
    log_warn("updates", move.action + " of " + move.connector + " to " + move.report.to_version + " refused: " + why);
    return move.report;
}

SwapReport ConnectorUpdates::move_to(Move& move) {
    // The plan reads the instance records, runs the canary over the network, then commits
    // with a compare-and-set on every record it rewrites. A record written meanwhile (a
    // credential changed during the canary) refuses that commit: plan again from the newer
    // record rather than ever writing back the older one.
    constexpr int kPlans = 3;
    for (int plan = 1;; ++plan) {
        Move attempt = move;
        try {
            SwapReport report = plan_and_commit(attempt);
            move.report = report;
            return report;
        } catch (const Error& e) {
            if (e.code() != Errc::conflict) throw;
            // Another host switched the connector meanwhile: this plan started from a version
            // that no longer runs; nothing is switched (this host follows the other's switch).
            if (const auto now = store_.connector_state(move.connector);
                now && now->active_version != move.state.active_version)
                return refuse(move, "another host switched " + move.connector + " to " + now->active_version +
                                        " while this switch was planned; nothing was switched here (look at "
                                        "the history, then apply again if still wanted)");
            if (plan == kPlans)
                return refuse(move, e.message() + ", " + std::to_string(kPlans) +
                                        " times while the switch was planned; nothing was switched: apply it "
                                        "again when the instances are not being edited");
            log_info("updates", move.action + " of " + move.connector + ": " + e.message() +
                                    "; planning again from the newer record");
        }
    }
}

SwapReport ConnectorUpdates::plan_and_commit(Move& move) {
    const std::string& connector = move.connector;
    const std::string& target = move.report.to_version;
    const std::string& action = move.action;
    const ConnectorState* state = &move.state;
    SwapReport& report = move.report;
    const ConnectorVersionPtr& next = move.next;
    auto refuse = [&](const std::string& why) { return this->refuse(move, why); };
    const Manifest& m = next->manifest();
    ConnectorVersionPtr running = active_.get(connector);

    // 2. Every unpinned instance's config, brought to the target.
    // Configs were validated against the running schema: when the target's is the same,
    // they all fit, and none needs to be read or decrypted to know it.
    const bool same_schema = running && running->manifest().config_schema_json == m.config_schema_json;
    std::vector<InstanceRecord> records;
    if (!same_schema) records = unpinned_instances(store_, connector);
    std::vector<InstanceRecord> changed;
    std::vector<InstanceSnapshot> snapshots;
    std::vector<std::string> problems;
    const int64_t stamp = now_ms();
    for (auto& r : records) {
        rapidjson::Document config = parse_json_text(ClearText(runtime_.clear_config(r)).str(), "stored config");
        if (m.config_schema.validate_fields(config).empty()) continue;  // fits as it is

        InstanceRecord next_record = r;
        if (auto snap = store_.snapshot(r.id, target)) {
            next_record.settings_json = snap->settings_json;
            next_record.secrets = snap->secrets;
            ++report.configs_restored;
        } else {
            const ClearText text(runtime_.clear_config(r));
            std::optional<std::string> migrated;
            std::string failure;
            try {
                migrated = next->migrate_config(state->active_version, text.str());
            } catch (const Error& e) {
                failure = "the migration failed: " + e.message();
            }
            if (!migrated) {
                problems.push_back("instance " + r.name + ": " +
                                   (failure.empty() ? "its config does not fit " + m.id() + " (" +
                                                          join(m.config_schema.validate_fields(config)) +
                                                          ") and " + m.id() + " offers no migration from " +
                                                          state->active_version
                                                    : failure));
                continue;
            }
            rapidjson::Document out;
            std::vector<std::string> left;
            try {
                out = parse_json_text(*migrated, "the migrated config");
                if (!out.IsObject()) left.push_back("not a JSON object");
            } catch (const Error& e) {
                left.push_back(e.message());
            }
            OPENSSL_cleanse(migrated->data(), migrated->size());
            if (left.empty()) left = m.config_schema.validate_fields(out);
            if (!left.empty()) {
                problems.push_back("instance " + r.name + ": the migrated config still does not fit: " + join(left));
                continue;
            }
            reseal(next_record, out, secrets_, m);
            ++report.configs_migrated;
        }
        snapshots.push_back({r.id, state->active_version, r.settings_json, r.secrets});
        next_record.updated_ms = std::max(stamp, r.updated_ms + 1);
        next_record.test_status = "untested";
        next_record.test_detail.clear();
        r = next_record;
        changed.push_back(next_record);
    }
    if (!problems.empty()) return refuse(join(problems));

    // 3 and 4. The canary, then the running instances' plugin objects on the target.
    // The record each instance will have after the switch (changed, or as stored).
    std::unordered_map<std::string, const InstanceRecord*> changed_by_id;
    for (const auto& r : changed) changed_by_id[r.id] = &r;
    auto record_after = [&](const std::string& id) -> std::optional<InstanceRecord> {
        if (auto it = changed_by_id.find(id); it != changed_by_id.end()) return *it->second;
        return store_.find_instance(id);
    };
    std::vector<std::pair<std::string, LiveInstancePtr>> prepared;
    // In this process, one crash marker for the whole batch (each creation would write its own).
    const auto marker = next->isolation() == Isolation::in_process
                            ? mark_risky_call(registry_.crash_markers(), next->sha256(), next->id(),
                                              "creating instances of it for a version change")
                            : CrashMarkers::Scope{};
    std::vector<std::string> live_ids = runtime_.live_unpinned(connector);
    if (live_ids.empty()) {  // nothing runs: the canary is the first unpinned instance
        InstanceQuery q;
        q.connector = connector;
        q.limit = 1000;
        for (;;) {
            auto page = store_.list_instances(q);
            auto it = std::find_if(page.begin(), page.end(), [](const auto& r) { return r.version_pin.empty(); });
            if (it != page.end()) {
                live_ids.push_back(it->id);
                break;
            }
            if (page.size() < q.limit) break;
            q.after_name = page.back().name;
        }
    }
    for (size_t i = 0; i < live_ids.size(); ++i) {
        const auto r = record_after(live_ids[i]);
        if (!r) continue;  // deleted meanwhile
        try {
            LiveInstancePtr live = runtime_.build(*r, next);
            if (i == 0) live->plugin->test_connection();  // the canary
            prepared.emplace_back(r->id, std::move(live));
        } catch (const Error& e) {
            return refuse((i == 0 ? "the canary instance " + r->name + " failed on "
                                  : "instance " + r->name + " could not be created on ") +
                          m.id() + ": " + e.message());
        }
    }

    // 5. One step: store, active version, plugin objects.
    report.plugin_objects_replaced = prepared.size();
    report.instances = store_.count_instances(connector, true);
    const std::string detail = move.detail + std::to_string(report.instances) + " instance(s), " +
                               std::to_string(report.configs_migrated) + " config(s) migrated, " +
                               std::to_string(report.configs_restored) + " restored";
    runtime_.exclusive_switch(connector, [&] {
        store_.commit_version_switch(
            move.next_state, changed, snapshots,
            {0, connector, action, state->active_version, target, move.actor, now_ms(), "done", detail},
            [&](const std::string& id, const std::optional<SealedSecret>& before, const std::optional<SealedSecret>& after,
                const RotatedSecret& rotation) { return rebase_rotation(secrets_, id, before, after, rotation); });
        active_.set(connector, next);
        if (move.on_commit) move.on_commit();
    }, std::move(prepared));
    running.reset();  // the old version unloads once its calls in flight return
    report.switched = true;
    swaps_.get(connector)->first.fetch_add(1, std::memory_order_relaxed);
    report.millis = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - move.started).count();
    log_info("updates", action + " " + connector + " " + report.from_version + " -> " + target + ": " + detail);
    return report;
}

std::vector<std::string> ConnectorUpdates::follow_store() {
    std::vector<std::string> moved;
    for (const auto& state : store_.list_connector_states()) {
        const ConnectorVersionPtr running = active_.get(state.name);
        if (running && running->version() == state.active_version) continue;  // the usual case: no lock
        try {
            std::lock_guard lock(gate(state.name));
            if (follow_locked(state.name)) moved.push_back(state.name);
        } catch (const std::exception& e) {
            std::lock_guard lock(unfollowed_mutex_);  // said once: the next looks try again quietly
            if (unfollowed_.insert("failed " + state.name + "@" + state.active_version).second)
                log_error("updates", "cannot run " + state.name + " " + state.active_version + ", the version the "
                                         "store records: " + e.what() + " (this host goes on with " +
                                         (running ? running->version() : std::string("none")) +
                                         " and tries again at each look)");
        }
    }
    return moved;
}

bool ConnectorUpdates::follow_locked(const std::string& connector) {
    const auto state = store_.connector_state(connector);  // again, under the gate
    if (!state) return false;
    const std::string& target = state->active_version;
    ConnectorVersionPtr running = active_.get(connector);
    if (running && running->version() == target) return false;
    if (!registry_.package(connector, target)) {
        std::lock_guard lock(unfollowed_mutex_);
        if (unfollowed_.insert("missing " + connector + "@" + target).second)
            log_warn("updates", "another host switched " + connector + " to " + target + ", which is not installed "
                                    "here (not yet shared, or refused: see above); this host goes on with " +
                                    (running ? running->version() : std::string("none")));
        return false;
    }
    if (choices_) choices_->set(connector, parse_isolation(state->isolation));  // before it loads
    ConnectorVersionPtr next = registry_.load(connector, target);
    if (!next) return false;
    // The running instances' plugin objects, built aside on the target from their records
    // (already as the switching host committed them). One that cannot be built here is
    // built again at its next call, where its error is the caller's to see.
    std::vector<std::pair<std::string, LiveInstancePtr>> prepared;
    for (const auto& id : runtime_.live_unpinned(connector)) {
        const auto record = store_.find_instance(id);
        if (!record) continue;
        try {
            prepared.emplace_back(record->id, runtime_.build(*record, next));
        } catch (const Error& e) {
            log_warn("updates", "instance " + record->name + " could not be created on " + next->id() +
                                    " ahead of the switch: " + e.message());
        }
    }
    const size_t replaced = prepared.size();
    runtime_.exclusive_switch(connector, [&] { active_.set(connector, next); }, std::move(prepared));
    {
        std::lock_guard lock(unfollowed_mutex_);  // said again should it ever fail again
        unfollowed_.erase("missing " + connector + "@" + target);
        unfollowed_.erase("failed " + connector + "@" + target);
    }
    log_info("updates", connector + " " + (running ? running->version() : std::string("none")) + " -> " + target +
                            ": followed the switch recorded by another host (" + std::to_string(replaced) +
                            " running instance(s) moved)");
    return true;
}

void ConnectorUpdates::set_policy(std::string_view connector, std::string_view policy,
                                  const std::string& actor) {
    if (policy != "manual" && policy != "auto")
        throw Error(Errc::invalid_argument, "update policy must be 'manual' or 'auto'");
    std::lock_guard lock(gate(connector));
    auto state = store_.connector_state(connector);
    if (!state) throw Error(Errc::not_found, "no installed connector '" + std::string(connector) + "'");
    const std::string before = state->update_policy;
    state->update_policy = std::string(policy);
    if (!store_.replace_connector_state(*state, state->active_version))
        throw Error(Errc::conflict, "another host changed " + state->name + "'s version while its policy was set; "
                                    "set it again");
    record(state->name, "policy", before, std::string(policy), actor, "done", "");
}

ConnectorStatus ConnectorUpdates::status(std::string_view connector) {
    auto state = store_.connector_state(connector);
    if (!state) throw Error(Errc::not_found, "no installed connector '" + std::string(connector) + "'");
    ConnectorStatus s;
    s.state = *state;
    if (auto newest = registry_.package(connector)) s.newest_installed = newest->version;
    s.update_available = !s.newest_installed.empty() &&
                         compare_versions(s.newest_installed, state->active_version) > 0;
    for (const auto& [pin, n] : store_.count_instances_by_pin(connector))
        s.instances_by_version[pin.empty() ? state->active_version : pin] += n;
    return s;
}

std::vector<HistoryEntry> ConnectorUpdates::history(std::string_view connector, size_t limit) {
    return store_.history(connector, limit);
}

void ConnectorUpdates::reshare(std::string_view connector, std::string_view version) {
    if (!store_.shared()) return;
    for (const auto& p : registry_.list()) {
        if (p.name != connector || (!version.empty() && p.version != version)) continue;
        try {
            publish_package(store_, p, true);
        } catch (const std::exception& e) {
            log_warn("updates", "connector " + p.id() + " could not be shared again: " + e.what());
        }
    }
}

size_t ConnectorUpdates::withdraw_shared(std::string_view connector, std::string_view version, const std::string& actor) {
    if (!store_.shared()) return 0;
    const size_t removed = store_.withdraw_packages(connector, version, now_ms());
    if (removed > 0)
        log_info("updates", std::string(connector) + (version.empty() ? "" : "@" + std::string(version)) +
                                " withdrawn from the store by " + actor + " (" + std::to_string(removed) + " package(s))");
    return removed;
}

void ConnectorUpdates::after_uninstall(std::string_view connector, std::string_view version, const std::string& actor) {
    std::lock_guard lock(gate(connector));
    const std::string name(connector);
    if (store_.shared()) store_.withdraw_packages(name, version, now_ms());
    auto state = store_.connector_state(name);
    if (state && registry_.package(name, state->active_version)) return;  // still there
    if (state && store_.shared() && !version.empty() && version != state->active_version) {
        // Another version than the one the store records went: the hosts' choice stands (this
        // host, lacking it, runs it once it has it).
        if (const auto running = active_.get(name); running && !registry_.package(name, running->version()))
            active_.erase(name);
        return;
    }
    if (auto newest = registry_.package(name)) {
        activate(name, newest->version, actor);
    } else {
        active_.erase(name);
        store_.delete_connector_state(name);
        record(name, "uninstall", state ? state->active_version : "", "", actor, "done", "");
    }
}

}  // namespace junction::core
