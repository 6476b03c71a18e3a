/*
 * Junction plugin ABI, version 1.
 *
 * The one contract between the Junction host and a connector library. Pure C99, so a
 * connector can be built by any compiler against any C++ standard library. A connector and
 * the host share nothing but this header.
 *
 * Rules that hold for every declaration below (docs/plugin-abi.md explains them at length):
 *
 *  - One exported function, jn_plugin_negotiate, and one exported data tag, jn_abi_tag
 *    ("JN_ABI=[1.x]"). Everything else is reached through the tables exchanged there.
 *  - Every struct starts with uint32_t struct_size. The major version must match; a minor
 *    version only appends fields at the end. A reader copies min(struct_size, known size)
 *    and treats the rest as zero, so old and new peers interoperate.
 *  - Strings are jn_str views {ptr, len}, not NUL-terminated, valid only for the duration
 *    of the call that passes them. Copy what you keep.
 *  - Data flows back through host callbacks (emit, set_error, response sinks), so each
 *    side frees only the memory it allocated. Nothing here is ever freed by the other side.
 *  - No exception, longjmp or C++ type ever crosses this boundary.
 *  - Status codes are frozen integers; JN_STATUS_IS_RETRYABLE says if trying again later
 *    can succeed.
 */
#ifndef JUNCTION_PLUGIN_API_H
#define JUNCTION_PLUGIN_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------
 * Versions and the tag
 * ------------------------------------------------------------------------------------- */

#define JN_ABI_VERSION_MAJOR 1
#define JN_ABI_VERSION_MINOR 5

/* The tag a library exports as `const char jn_abi_tag[]`. The host reads it from the file
 * before loading, so a library built for another major version is never even dlopen'ed. */
#define JN_ABI_TAG_PREFIX "JN_ABI=["
#define JN_ABI_TAG_STRINGIFY2(x) #x
#define JN_ABI_TAG_STRINGIFY(x) JN_ABI_TAG_STRINGIFY2(x)
#define JN_ABI_TAG                                                                         \
    JN_ABI_TAG_PREFIX JN_ABI_TAG_STRINGIFY(JN_ABI_VERSION_MAJOR) "." JN_ABI_TAG_STRINGIFY( \
        JN_ABI_VERSION_MINOR) "]"

#define JN_ENTRY_SYMBOL "jn_plugin_negotiate"
#define JN_TAG_SYMBOL "jn_abi_tag"

#if defined(_WIN32)
#define JN_EXPORT __declspec(dllexport)
#else
#define JN_EXPORT __attribute__((visibility("default")))
#endif

/* ---------------------------------------------------------------------------------------
 * Status codes. Frozen: a value, once published, never changes meaning.
 *   0        success
 *   100-199  retryable: the same call may succeed later
 *   200-299  permanent: retrying the same call will fail the same way
 * A host receiving a value it does not know treats it as JN_ERR_INTERNAL.
 * ------------------------------------------------------------------------------------- */

typedef int32_t jn_status;

#define JN_OK 0

#define JN_ERR_RATE_LIMITED 100 /* the remote API throttled us; back off */
#define JN_ERR_TRANSIENT 101    /* network error, 5xx, remote temporarily unavailable */
#define JN_ERR_TIMEOUT 102      /* the remote API did not answer in time */

#define JN_ERR_AUTH 200            /* credentials missing, wrong, expired or forbidden */
#define JN_ERR_INVALID_CONFIG 201  /* the instance config cannot work */
#define JN_ERR_NOT_FOUND 202       /* the operation, record or key does not exist */
#define JN_ERR_INVALID_REQUEST 203 /* the request JSON is malformed or not accepted */
#define JN_ERR_UNSUPPORTED 204     /* the connector does not implement this */
#define JN_ERR_INTERNAL 205        /* a bug or an unexpected state in the plugin or host */
#define JN_ERR_CANCELLED 206       /* the host cancelled the call */
#define JN_ERR_TOO_LARGE 207       /* a response or record exceeded a size limit */
#define JN_ERR_CONFLICT 208        /* (1.3) a value changed since it was read: read it again */

