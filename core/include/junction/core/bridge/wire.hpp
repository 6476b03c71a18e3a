// The messages between junctiond and a connector process (junction-connector-host) over
// their Unix socket: one frame per message, a 16-byte header then the payload. The daemon
// reads what a connector process sends as untrusted input: every read is bounded, a frame
// larger than the receiver's cap or a payload that does not decode ends the channel
// (docs/decisions/0015). Both ends are built from this one file, on the same machine, so
// integers go in host byte order.
#pragma once

#include <junction/plugin_api.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace junction::core::wire {

// A frame that is not what the protocol says: the peer is broken or hostile.
class WireError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Two kinds of socket join junctiond and a connector process (decision 0015): the control
// socket, one per process, and lanes, one per call in progress (a lane is kept for the next
// call when one ends). A call's own messages go over its lane, between the calling thread
// and the process's thread that runs the call, with no thread in between.
enum class Type : uint16_t {
    // junctiond -> connector process. `id` is the call's id unless said otherwise.
    open = 1,            // lane. Open: load the library, describe it (or open a definition)
    create = 2,          // lane. Create: instance_create
    destroy = 3,         // control. InstanceCall (id 0): instance_destroy, no answer
    test_connection = 4, // lane. InstanceCall
    invoke = 5,          // lane. Invoke
    migrate = 6,         // lane. Migrate: migrate_config
    cancel = 7,          // control. empty: the host wants the call to stop (is_cancelled turns 1)
    emit_ack = 8,        // lane. StatusOnly: the page was consumed; JN_ERR_CANCELLED to stop
    http_response = 9,   // lane. HttpResponse, id = the request's id
    state_reply = 10,    // control. StateReply, id = the request's id
    lane = 11,           // control. empty, id = the lane's number; carries the lane's socket

    // connector process -> junctiond
    opened = 32,         // lane. Opened: the library's negotiated ABI (before the open call's done)
    emit = 33,           // lane. text: one emitted JSON result of the call
    set_error = 34,      // lane. text: the call's reason for failing
    done = 35,           // lane. StatusOnly: the call returned this status
    log = 36,            // control. Log (id 0)
    http_request = 37,   // lane. HttpRequest, id = a new request id
    state_get = 38,      // control. StateRequest, id = a new request id
    state_set = 39,      // control. StateRequest
    state_delete = 40,   // control. StateRequest
    credential_get = 41, // control. StateRequest (key: the credential's name); answered by state_reply
    credential_swap = 42, // control. CredentialSwap; answered by state_reply
    call_log = 43,       // lane. Log (instance 0): a line about the call, for its caller (ABI 1.4)
};

struct Header {
    uint32_t size = 0;  // payload bytes after the header
    uint16_t type = 0;
    uint16_t reserved = 0;
    uint64_t id = 0;
};
static_assert(sizeof(Header) == 16);

// One received message.
struct Frame {
    Type type{};
    uint64_t id = 0;
    std::string payload;
};

// Appends fields to a frame being built; finish() fills in the header.
class Writer {
public:
    Writer(Type type, uint64_t id);
    Writer& u32(uint32_t v);
    Writer& u64(uint64_t v);
    Writer& i32(int32_t v) { return u32(static_cast<uint32_t>(v)); }
    Writer& str(std::string_view s);
    // The whole frame, header included.
    std::string finish() &&;

private:
    std::string bytes_;
};

// Reads fields of a payload in order; throws WireError past the end or when a count is
// larger than what is left.
class Reader {
public:
    explicit Reader(std::string_view payload) : rest_(payload) {}
    uint32_t u32();
    uint64_t u64();
    int32_t i32() { return static_cast<int32_t>(u32()); }
    std::string_view str();
    // Refuses bytes left over: a payload is exactly its fields.
    void end() const;

private:
    std::string_view rest_;
};

