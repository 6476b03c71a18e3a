// What a connector author derives from. One object of the derived class is one instance:
// it is constructed from the instance's config, answers test_connection and invoke, and
// is destroyed when the host drops the instance. JUNCTION_CONNECTOR(Type) exports it.
//
//   class Files : public junction::sdk::Connector {
//   public:
//       static std::string_view manifest();                       // the manifest JSON
//       explicit Files(junction::sdk::InstanceContext ctx);       // parse the config here
//       void test_connection(junction::sdk::Call& call) override;
//       void invoke(std::string_view operation, const junction::sdk::Json& request,
//                   junction::sdk::Call& call) override;
//       // Optional: converts a config written for an older version of the connector.
//       static std::string migrate_config(std::string_view from_version,
//                                         const junction::sdk::Json& config);
//   };
//   JUNCTION_CONNECTOR(Files)
//
// An engine (ABI 1.2) runs connectors defined by data. Its manifest() has "kind": "engine",
// and it adds one static function that turns a definition into a Definition; each of its
// instances then finds the definition it runs in InstanceContext::definition:
//
//       static std::unique_ptr<junction::sdk::Definition> open_definition(std::string_view json);
#pragma once

#include <junction/plugin_api.h>
#include <junction/sdk/error.hpp>
#include <junction/sdk/host.hpp>
#include <junction/sdk/json.hpp>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace junction::sdk {

// A connector defined by data, as an engine parsed it. manifest() is the manifest of the
// connector it defines. Shared by all instances of that connector, read-only after
// construction (instances run on several threads).
class Definition {
public:
    virtual ~Definition() = default;
    virtual std::string manifest() const = 0;
};

// Everything an instance is created from. The config has been validated by the host
// against the manifest's config_schema.
struct InstanceContext {
    std::string instance_id;
    JsonDocument config;
    Host host;
    const Definition* definition = nullptr;  // engines: the connector definition it runs
};

class Connector {
public:
    explicit Connector(InstanceContext ctx)
        : id_(std::move(ctx.instance_id)),
          config_doc_(std::move(ctx.config)),
          host_(ctx.host),
          definition_(ctx.definition) {}
    virtual ~Connector() = default;
    Connector(const Connector&) = delete;
    Connector& operator=(const Connector&) = delete;

    // Checks that the remote application is reachable with these credentials. Throw an
    // Error to fail; emit an optional JSON object with details.
    virtual void test_connection(Call& call) = 0;

    // Runs one operation named in the manifest. Receives emit pages (see PageWriter);
    // sends emit a page of per-record results. Throw an Error to fail.
    virtual void invoke(std::string_view operation, const Json& request, Call& call) = 0;

    const std::string& instance_id() const { return id_; }
    JsonObject config() const {
        return JsonObject(config_doc_, "instance config", JN_ERR_INVALID_CONFIG);
    }
    const Host& host() const { return host_; }
    // Engines: the connector definition this instance runs (null for other connectors).
    const Definition* definition() const { return definition_; }

private:
    std::string id_;
    JsonDocument config_doc_;
    Host host_;
    const Definition* definition_;
};

namespace detail {

// Runs `body`, turning every exception into a status and a message on the call.
template <class Body>
jn_status guarded(jn_call* raw, Body&& body) noexcept {
    const ServingCall serving(raw);
    Call call(raw);
    try {
        body(call);
        return JN_OK;
    } catch (const Error& e) {
        call.set_error(e.what());
        return e.status();
    } catch (const std::exception& e) {
        call.set_error(std::string("connector failed unexpectedly: ") + e.what());
        return JN_ERR_INTERNAL;
    } catch (...) {
        call.set_error("connector failed unexpectedly: a non-standard exception was thrown");
        return JN_ERR_INTERNAL;
    }
}

inline Connector* as_connector(jn_instance* instance) {
    return reinterpret_cast<Connector*>(instance);
}

// Whether the connector offers `static std::string migrate_config(std::string_view, const Json&)`.
template <class T, class = void>
struct has_migrate_config : std::false_type {};
template <class T>
struct has_migrate_config<T, std::void_t<decltype(T::migrate_config(std::string_view{},
                                                                     std::declval<const Json&>()))>>
    : std::true_type {};

// Whether the connector is an engine: `static std::unique_ptr<Definition> open_definition(std::string_view)`.
template <class T, class = void>
struct is_engine : std::false_type {};
template <class T>
struct is_engine<T, std::void_t<decltype(T::open_definition(std::string_view{}))>> : std::true_type {};

template <class T>
struct Bridge {
    static jn_status describe(jn_call* call) {
        return guarded(call, [](Call& c) { c.emit(T::manifest()); });
    }

