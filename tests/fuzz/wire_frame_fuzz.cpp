// Fuzzes what junctiond reads from a connector process (decision 0015): the input is the
// byte stream on a socket (its control socket or a lane), read by the daemon's Channel into
// frames (a 64 KiB cap per frame here), each payload decoded as its type says. A frame that decodes must encode back
// to the same bytes, so both ends read the format the same way.
#include <junction/core/bridge/channel.hpp>
#include <junction/core/bridge/wire.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <unistd.h>

namespace wire = junction::core::wire;

namespace {

// Encodes a decoded payload again; "" for the types whose encoder takes a view or nothing.
std::string encode_again(const wire::Frame& f) {
    using wire::Type;
    switch (f.type) {
        case Type::open: return wire::encode(f.id, wire::decode_open(f.payload));
        case Type::opened: return wire::encode(f.id, wire::decode_opened(f.payload));
        case Type::create: return wire::encode(f.id, wire::decode_create(f.payload));
        case Type::destroy:
        case Type::test_connection: return wire::encode(f.type, f.id, wire::decode_instance_call(f.payload));
        case Type::invoke: return wire::encode(f.id, wire::decode_invoke(f.payload));
        case Type::migrate: return wire::encode(f.id, wire::decode_migrate(f.payload));
        case Type::emit_ack:
        case Type::done: return wire::encode(f.type, f.id, wire::decode_status(f.payload));
        case Type::emit:
        case Type::set_error: return wire::encode(f.type, f.id, wire::decode_text(f.payload));
        case Type::log:
        case Type::call_log: return wire::encode(f.id, wire::decode_log(f.payload), f.type);
        case Type::http_request: return wire::encode(f.id, wire::decode_http_request(f.payload));
        case Type::http_response: return wire::encode(f.id, wire::decode_http_response(f.payload));
        case Type::state_get:
        case Type::state_set:
        case Type::state_delete:
        case Type::credential_get: return wire::encode(f.type, f.id, wire::decode_state_request(f.payload));
        case Type::credential_swap: return wire::encode(f.id, wire::decode_credential_swap(f.payload));
        case Type::state_reply: return wire::encode(f.id, wire::decode_state_reply(f.payload));
        case Type::cancel:
        case Type::lane: return wire::encode_empty(f.type, f.id);
    }
    return {};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 60000) return 0;  // stays within one pipe buffer: written whole, then read
    int fds[2];
    if (::pipe(fds) != 0) std::abort();
    if (size > 0 && ::write(fds[1], data, size) != static_cast<ssize_t>(size)) std::abort();
    ::close(fds[1]);
    wire::Channel channel(fds[0], 64 * 1024);
    wire::Frame frame;
    // Both ways junctiond reads: waiting (the control socket) and with a deadline (a lane).
    bool with_deadline = size % 2 == 1;
    const auto next = [&] {
        with_deadline = !with_deadline;
        if (!with_deadline) return channel.receive(frame);
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        return channel.receive_until(frame, until) == wire::Channel::Got::frame;
    };
    try {
        while (next()) {
            try {
                wire::check_payload(frame.type, frame.payload);
            } catch (const wire::WireError&) {
                continue;  // refused: what the daemon does with a broken message
            }
            const std::string again = encode_again(frame);
            wire::Header h{};
            std::memcpy(&h, again.data(), sizeof h);
            if (again.size() != sizeof h + frame.payload.size() || h.id != frame.id ||
                again.compare(sizeof h, std::string::npos, frame.payload) != 0)
                std::abort();  // decode and encode disagree
        }
    } catch (const wire::WireError&) {
        // a frame over the cap: refused before its payload is read
    }
    return 0;
}
