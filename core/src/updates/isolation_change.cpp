// An isolation set through the API (decision 0015): kept with the connector's state in the
// store, and applied to the running version as an update to the same version, loaded the
// new way: canary, one switch, calls in flight finish on the old copy.
#include <junction/core/updates/connector_updates.hpp>

#include <junction/core/common/error.hpp>
#include <junction/core/common/json.hpp>
#include <junction/core/common/log.hpp>

namespace junction::core {

std::optional<Isolation> parse_isolation(std::string_view text) {
    if (text.empty()) return std::nullopt;
    if (text == "process") return Isolation::process;
    if (text == "in-process") return Isolation::in_process;
    throw Error(Errc::invalid_argument, "isolation must be 'process', 'in-process', or null for the config file's, not '" +
                                            std::string(text) + "'");
}

std::string IsolationChange::to_json() const {
    return R"({"connector":)" + json_quote(connector) + R"(,"isolation":")" + isolation_name(isolation) +
           R"(","source":")" + (chosen ? "api" : "config") + R"(","reloaded":)" + (reloaded ? "true" : "false") +
           R"(,"swap":)" + (reloaded ? swap.to_json() : "null") + "}";
}

IsolationChange ConnectorUpdates::set_isolation(std::string_view connector, std::string_view isolation,
                                                const std::string& actor) {
    const std::optional<Isolation> wanted = parse_isolation(isolation);
    if (!choices_) throw Error(Errc::internal, "this host keeps no isolation choices");
    // Under the connector's gate of version changes: no update, release or policy write interleaves.
    std::lock_guard lock(gate(connector));
    const std::string name(connector);
    const auto state = store_.connector_state(name);
    if (!state)
        throw Error(Errc::not_found, "no installed connector '" + name + "'; list the installed ones to see their names");
    const std::optional<Isolation> before = choices_->get(name);
    IsolationChange change;
    change.connector = name;
    auto settle = [&](std::optional<Isolation> chosen) {
        choices_->set(name, chosen);  // what the registry loads from now on
        change.chosen = chosen.has_value();
        change.isolation = registry_.isolation_for(name);
    };
    settle(wanted);
    ConnectorState next_state = *state;
    next_state.isolation = std::string(isolation);
    const std::string detail = std::string("isolation ") + isolation_name(change.isolation) +
                               (change.chosen ? " (set through the API)" : " (the config file's)");

    const ConnectorVersionPtr running = active_.get(name);
    if (!running || running->isolation() == change.isolation) {  // applies at the next load
        try {
            if (!store_.replace_connector_state(next_state, state->active_version))
                throw Error(Errc::conflict, "another host changed " + name + "'s version meanwhile; set it again");
        } catch (...) {
            settle(before);
            throw;
        }
        record(name, "isolation", state->active_version, state->active_version, actor, "done", detail);
        log_info("updates", name + ": " + detail);
        return change;
    }
    Move move;
    move.connector = name;
    move.action = "isolation";
    move.actor = actor;
    move.state = *state;
    move.next_state = next_state;
    move.detail = detail + "; ";
    move.report.connector = name;
    move.report.from_version = move.report.to_version = state->active_version;
    try {
        move.next = registry_.load_again(name, state->active_version);
    } catch (const Error& e) {
        settle(before);
        change.swap = refuse(move, std::string("it does not load ") + isolation_name(change.isolation) + ": " + e.message());
        return change;
    }
    // Pinned instances of this version, and later loads, get the copy now running.
    move.on_commit = [this, next = move.next] { registry_.adopt(next); };
    change.swap = move_to(move);
    change.reloaded = change.swap.switched;
    if (!change.reloaded) settle(before);
    return change;
}

}  // namespace junction::core