#define JN_STATUS_IS_RETRYABLE(s) ((s) >= 100 && (s) <= 199)

/* ---------------------------------------------------------------------------------------
 * Views
 * ------------------------------------------------------------------------------------- */

/* A borrowed, non-owning UTF-8 byte range. Not NUL-terminated. Valid only for the
 * duration of the call that passes it. An empty view may have ptr == NULL. */
typedef struct jn_str {
    const char* ptr;
    size_t len;
} jn_str;

/* ---------------------------------------------------------------------------------------
 * Opaque handles
 * ------------------------------------------------------------------------------------- */

/* Host-owned. Identifies one instance towards the host services (logging, state, HTTP
 * connection reuse). Valid from instance_create until instance_destroy returns. */
typedef struct jn_host_instance jn_host_instance;

/* Host-owned. One call in progress: where results and errors go, and whether the host
 * wants it to stop. Valid only until the connector function it was passed to returns. */
typedef struct jn_call jn_call;

/* Plugin-owned. One instance of the connector, created by instance_create and released by
 * instance_destroy. The host never looks inside. */
typedef struct jn_instance jn_instance;

/* An engine's parsed connector definition (ABI 1.2), opaque to the host. */
typedef struct jn_definition jn_definition;

/* ---------------------------------------------------------------------------------------
 * Host services: the table the host gives a plugin at negotiation. Valid until the
 * library is unloaded. Every function may be called from any thread the host called the
 * plugin on, and from threads the plugin started (while the handle it passes is valid).
 * ------------------------------------------------------------------------------------- */

#define JN_LOG_DEBUG 10
#define JN_LOG_INFO 20
#define JN_LOG_WARN 30
#define JN_LOG_ERROR 40

typedef struct jn_http_header {
    jn_str name;
    jn_str value;
} jn_http_header;

typedef struct jn_http_request {
    uint32_t struct_size;
    uint32_t timeout_ms; /* whole-request timeout; 0 = the host's default */
    jn_str method;       /* "GET", "POST", ... */
    jn_str url;          /* absolute http:// or https:// URL */
    const jn_http_header* headers;
    size_t header_count;
    jn_str body;
    /* ABI 1.5: the host starts this request no sooner than this many milliseconds after
     * http_request or http_request_batch was called, nor sooner after the start of the
     * batch's request before it than the difference of their start_after_ms (one that
     * started late, waiting for a slot, moves those after it as much); 0: at once.
     * Requests of a batch start in index order: give nondecreasing values (a rate limit's
     * turns). A request waiting for its start holds none of the call's request slots; the
     * wait counts against the call's deadline (a start past it fails the request with
     * JN_ERR_TIMEOUT) and ends when the call is cancelled (JN_ERR_CANCELLED). A 1.0-1.4
     * host reads the struct without it and starts the request at once: wait before
     * calling instead (the SDK's http_batch does). */
    uint32_t start_after_ms;
} jn_http_request;

typedef struct jn_http_response {
    uint32_t struct_size;
    uint32_t status_code; /* HTTP status, e.g. 200 */
    const jn_http_header* headers;
    size_t header_count;
    jn_str body;
} jn_http_response;

/* Receives a response. Everything it points to is valid only during this callback. */
typedef void (*jn_http_response_fn)(void* user, const jn_http_response* response);

/* Receives the outcome of request `index` of a batch (ABI 1.3): on JN_OK the response,
 * whatever its HTTP status; otherwise response is NULL and status says why, as for
 * http_request. Everything it points to is valid only during this callback. */
typedef void (*jn_http_result_fn)(void* user, size_t index, jn_status status,
                                  const jn_http_response* response);

/* The most requests one http_request_batch takes (ABI 1.3). */
#define JN_HTTP_BATCH_MAX 256

/* Receives a value (a state entry). Valid only during this callback. */
typedef void (*jn_value_fn)(void* user, jn_str value);

