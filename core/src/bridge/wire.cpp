#include <junction/core/bridge/wire.hpp>

#include <cstring>

namespace junction::core::wire {

Writer::Writer(Type type, uint64_t id) {
    Header h;
    h.type = static_cast<uint16_t>(type);
    h.id = id;
    bytes_.resize(sizeof h);
    std::memcpy(bytes_.data(), &h, sizeof h);
}

Writer& Writer::u32(uint32_t v) {
    bytes_.append(reinterpret_cast<const char*>(&v), sizeof v);
    return *this;
}

Writer& Writer::u64(uint64_t v) {
    bytes_.append(reinterpret_cast<const char*>(&v), sizeof v);
    return *this;
}

Writer& Writer::str(std::string_view s) {
    if (s.size() > UINT32_MAX) throw WireError("a field of " + std::to_string(s.size()) + " bytes does not fit a frame");
    u32(static_cast<uint32_t>(s.size()));
    bytes_.append(s.data(), s.size());
    return *this;
}

std::string Writer::finish() && {
    const size_t payload = bytes_.size() - sizeof(Header);
    if (payload > UINT32_MAX) throw WireError("a frame of " + std::to_string(payload) + " bytes is too large");
    const auto size = static_cast<uint32_t>(payload);
    std::memcpy(bytes_.data() + offsetof(Header, size), &size, sizeof size);
    return std::move(bytes_);
}

uint32_t Reader::u32() {
    uint32_t v;
    if (rest_.size() < sizeof v) throw WireError("the message ends inside a number");
    std::memcpy(&v, rest_.data(), sizeof v);
    rest_.remove_prefix(sizeof v);
    return v;
}

uint64_t Reader::u64() {
    uint64_t v;
    if (rest_.size() < sizeof v) throw WireError("the message ends inside a number");
    std::memcpy(&v, rest_.data(), sizeof v);
    rest_.remove_prefix(sizeof v);
    return v;
}

std::string_view Reader::str() {
    const uint32_t n = u32();
    if (n > rest_.size())
        throw WireError("a text of " + std::to_string(n) + " bytes is longer than the " +
                        std::to_string(rest_.size()) + " bytes left in the message");
    const std::string_view s = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return s;
}

void Reader::end() const {
    if (!rest_.empty()) throw WireError(std::to_string(rest_.size()) + " bytes follow the message's last field");
}

namespace {

void put_headers(Writer& w, const Headers& headers) {
    if (headers.size() > kMaxHeaders) throw WireError("more than " + std::to_string(kMaxHeaders) + " headers");
    w.u32(static_cast<uint32_t>(headers.size()));
    for (const auto& [name, value] : headers) w.str(name).str(value);
}

Headers get_headers(Reader& r) {
    const uint32_t n = r.u32();
    if (n > kMaxHeaders) throw WireError(std::to_string(n) + " headers, more than " + std::to_string(kMaxHeaders));
    Headers headers;
    headers.reserve(n);  // bounded by kMaxHeaders, not by the peer's claim alone
    for (uint32_t i = 0; i < n; ++i) {
        std::string name(r.str());
        headers.emplace_back(std::move(name), std::string(r.str()));
    }
    return headers;
}

}  // namespace

std::string encode(uint64_t id, const Open& m) {
    return std::move(Writer(Type::open, id).u32(m.has_definition ? 1 : 0).str(m.definition)).finish();
}

std::string encode(uint64_t id, const Opened& m) {
    return std::move(Writer(Type::opened, id).u32(m.abi_major).u32(m.abi_minor).u32(m.has_migrate)).finish();
}

std::string encode(uint64_t id, const Create& m) {
    return std::move(Writer(Type::create, id).u64(m.instance).str(m.instance_id).str(m.config_json)).finish();
}

std::string encode(Type type, uint64_t id, const InstanceCall& m) {
    return std::move(Writer(type, id).u64(m.instance)).finish();
}

std::string encode(uint64_t id, const Invoke& m) {
    return std::move(Writer(Type::invoke, id).u64(m.instance).str(m.operation).str(m.request_json)).finish();
}

std::string encode(uint64_t id, const Migrate& m) {
    return std::move(Writer(Type::migrate, id).str(m.from_version).str(m.config_json)).finish();
}

std::string encode(Type type, uint64_t id, const StatusOnly& m) {
    return std::move(Writer(type, id).i32(m.status)).finish();
}

std::string encode(Type type, uint64_t id, std::string_view text) {
    return std::move(Writer(type, id).str(text)).finish();
}

std::string encode(uint64_t id, const Log& m, Type type) {
    return std::move(Writer(type, id).u64(m.instance).u32(m.level).str(m.message)).finish();
}

std::string encode(uint64_t id, const HttpRequest& m) {
    Writer w(Type::http_request, id);
    w.u64(m.call).u32(m.timeout_ms).u32(m.start_after_ms).u64(m.batch).str(m.method).str(m.url);
    put_headers(w, m.headers);
    w.str(m.body);
    return std::move(w).finish();
}

std::string encode(uint64_t id, const HttpResponse& m) {
    Writer w(Type::http_response, id);
    w.i32(m.status).u32(m.status_code);
    put_headers(w, m.headers);
    w.str(m.body).str(m.error);
    return std::move(w).finish();
}

std::string encode(Type type, uint64_t id, const StateRequest& m) {
    return std::move(Writer(type, id).u64(m.instance).str(m.key).str(m.value)).finish();
}

std::string encode(uint64_t id, const CredentialSwap& m) {
    return std::move(Writer(Type::credential_swap, id).u64(m.instance).str(m.name).str(m.expected).str(m.value)).finish();
}

std::string encode(uint64_t id, const StateReply& m) {
    return std::move(Writer(Type::state_reply, id).i32(m.status).str(m.value)).finish();
}

std::string encode_empty(Type type, uint64_t id) { return Writer(type, id).finish(); }

Open decode_open(std::string_view payload) {
    Reader r(payload);
    Open m;
    const uint32_t flag = r.u32();
    if (flag > 1) throw WireError("a yes/no field holds " + std::to_string(flag));
    m.has_definition = flag == 1;
    m.definition = r.str();
    r.end();
    return m;
}

Opened decode_opened(std::string_view payload) {
    Reader r(payload);
    Opened m;
    m.abi_major = r.u32();
    m.abi_minor = r.u32();
    m.has_migrate = r.u32();
    r.end();
    return m;
}

Create decode_create(std::string_view payload) {
    Reader r(payload);
    Create m;
    m.instance = r.u64();
    m.instance_id = r.str();
    m.config_json = r.str();
    r.end();
    return m;
}

InstanceCall decode_instance_call(std::string_view payload) {
    Reader r(payload);
    InstanceCall m{r.u64()};
    r.end();
    return m;
}

Invoke decode_invoke(std::string_view payload) {
    Reader r(payload);
    Invoke m;
    m.instance = r.u64();
    m.operation = r.str();
    m.request_json = r.str();
    r.end();
    return m;
}

Migrate decode_migrate(std::string_view payload) {
    Reader r(payload);
    Migrate m;
    m.from_version = r.str();
    m.config_json = r.str();
    r.end();
    return m;
}

StatusOnly decode_status(std::string_view payload) {
    Reader r(payload);
    StatusOnly m{r.i32()};
    r.end();
    return m;
}

std::string_view decode_text(std::string_view payload) {
    Reader r(payload);
    const std::string_view text = r.str();
    r.end();
    return text;
}

Log decode_log(std::string_view payload) {
    Reader r(payload);
    Log m;
    m.instance = r.u64();
    m.level = r.u32();
    m.message = r.str();
    r.end();
    return m;
}

HttpRequest decode_http_request(std::string_view payload) {
    Reader r(payload);
    HttpRequest m;
    m.call = r.u64();
    m.timeout_ms = r.u32();
    m.start_after_ms = r.u32();
    m.batch = r.u64();
    m.method = r.str();
    m.url = r.str();
    m.headers = get_headers(r);
    m.body = r.str();
    r.end();
    return m;
}

HttpResponse decode_http_response(std::string_view payload) {
    Reader r(payload);
    HttpResponse m;
    m.status = r.i32();
    m.status_code = r.u32();
    m.headers = get_headers(r);
    m.body = r.str();
    m.error = r.str();
    r.end();
    return m;
}

StateRequest decode_state_request(std::string_view payload) {
    Reader r(payload);
    StateRequest m;
    m.instance = r.u64();
    m.key = r.str();
    m.value = r.str();
    r.end();
    return m;
}

CredentialSwap decode_credential_swap(std::string_view payload) {
    Reader r(payload);
    CredentialSwap m;
    m.instance = r.u64();
    m.name = r.str();
    m.expected = r.str();
    m.value = r.str();
    r.end();
    return m;
}

StateReply decode_state_reply(std::string_view payload) {
    Reader r(payload);
    StateReply m;
    m.status = r.i32();
    m.value = r.str();
    r.end();
    return m;
}

void check_payload(Type type, std::string_view payload) {
    switch (type) {
        case Type::open: decode_open(payload); return;
        case Type::opened: decode_opened(payload); return;
        case Type::create: decode_create(payload); return;
        case Type::destroy:
        case Type::test_connection: decode_instance_call(payload); return;
        case Type::invoke: decode_invoke(payload); return;
        case Type::migrate: decode_migrate(payload); return;
        case Type::cancel:
        case Type::lane: Reader(payload).end(); return;
        case Type::emit_ack:
        case Type::done: decode_status(payload); return;
        case Type::http_response: decode_http_response(payload); return;
        case Type::state_reply: decode_state_reply(payload); return;
        case Type::emit:
        case Type::set_error: decode_text(payload); return;
        case Type::log:
        case Type::call_log: decode_log(payload); return;
        case Type::http_request: decode_http_request(payload); return;
        case Type::state_get:
        case Type::state_set:
        case Type::state_delete:
        case Type::credential_get: decode_state_request(payload); return;
        case Type::credential_swap: decode_credential_swap(payload); return;
    }
    throw WireError("unknown message type " + std::to_string(static_cast<unsigned>(type)));
}

}  // namespace junction::core::wire
