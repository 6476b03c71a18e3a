// The in-process bridge: the connector table of a library loaded into junctiond, called
// directly. No deadline or memory limit can be enforced here (only cancellation, which the
// plugin polls): it is for trusted connectors (isolation = in-process, docs/plugin-abi.md).
#include <junction/core/bridge/bridge.hpp>

#include <junction/core/common/error.hpp>

namespace junction::core {

namespace {

jn_str view(std::string_view s) { return jn_str{s.data(), s.size()}; }

class InProcessInstance final : public InstanceBridge {
public:
    InProcessInstance(std::shared_ptr<PluginLibrary> library, jn_instance* plugin)
        : library_(std::move(library)), plugin_(plugin) {}
    ~InProcessInstance() override { library_->connector().instance_destroy(plugin_); }

    jn_status test_connection(jn_call& call) override {
        return library_->connector().test_connection(plugin_, &call);
    }
    jn_status invoke(std::string_view operation, std::string_view request_json, jn_call& call) override {
        return library_->connector().invoke(plugin_, view(operation), view(request_json), &call);
    }

private:
    std::shared_ptr<PluginLibrary> library_;  // the instance's lease on the library's code
    jn_instance* plugin_;
};

class InProcessVersion final : public VersionBridge {
public:
    explicit InProcessVersion(std::shared_ptr<PluginLibrary> library) : library_(std::move(library)) {}
    ~InProcessVersion() override {
        if (definition_) library_->connector().definition_close(definition_);
    }

    Isolation isolation() const override { return Isolation::in_process; }
    AbiVersion plugin_abi() const override { return library_->plugin_abi(); }
    bool offers_migration() const override { return library_->connector().migrate_config != nullptr; }

    jn_status create_instance(std::string_view instance_id, std::string_view config_json, jn_host_instance* host,
                              jn_call& call, std::unique_ptr<InstanceBridge>& out) override {
        jn_instance_params params{};
        params.struct_size = sizeof params;
        params.instance_id = view(instance_id);
        params.config_json = view(config_json);
        params.host = host;
        params.definition = definition_;
        jn_instance* created = nullptr;
        const jn_status s = library_->connector().instance_create(&params, &call, &created);
        if (s == JN_OK && created) out = std::make_unique<InProcessInstance>(library_, created);
        return s;
    }

    jn_status migrate_config(std::string_view from_version, std::string_view config_json, jn_call& call) override {
        return library_->connector().migrate_config(view(from_version), view(config_json), &call);
    }

    jn_status open(const std::string* definition, jn_call& call) {
        if (!definition) return library_->connector().describe(&call);
        const auto definition_open = library_->connector().definition_open;
        if (!definition_open) {
            call.error = "the library is not an engine (ABI 1.2 definition_open): it cannot run connector definitions";
            return JN_ERR_UNSUPPORTED;
        }
        const jn_status s = definition_open(view(*definition), &call, &definition_);
        if (s == JN_OK && !definition_) {
            call.error = "the engine accepted the definition but returned none";
            return JN_ERR_INTERNAL;
        }
        return s;
    }

private:
    std::shared_ptr<PluginLibrary> library_;
    jn_definition* definition_ = nullptr;  // closed before library_ lets go
};

}  // namespace

const char* isolation_name(Isolation isolation) {
    return isolation == Isolation::process ? "process" : "in-process";
}

std::unique_ptr<VersionBridge> open_in_process(const std::filesystem::path& library, const std::string* definition,
                                               jn_call& call, jn_status& status) {
    auto bridge = std::make_unique<InProcessVersion>(PluginLibrary::load(library, host_api_table()));
    status = bridge->open(definition, call);
    return bridge;
}

}  // namespace junction::core