typedef struct jn_host_api {
    uint32_t struct_size;

    /* Writes one line to the host log, attributed to the instance (or to the library when
     * instance is NULL). Never blocks on I/O for long. Must not contain secrets: the host
     * does not know which bytes are secret in free text. */
    void (*log)(jn_host_instance* instance, uint32_t level, jn_str message);

    /* Performs one HTTP request through the host's HTTP stack (TLS verified, proxy from
     * the environment, response size capped, connection reused per instance). Blocks the
     * calling thread until the response is complete, the timeout expires or the call is
     * cancelled. On JN_OK, on_response was called exactly once, whatever the HTTP status.
     * Otherwise it was not called and the status says why: JN_ERR_TIMEOUT,
     * JN_ERR_TRANSIENT (connection failed), JN_ERR_TOO_LARGE, JN_ERR_CANCELLED,
     * JN_ERR_INVALID_REQUEST (bad URL or method). */
    jn_status (*http_request)(jn_call* call, const jn_http_request* request,
                              jn_http_response_fn on_response, void* user);

    /* Per-instance key/value state, kept by the host across calls and restarts.
     * state_get calls sink once and returns JN_OK, or returns JN_ERR_NOT_FOUND. */
    jn_status (*state_get)(jn_host_instance* instance, jn_str key, jn_value_fn sink,
                           void* user);
    jn_status (*state_set)(jn_host_instance* instance, jn_str key, jn_str value);
    jn_status (*state_delete)(jn_host_instance* instance, jn_str key);

    /* Wall-clock time in milliseconds since the Unix epoch. */
    int64_t (*clock_now_ms)(void);

    /* Returns 1 when the host wants the call to stop as soon as it safely can (the plugin
     * then returns JN_ERR_CANCELLED), 0 otherwise. Cheap; poll it between pages. */
    uint32_t (*is_cancelled)(jn_call* call);

    /* Hands one result to the host: for describe, the manifest JSON; for invoke, one page
     * (a JSON array of records); for test_connection, an optional detail JSON object.
     * The host copies or consumes the bytes before returning. Returns JN_OK to continue,
     * JN_ERR_CANCELLED when the plugin should stop producing. */
    jn_status (*emit)(jn_call* call, jn_str json);

    /* Attaches a human-readable reason to a failing call; the last one set wins. Say what
     * was wrong and what to do. Never include a credential. */
    void (*set_error)(jn_call* call, jn_str message);

    /* --- ABI 1.3 --- */

    /* Performs `count` independent HTTP requests, each exactly as http_request would, and
     * hands each outcome to on_result: exactly once per request, in index order, on the
     * calling thread, never concurrently, all before it returns. Everything that would make
     * http_request fail makes only that request's outcome fail (a NULL entry or a bad URL:
     * JN_ERR_INVALID_REQUEST; outside an instance call: JN_ERR_UNSUPPORTED; once the call is
     * cancelled: JN_ERR_CANCELLED, or JN_ERR_TIMEOUT past its deadline, for requests not yet
     * performed). The host may perform the requests concurrently and in any order: a
     * connector whose requests depend on each other sends them one by one. For an isolated
     * connector the batch crosses to junctiond in one message (or a few, for large bodies),
     * so a send of many records costs one crossing, not one per record. `requests` is an
     * array of pointers, not of structs: each request carries its own struct_size. Returns
     * JN_OK, or without calling on_result at all: JN_ERR_INVALID_REQUEST (call, requests or
     * on_result is NULL), JN_ERR_TOO_LARGE (count over JN_HTTP_BATCH_MAX). NULL in a table
     * from a 1.0-1.2 host: call http_request in a loop. */
    jn_status (*http_request_batch)(jn_call* call, const jn_http_request* const* requests,
                                    size_t count, jn_http_result_fn on_result, void* user);

    /* The instance's credentials as the host keeps them: the secret ("writeOnly") fields of
     * its config, sealed at rest. A connector whose remote application rotates a credential
     * (an OAuth refresh token replaced at every grant) reads the current value here rather
     * than from the config it was created with, and stores the replacement with
     * credential_swap, so the instance keeps working after a restart, an eviction, a config
     * change or a hot swap, and every plugin object of the instance sees it.
     * credential_get calls sink once with the current value and returns JN_OK; otherwise
     * JN_ERR_NOT_FOUND (not set), JN_ERR_INVALID_REQUEST (`name` is not a secret field of
     * the connector, or longer than 1 KiB), JN_ERR_UNSUPPORTED (this host keeps no
     * credentials, e.g. a checker), JN_ERR_TRANSIENT (the store failed: try later). Both
     * functions may be called wherever state_get may, and block on the host's store (for
     * an isolated connector, on a round trip to junctiond): call them per grant, not per
     * request. The value read is redacted from this plugin object's log lines. */
    jn_status (*credential_get)(jn_host_instance* instance, jn_str name, jn_value_fn sink,
                                void* user);

    /* Compare-and-set: stores `value` as the credential `name` only if its current value is
     * `expected`, and returns JN_OK. An unset credential reads as empty here: `expected` ""
     * sets one that is not set. When another plugin object of the instance or an operator
     * changed it first, nothing is written and it returns JN_ERR_CONFLICT: read it again
     * with credential_get and use that. Also JN_ERR_INVALID_REQUEST, JN_ERR_UNSUPPORTED,
     * JN_ERR_TRANSIENT (as above), JN_ERR_TOO_LARGE (a value over 64 KiB). A stored value is
     * redacted from the instance's log lines from then on. Any of the connector's secret
     * fields can be replaced: replace only what the remote application rotated. */
    jn_status (*credential_swap)(jn_host_instance* instance, jn_str name, jn_str expected,
                                 jn_str value);

    /* --- ABI 1.4 --- */

    /* A line about this call for whoever made it, written also to the instance's log: a
     * flow's run log shows it beside the shape that made the call. For what the user of the
     * call should see without the call failing: an answer the remote application marked
     * partial, records it skipped. Levels and redaction as for log; the host may keep only
     * the first lines of a call. NULL in a table from a 1.0-1.3 host: use log. */
    void (*call_log)(jn_call* call, uint32_t level, jn_str message);
} jn_host_api;

