// One end of the socket between junctiond and a connector process: whole frames out, from
// any thread, one frame at a time; whole frames in, for one reading thread.
#pragma once

#include <junction/core/bridge/wire.hpp>

#include <cstddef>
#include <mutex>
#include <string_view>

namespace junction::core::wire {

class Channel {
public:
    // Takes `fd` (a connected stream socket). Frames larger than `max_frame_bytes` are
    // refused on receipt. With `send_timeout_ms`, a send the peer does not drain within it
    // fails (the daemon's side: a connector process that stops reading is broken).
    Channel(int fd, size_t max_frame_bytes, unsigned send_timeout_ms = 0);
    ~Channel();
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;

    // Sends one frame: `frame`, then `tail` (bytes the frame's header already counts, such
    // as a page sent without copying it). False when the peer is gone or did not drain.
    bool send(std::string_view frame, std::string_view tail = {});

    // Sends an emit or set_error frame whose text is `text`, without copying it.
    bool send_text(Type type, uint64_t id, std::string_view text);

    // Reads the next frame. False at the end of the stream. Throws WireError for a frame
    // over the cap (the payload is not read).
    bool receive(Frame& out);

    // Ends both directions: a blocked receive() returns false, sends fail.
    void shutdown();

    int fd() const { return fd_; }

private:
    int fd_ = -1;
    size_t max_frame_bytes_;
    std::mutex send_mutex_;
};

}  // namespace junction::core::wire
