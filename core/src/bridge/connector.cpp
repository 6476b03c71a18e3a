#include <junction/core/bridge/connector.hpp>

#include <junction/core/common/error.hpp>
#include <junction/core/bridge/host_services.hpp>
#include <junction/core/bridge/process/connector_process.hpp>
#include <junction/core/registry/package_file.hpp>
#include <junction/core/common/status.hpp>

#include <fstream>
#include <iterator>

namespace junction::core {

namespace {

// Turns a plugin's status into an Error that says who failed, how, and whether retrying
// can help. Unknown statuses are refused as internal errors of the plugin. `context`
// names the call; it is only built when there is an error, to keep calls cheap.
template <class Context>
void check(jn_status status, const jn_call& call, Context&& make_context) {
    if (status == JN_OK) return;
    const std::string context = make_context();
    if (call.host_failed)
        throw Error(Errc::internal, "the host stopped the call: " + call.error, context);
    if (!is_known_status(status)) {
        throw Error(Errc::plugin_failed,
                    "the plugin returned status " + std::to_string(status) +
                        ", which plugin ABI " + std::to_string(JN_ABI_VERSION_MAJOR) +
                        ".x does not define; treated as an internal error of the plugin, "
                        "report it to the connector's author",
                    context, JN_ERR_INTERNAL);
    }
    const std::string reason = call.error.empty() ? "failed without giving a reason" : call.error;
    throw Error(Errc::plugin_failed,
                reason + " [" + status_name(status) +
                    (JN_STATUS_IS_RETRYABLE(status) ? ", retryable]" : ", not retryable]"),
                context, status);
}

// A call whose result is one JSON document (describe, migrate_config): keeps the last
// one emitted and counts them.
struct SingleResult {
    std::string json;
    size_t emitted = 0;
    PageSink sink = [this](std::string_view j) {
        json.assign(j);
        ++emitted;
    };
    jn_call call;
    SingleResult() { call.on_emit = &sink; }
    SingleResult(const SingleResult&) = delete;
};

// The one manifest a describe or definition_open call emitted, validated.
std::shared_ptr<const Manifest> emitted_manifest(const SingleResult& result, const std::string& what,
                                                 const std::string& context) {
    if (result.emitted != 1)
        throw Error(Errc::plugin_rejected,
                    what + " must emit exactly one manifest, it emitted " + std::to_string(result.emitted),
                    context);
    try {
        return std::make_shared<const Manifest>(parse_manifest(result.json));
    } catch (const Error& e) {
        throw Error(Errc::plugin_rejected, e.message(), context);
    }
}

}  // namespace

std::shared_ptr<ConnectorVersion> ConnectorVersion::open_bridge(const std::filesystem::path& library,
                                                                const std::string* definition,
                                                                const std::filesystem::path& file, std::string sha256,
                                                                const LoadOptions& options, const std::string& what) {
    std::shared_ptr<ConnectorVersion> v(new ConnectorVersion());
    v->sha256_ = std::move(sha256);
    v->file_ = file;
    const std::string context = file.filename().string();
    SingleResult result;
    jn_status status = JN_OK;
    v->bridge_ = options.isolation == Isolation::process
                     ? open_in_connector_process(options.process, library, definition, result.call, status)
                     : open_in_process(library, definition, result.call, status);
    try {
        check(status, result.call, [&] { return context + " " + what; });
    } catch (const Error& e) {
        throw Error(Errc::plugin_rejected,
                    (definition ? "the definition was refused: " : "describe failed: ") + e.message(), e.context());
    }
    v->manifest_ = emitted_manifest(result, what, context);
    return v;
}

std::shared_ptr<ConnectorVersion> ConnectorVersion::open(const std::filesystem::path& file, std::string sha256,
                                                         const LoadOptions& options) {
    return open_bridge(file, nullptr, file, std::move(sha256), options, "describe");
}

std::shared_ptr<ConnectorVersion> ConnectorVersion::open_definition(const std::filesystem::path& engine_library,
                                                                    const std::string& engine_name,
                                                                    const std::filesystem::path& file,
                                                                    std::string sha256, const LoadOptions& options) {
    std::ifstream in(file, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    if (!in && !in.eof()) throw Error(Errc::io, "cannot read the connector definition", file.filename().string());
    auto v = open_bridge(engine_library, &text, file, std::move(sha256), options,
                         "definition_open (" + engine_name + ")");
    v->engine_ = engine_name;
    if (v->manifest_->is_engine)
        throw Error(Errc::plugin_rejected, "a definition must define a connector, not an engine",
                    file.filename().string());
    return v;
}

std::shared_ptr<ConnectorVersion> open_package_file(const std::filesystem::path& package,
                                                    const std::filesystem::path& engine) {
    if (!is_definition_package(package)) return ConnectorVersion::open(package, sha256_file(package));
    const auto runner = ConnectorVersion::open(engine, sha256_file(engine));
    if (!runner->manifest().is_engine)
        throw Error(Errc::plugin_rejected,
                    runner->id() + " is not an engine: it cannot run connector definitions", package.filename().string());
    return ConnectorVersion::open_definition(engine, runner->name(), package, sha256_file(package));
}

ConnectorVersion::~ConnectorVersion() = default;

AbiVersion ConnectorVersion::plugin_abi() const { return bridge_->plugin_abi(); }

Isolation ConnectorVersion::isolation() const { return bridge_->isolation(); }

void ConnectorVersion::lift_quarantine() const { bridge_->lift_quarantine(); }

void ConnectorVersion::let_process_end() const { bridge_->let_process_end(); }

std::unique_ptr<ConnectorInstance> ConnectorVersion::create_instance(
    const InstanceSpec& spec) const {
    const std::string context = id() + " instance '" + spec.id + "'";
    if (!spec.state) throw Error(Errc::internal, "no state store given", context);
    if (manifest_->is_engine)
        throw Error(Errc::invalid_argument,
                    id() + " is an engine: it runs connectors defined by data and has no "
                           "instances of its own; create instances of a connector it runs",
                    context);
    rapidjson::Document config;
    try {
        config = parse_json_text(spec.config_json, "the instance config");
    } catch (const Error& e) {
        throw Error(Errc::invalid_argument, e.message(), context);
    }
    if (auto problem = manifest_->config_schema.validate(config))
        throw Error(Errc::invalid_argument,
                    "the instance config does not match " + id() + "'s config schema: " + *problem,
                    context);

    std::unique_ptr<ConnectorInstance> inst(new ConnectorInstance());
    inst->lease_ = shared_from_this();
    inst->id_ = spec.id;
    inst->http_ = std::make_unique<HttpClient>(spec.http);
    inst->host_ = std::make_unique<jn_host_instance>();
    inst->host_->log_component = id() + "/" + spec.id;
    inst->host_->redactor.add_config(config, manifest_->secret_fields);
    inst->host_->state = spec.state;
    inst->host_->http = inst->http_.get();
    inst->http_counters_ = spec.http_counters;
    inst->host_->http_counters = inst->http_counters_.get();

    jn_call call;
    call.instance = inst->host_.get();
    check(bridge_->create_instance(spec.id, spec.config_json, inst->host_.get(), call, inst->bridge_), call,
          [&] { return context + " create"; });
    if (!inst->bridge_)
        throw Error(Errc::plugin_failed, "instance_create returned JN_OK but no instance",
                    context, JN_ERR_INTERNAL);
    return inst;
}

std::optional<std::string> ConnectorVersion::migrate_config(std::string_view from_version,
                                                            std::string_view config_json) const {
    if (!bridge_->offers_migration()) return std::nullopt;
    SingleResult result;
    const jn_status s = bridge_->migrate_config(from_version, config_json, result.call);
    if (s == JN_ERR_UNSUPPORTED || (s == JN_OK && result.emitted == 0)) return std::nullopt;
    check(s, result.call, [&] { return id() + " migrate_config from " + std::string(from_version); });
    return std::move(result.json);
}

ConnectorInstance::~ConnectorInstance() = default;

bool ConnectorInstance::usable() const { return bridge_->usable(); }

std::string ConnectorInstance::test_connection(const CallOptions& options) {
    std::string detail;
    jn_call call;
    call.instance = host_.get();
    call.cancelled = options.cancelled;
    const PageSink on_detail = [&](std::string_view json) { detail.assign(json); };
    call.on_emit = &on_detail;
    check(bridge_->test_connection(call), call,
          [&] { return lease_->id() + " instance '" + id_ + "' test_connection"; });
    return detail;
}

void ConnectorInstance::invoke(std::string_view operation, std::string_view request_json,
                               const PageSink& sink, const CallOptions& options) {
    auto context = [&] {
        return lease_->id() + " instance '" + id_ + "' invoke '" + std::string(operation) + "'";
    };
    if (!lease_->manifest().find_operation(operation))
        throw Error(Errc::not_found,
                    "the connector has no operation '" + std::string(operation) +
                        "'; see its manifest for the operations it offers",
                    context());
    jn_call call;
    call.instance = host_.get();
    call.cancelled = options.cancelled;
    call.on_emit = &sink;
    call.request_slots = options.request_slots;
    if (options.on_log) call.on_log = &options.on_log;
    check(bridge_->invoke(operation, request_json, call), call, context);
}

}  // namespace junction::core
