#include <junction/core/bridge/channel.hpp>

#include <cerrno>
#include <cstring>

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace junction::core::wire {

namespace {

// Writes every byte of the two parts; false when the peer is gone or a timeout passed.
bool write_all(int fd, std::string_view a, std::string_view b) {
    iovec parts[2] = {{const_cast<char*>(a.data()), a.size()}, {const_cast<char*>(b.data()), b.size()}};
    iovec* next = parts;
    int count = b.empty() ? 1 : 2;
    while (count > 0) {
        msghdr msg{};
        msg.msg_iov = next;
        msg.msg_iovlen = static_cast<size_t>(count);
        const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;  // EPIPE, ECONNRESET, EAGAIN after the send timeout
        }
        size_t done = static_cast<size_t>(n);
        while (count > 0 && done >= next->iov_len) {
            done -= next->iov_len;
            ++next;
            --count;
        }
        if (count > 0) {
            next->iov_base = static_cast<char*>(next->iov_base) + done;
            next->iov_len -= done;
        }
    }
    return true;
}

// Reads exactly `size` bytes; false at the end of the stream or on an error.
bool read_all(int fd, char* out, size_t size) {
    while (size > 0) {
        const ssize_t n = ::read(fd, out, size);
        if (n == 0) return false;
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        out += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

}  // namespace

Channel::Channel(int fd, size_t max_frame_bytes, unsigned send_timeout_ms)
    : fd_(fd), max_frame_bytes_(max_frame_bytes) {
    if (send_timeout_ms > 0) {
        timeval tv{static_cast<time_t>(send_timeout_ms / 1000), static_cast<suseconds_t>((send_timeout_ms % 1000) * 1000)};
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
}

Channel::~Channel() {
    if (fd_ >= 0) ::close(fd_);
}

bool Channel::send(std::string_view frame, std::string_view tail) {
    std::lock_guard lock(send_mutex_);
    return write_all(fd_, frame, tail);
}

bool Channel::send_text(Type type, uint64_t id, std::string_view text) {
    if (text.size() > UINT32_MAX - sizeof(uint32_t)) return false;
    Header header;
    header.size = static_cast<uint32_t>(sizeof(uint32_t) + text.size());
    header.type = static_cast<uint16_t>(type);
    header.id = id;
    const auto length = static_cast<uint32_t>(text.size());
    char head[sizeof header + sizeof length];
    std::memcpy(head, &header, sizeof header);
    std::memcpy(head + sizeof header, &length, sizeof length);
    return send(std::string_view(head, sizeof head), text);
}

bool Channel::receive(Frame& out) {
    Header h;
    if (!read_all(fd_, reinterpret_cast<char*>(&h), sizeof h)) return false;
    if (h.size > max_frame_bytes_)
        throw WireError("a message of " + std::to_string(h.size) + " bytes, more than the " +
                        std::to_string(max_frame_bytes_) + " a message may have");
    out.type = static_cast<Type>(h.type);
    out.id = h.id;
    out.payload.resize(h.size);
    if (h.size > 0 && !read_all(fd_, out.payload.data(), h.size)) return false;
    return true;
}

void Channel::shutdown() { ::shutdown(fd_, SHUT_RDWR); }

}  // namespace junction::core::wire