// The payloads, each with its encoder and decoder. Decoders throw WireError.
struct Open {  // the library is the one the process was started for
    std::string definition;  // a connector definition's text, run by the library (an engine)
    bool has_definition = false;
};
struct Opened {
    uint32_t abi_major = 0;
    uint32_t abi_minor = 0;
    uint32_t has_migrate = 0;
};
struct Create {
    uint64_t instance = 0;  // the handle the host chose; names the instance from now on
    std::string instance_id;
    std::string config_json;
};
struct InstanceCall {  // destroy, test_connection
    uint64_t instance = 0;
};
struct Invoke {
    uint64_t instance = 0;
    std::string operation;
    std::string request_json;
};
struct Migrate {
    std::string from_version;
    std::string config_json;
};
struct StatusOnly {  // done, emit_ack
    jn_status status = JN_OK;
};
struct Log {
    uint64_t instance = 0;  // 0: the library itself
    uint32_t level = 0;
    std::string message;
};
using Headers = std::vector<std::pair<std::string, std::string>>;
struct HttpRequest {
    uint64_t call = 0;  // the call it is made in
    uint32_t timeout_ms = 0;
    // ABI 1.5, as the plugin gave it (counted from its call). junctiond serves a batch in
    // pieces, each once every answer of the one before came, and counts a piece's turns
    // from the last request of the batch that got an answer; `batch` says which batch of
    // the call it belongs to (several may run at once, from the plugin's threads).
    uint32_t start_after_ms = 0;
    uint64_t batch = 0;
    std::string method;
    std::string url;
    Headers headers;
    std::string body;
};
struct HttpResponse {
    jn_status status = JN_OK;  // not JN_OK: no response, `error` says why
    uint32_t status_code = 0;
    Headers headers;
    std::string body;
    std::string error;
};
struct StateRequest {  // state_get, state_set, state_delete
    uint64_t instance = 0;
    std::string key;
    std::string value;  // state_set only
};
struct CredentialSwap {  // credential_swap
    uint64_t instance = 0;
    std::string name;
    std::string expected;
    std::string value;
};
struct StateReply {
    jn_status status = JN_OK;
    std::string value;
};

// Most headers a request or response may carry across: more is a broken peer.
inline constexpr size_t kMaxHeaders = 1024;

std::string encode(uint64_t id, const Open& m);
std::string encode(uint64_t id, const Opened& m);
std::string encode(uint64_t id, const Create& m);
std::string encode(Type type, uint64_t id, const InstanceCall& m);  // destroy, test_connection
std::string encode(uint64_t id, const Invoke& m);
std::string encode(uint64_t id, const Migrate& m);
std::string encode(Type type, uint64_t id, const StatusOnly& m);    // done, emit_ack
std::string encode(Type type, uint64_t id, std::string_view text);  // emit, set_error
std::string encode(uint64_t id, const Log& m, Type type = Type::log);
std::string encode(uint64_t id, const HttpRequest& m);
std::string encode(uint64_t id, const HttpResponse& m);
std::string encode(Type type, uint64_t id, const StateRequest& m);  // state_get/set/delete
std::string encode(uint64_t id, const CredentialSwap& m);
std::string encode(uint64_t id, const StateReply& m);
std::string encode_empty(Type type, uint64_t id);                   // cancel, lane

Open decode_open(std::string_view payload);
Opened decode_opened(std::string_view payload);
Create decode_create(std::string_view payload);
InstanceCall decode_instance_call(std::string_view payload);
Invoke decode_invoke(std::string_view payload);
Migrate decode_migrate(std::string_view payload);
StatusOnly decode_status(std::string_view payload);
// emit, set_error: a view into `payload`.
std::string_view decode_text(std::string_view payload);
Log decode_log(std::string_view payload);
HttpRequest decode_http_request(std::string_view payload);
HttpResponse decode_http_response(std::string_view payload);
StateRequest decode_state_request(std::string_view payload);
CredentialSwap decode_credential_swap(std::string_view payload);
StateReply decode_state_reply(std::string_view payload);

// Checks that `payload` decodes as a message of `type`; throws WireError otherwise (an
// unknown type included). What the fuzz target and a strict receiver use.
void check_payload(Type type, std::string_view payload);

}  // namespace junction::core::wire