    static jn_status instance_create(const jn_instance_params* params, jn_call* call,
                                     jn_instance** out) {
        return guarded(call, [&](Call&) {
            jn_instance_params p{};  // zero-fills what an older host did not send
            std::memcpy(&p, params, std::min<size_t>(params->struct_size, sizeof p));
            InstanceContext ctx{std::string(view(p.instance_id)),
                                parse_json(view(p.config_json), "instance config",
                                           JN_ERR_INVALID_CONFIG),
                                Host(p.host), reinterpret_cast<const Definition*>(p.definition)};
            if constexpr (is_engine<T>::value) {
                if (!ctx.definition)
                    throw Error(JN_ERR_INVALID_REQUEST,
                                "this library is an engine: create instances of the connectors "
                                "it runs, not of the engine itself");
            }
            std::unique_ptr<Connector> instance = std::make_unique<T>(std::move(ctx));
            *out = reinterpret_cast<jn_instance*>(instance.release());
        });
    }

    static void instance_destroy(jn_instance* instance) { delete as_connector(instance); }

    static jn_status test_connection(jn_instance* instance, jn_call* call) {
        return guarded(call, [&](Call& c) { as_connector(instance)->test_connection(c); });
    }

    static jn_status invoke(jn_instance* instance, jn_str operation, jn_str request,
                            jn_call* call) {
        return guarded(call, [&](Call& c) {
            JsonDocument doc = parse_json(view(request), "request");
            if (!doc.IsObject()) throw request_error("request must be a JSON object");
            as_connector(instance)->invoke(view(operation), doc, c);
        });
    }

    static jn_status migrate_config(jn_str from_version, jn_str config, jn_call* call) {
        return guarded(call, [&](Call& c) {
            if constexpr (has_migrate_config<T>::value) {
                const JsonDocument doc = parse_json(view(config), "config to migrate",
                                                    JN_ERR_INVALID_CONFIG);
                c.emit(T::migrate_config(view(from_version), doc));
            }
        });
    }

    static jn_status definition_open(jn_str json, jn_call* call, jn_definition** out) {
        return guarded(call, [&](Call& c) {
            if constexpr (is_engine<T>::value) {
                std::unique_ptr<Definition> d = T::open_definition(view(json));
                c.emit(d->manifest());
                *out = reinterpret_cast<jn_definition*>(d.release());
            }
        });
    }

    static void definition_close(jn_definition* definition) {
        delete reinterpret_cast<Definition*>(definition);
    }

    static const jn_connector_api* table() {
        static const jn_connector_api api = {
            sizeof(jn_connector_api),
            &describe,
            &instance_create,
            &instance_destroy,
            &test_connection,
            &invoke,
            has_migrate_config<T>::value ? &migrate_config : nullptr,
            is_engine<T>::value ? &definition_open : nullptr,
            is_engine<T>::value ? &definition_close : nullptr,
        };
        return &api;
    }
};

template <class T>
jn_status negotiate(const jn_negotiate_request* request, jn_negotiate_response* response) {
    if (!request || !response || !request->host) return JN_ERR_INVALID_REQUEST;
    if (request->host_abi_major != JN_ABI_VERSION_MAJOR) return JN_ERR_UNSUPPORTED;
    if (request->host->struct_size < JN_HOST_API_V1_0_SIZE) return JN_ERR_UNSUPPORTED;

    jn_host_api& api = host_api();
    std::memset(&api, 0, sizeof api);
    std::memcpy(&api, request->host, std::min<size_t>(request->host->struct_size, sizeof api));
    host_abi_minor() = request->host_abi_minor;

    jn_negotiate_response mine{};
    mine.plugin_abi_major = JN_ABI_VERSION_MAJOR;
    mine.plugin_abi_minor = JN_ABI_VERSION_MINOR;
    mine.connector = Bridge<T>::table();
    const size_t n = std::min<size_t>(response->struct_size, sizeof mine);
    mine.struct_size = static_cast<uint32_t>(n);
    std::memcpy(response, &mine, n);
    return JN_OK;
}

}  // namespace detail
}  // namespace junction::sdk

#if defined(__GLIBCXX__)
// libstdc++ allocates its emergency exception pool (~70 KiB) when a library loads and frees
// it only at process exit. A connector links its own copy statically and is loaded and
// unloaded at every version change, so without this each hot swap would leak the pool.
namespace __gnu_cxx {
void __freeres() noexcept;
}
#define JUNCTION_SDK_RELEASE_RUNTIME                                                         \
    __attribute__((destructor)) static void junction_sdk_release_runtime() {                \
        __gnu_cxx::__freeres();                                                             \
    }
#else
#define JUNCTION_SDK_RELEASE_RUNTIME
#endif

// Exports `Type` (a class derived from junction::sdk::Connector) as this library's
// connector. Use it once, in one source file of the library. (plugin_api.h declares both
// symbols with default visibility; the definitions inherit it.)
#define JUNCTION_CONNECTOR(Type)                                                            \
    extern "C" {                                                                            \
    const char jn_abi_tag[] = JN_ABI_TAG;                                                   \
    jn_status jn_plugin_negotiate(const jn_negotiate_request* request,            \
                                            jn_negotiate_response* response) {              \
        return ::junction::sdk::detail::negotiate<Type>(request, response);                 \
    }                                                                                       \
    }                                                                                       \
    JUNCTION_SDK_RELEASE_RUNTIME