/* ---------------------------------------------------------------------------------------
 * The connector: the table a plugin gives the host at negotiation. Valid until the
 * library is unloaded. All functions return a jn_status and report details through the
 * jn_call they receive (emit, set_error).
 *
 * Threading: describe may be called at any time from any thread. instance_create and
 * instance_destroy of one instance never overlap any other call on that instance.
 * test_connection and invoke may run concurrently, on the same instance and on different
 * ones, from different host threads: an instance must tolerate that.
 * Blocking: calls may block on host services (HTTP, state); they should poll
 * is_cancelled between pages and return JN_ERR_CANCELLED when asked.
 * ------------------------------------------------------------------------------------- */

typedef struct jn_instance_params {
    uint32_t struct_size;
    jn_str instance_id;          /* stable id chosen by the host */
    jn_str config_json;          /* settings and credentials, validated against the schema */
    jn_host_instance* host;      /* the handle to pass to host services for this instance */
    /* --- ABI 1.2 --- */
    jn_definition* definition;   /* engines: the definition this instance runs (one that
                                    definition_open returned); NULL for a library's own
                                    connector and from a 1.0/1.1 host */
} jn_instance_params;

typedef struct jn_connector_api {
    uint32_t struct_size;

    /* Emits the connector manifest (one JSON object, see docs/plugin-abi.md): name,
     * version, display_name, description, auth_methods, config_schema, operations. */
    jn_status (*describe)(jn_call* call);

    /* Creates an instance from its config. On JN_OK, *out is the new instance (non-NULL).
     * On failure, *out is untouched and set_error explains (JN_ERR_INVALID_CONFIG...). */
    jn_status (*instance_create)(const jn_instance_params* params, jn_call* call,
                                 jn_instance** out);

    /* Releases an instance. Joins any thread the instance started. Never fails. */
    void (*instance_destroy)(jn_instance* instance);

    /* Checks that the instance can reach and authenticate to the remote application. */
    jn_status (*test_connection)(jn_instance* instance, jn_call* call);

    /* Runs one operation named in the manifest with a request JSON object. A receive
     * operation emits zero or more pages (JSON arrays of records); a send operation
     * takes its records in the request and emits a page of per-record results. */
    jn_status (*invoke)(jn_instance* instance, jn_str operation, jn_str request_json,
                        jn_call* call);

    /* --- ABI 1.1 --- */

    /* Converts an instance config written for an older version of this connector into one
     * that fits this version's config_schema, and emits it (one JSON object). Called when
     * the host applies an update, before any instance of this version exists; never
     * concurrently for the same config. Pure: no HTTP, no state. Returns
     * JN_ERR_UNSUPPORTED when it cannot convert from `from_version`. May be NULL (and is
     * zero for a 1.0 plugin): the connector offers no migration. */
    jn_status (*migrate_config)(jn_str from_version, jn_str config_json, jn_call* call);

    /* --- ABI 1.2: engines --- */

    /* An engine is a library that runs connectors defined by data, such as declarative
     * REST manifests: its describe emits a manifest with "kind": "engine", and each
     * definition the host hands it becomes a connector of its own, with its own name,
     * version, config schema and instances (docs/plugin-abi.md, "Engines").
     * definition_open checks one definition, emits the manifest of the connector it
     * defines (exactly as describe does for a library's own connector) and on JN_OK sets
     * *out. A bad definition fails with JN_ERR_INVALID_REQUEST and a message that gives
     * the JSON path. May be called from any thread, any number of times. NULL for a
     * library that is not an engine. */
    jn_status (*definition_open)(jn_str definition_json, jn_call* call, jn_definition** out);

    /* Releases a definition. The host calls it once, after the last instance created with
     * the definition has been destroyed. Never fails. */
    void (*definition_close)(jn_definition* definition);
} jn_connector_api;

