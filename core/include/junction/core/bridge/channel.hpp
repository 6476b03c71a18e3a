// One end of a socket between junctiond and a connector process (the control socket or a
// call's lane, wire.hpp): whole frames out, from any thread, one frame at a time; whole
// frames in, for one reading thread at a time, read in large chunks and bounded.
#pragma once

#include <junction/core/bridge/wire.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string_view>

namespace junction::core::wire {

class Channel {
public:
    // Takes `fd` (a connected stream socket, or a pipe for reading). Frames larger than
    // `max_frame_bytes` are refused on receipt. With `send_timeout_ms`, a send the peer does
    // not drain within it fails (the daemon's side: a connector process that stops reading
    // is broken). With `accept_descriptors`, descriptors the peer passes are kept for
    // take_descriptor() (the connector process's side, for lanes); otherwise the kernel
    // discards them.
    Channel(int fd, size_t max_frame_bytes, unsigned send_timeout_ms = 0, bool accept_descriptors = false);
    ~Channel();
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;

    // Sends one frame: `frame`, then `tail` (bytes the frame's header already counts, such
    // as a page sent without copying it). False when the peer is gone or did not drain.
    bool send(std::string_view frame, std::string_view tail = {});

    // Sends `frame` only if the socket takes all of it at once; false otherwise (nothing, or
    // part of it, was sent: the peer is not reading, and the stream is no longer usable).
    bool send_now(std::string_view frame);

    // Sends an emit or set_error frame whose text is `text`, without copying it.
    bool send_text(Type type, uint64_t id, std::string_view text);

    // Sends `frame` with the descriptor `passed` attached (the peer gets its own copy).
    bool send_descriptor(std::string_view frame, int passed);

    // Reads the next frame, waiting as long as it takes. False at the end of the stream.
    // Throws WireError for a frame over the cap (its payload is not read).
    bool receive(Frame& out);

    // Reads the next frame, waiting no later than `until`.
    enum class Got { frame, nothing, end };
    Got receive_until(Frame& out, std::chrono::steady_clock::time_point until);

    // Whether a whole frame has been read already: receive() would return it at once.
    bool frame_ready() const;
    // Whether any byte has been read and not yet handed out.
    bool has_buffered() const { return end_ > start_; }

    // The oldest descriptor received and not yet taken; -1 when there is none.
    int take_descriptor();

    // Before a receive sleeps, it polls the socket for up to `spin` (giving way to other
    // threads): an answer that comes within it costs no wakeup of a sleeping thread, which on
    // a virtual machine can cost more than the call itself.
    void set_spin(std::chrono::microseconds spin) { spin_ = spin; }
    // What a lane spins, at each end: about one wakeup of an idle virtual CPU (bench_abi_call).
    static constexpr std::chrono::microseconds kLaneSpin{50};

    // Ends both directions: a blocked receive() returns false, sends fail.
    void shutdown();

    int fd() const { return fd_; }

private:
    bool next_buffered(Frame& out);
    // Polls for data for up to spin_; true when some came.
    bool spin_for_data();
    // Reads what the socket has into the buffer (waiting for it unless `dont_wait`); false
    // at the end of the stream or when nothing came without waiting.
    bool fill(bool dont_wait);

    int fd_ = -1;
    size_t max_frame_bytes_;
    bool accept_descriptors_;
    std::mutex send_mutex_;
    // What has been read and not yet handed out: bytes [start_, end_) of buffer_.
    std::unique_ptr<char[]> buffer_;
    size_t capacity_ = 0, start_ = 0, end_ = 0;
    bool ended_ = false;
    std::chrono::microseconds spin_{0};
    std::deque<int> descriptors_;
};

}  // namespace junction::core::wire