/* The size of each table as ABI 1.0 defined it: a peer announcing less is refused. Fields
 * after it (1.1: migrate_config; 1.2: definition_open/close, jn_instance_params.definition;
 * 1.3: http_request_batch, credential_get/swap; 1.4: call_log; 1.5:
 * jn_http_request.start_after_ms)
 * are read as zero from a peer that did not send them. */
#define JN_HOST_API_V1_0_SIZE ((uint32_t)(offsetof(jn_host_api, set_error) + sizeof(void*)))
#define JN_CONNECTOR_API_V1_0_SIZE \
    ((uint32_t)(offsetof(jn_connector_api, invoke) + sizeof(void*)))

/* ---------------------------------------------------------------------------------------
 * Negotiation: the one entry point.
 * ------------------------------------------------------------------------------------- */

typedef struct jn_negotiate_request {
    uint32_t struct_size;
    uint32_t host_abi_major;
    uint32_t host_abi_minor;
    const jn_host_api* host; /* valid until the library is unloaded */
} jn_negotiate_request;

typedef struct jn_negotiate_response {
    uint32_t struct_size; /* set by the host to the size it allocated */
    uint32_t plugin_abi_major;
    uint32_t plugin_abi_minor;
    const jn_connector_api* connector; /* plugin-owned, static for the library's life */
} jn_negotiate_response;

/* Called once, right after the library is loaded, before any other call. The plugin
 * fills the response (writing no more than response->struct_size bytes) and returns JN_OK,
 * or returns an error when it cannot work with this host's ABI. Must not block. */
typedef jn_status (*jn_plugin_negotiate_fn)(const jn_negotiate_request* request,
                                            jn_negotiate_response* response);

/* What every connector library defines and exports (the SDK's JUNCTION_CONNECTOR macro
 * does it for C++ authors). The host declares nothing else. */
JN_EXPORT jn_status jn_plugin_negotiate(const jn_negotiate_request* request,
                                        jn_negotiate_response* response);
JN_EXPORT extern const char jn_abi_tag[];

#ifdef __cplusplus
}
#endif

#endif /* JUNCTION_PLUGIN_API_H */
