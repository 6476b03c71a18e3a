#include <junction/core/bridge/channel.hpp>

#include <openssl/crypto.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace junction::core::wire {

namespace {

// Bytes asked of the socket at a time: a page of a few hundred records, or many small frames.
constexpr size_t kReadChunk = 64 * 1024;
// A buffer grown past this for one large frame is given back once it is drained.
constexpr size_t kKeptCapacity = 256 * 1024;

// Writes every byte of the two parts; false when the peer is gone or a timeout passed.
// With `passed`, that descriptor rides on the first bytes.
bool write_all(int fd, std::string_view a, std::string_view b, int passed = -1) {
    iovec parts[2] = {{const_cast<char*>(a.data()), a.size()}, {const_cast<char*>(b.data()), b.size()}};
    iovec* next = parts;
    int count = b.empty() ? 1 : 2;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    while (count > 0) {
        msghdr msg{};
        msg.msg_iov = next;
        msg.msg_iovlen = static_cast<size_t>(count);
        if (passed >= 0) {
            std::memset(control, 0, sizeof control);
            msg.msg_control = control;
            msg.msg_controllen = sizeof control;
            cmsghdr* c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            std::memcpy(CMSG_DATA(c), &passed, sizeof(int));
        }
        const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;  // EPIPE, ECONNRESET, EAGAIN after the send timeout
        }
        passed = -1;  // sent with the first bytes
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

}  // namespace

Channel::Channel(int fd, size_t max_frame_bytes, unsigned send_timeout_ms, bool accept_descriptors)
    : fd_(fd), max_frame_bytes_(max_frame_bytes), accept_descriptors_(accept_descriptors) {
    if (send_timeout_ms > 0) {
        timeval tv{static_cast<time_t>(send_timeout_ms / 1000), static_cast<suseconds_t>((send_timeout_ms % 1000) * 1000)};
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
}

Channel::~Channel() {
    for (int d : descriptors_) ::close(d);
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

bool Channel::send_now(std::string_view frame) {
    std::lock_guard lock(send_mutex_);
    ssize_t n;
    do n = ::send(fd_, frame.data(), frame.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    return n == static_cast<ssize_t>(frame.size());
}

bool Channel::send_descriptor(std::string_view frame, int passed) {
    std::lock_guard lock(send_mutex_);
    return write_all(fd_, frame, {}, passed);
}

bool Channel::next_buffered(Frame& out) {
    if (end_ - start_ < sizeof(Header)) return false;
    Header h;
    std::memcpy(&h, buffer_.get() + start_, sizeof h);
    if (h.size > max_frame_bytes_)
        throw WireError("a message of " + std::to_string(h.size) + " bytes, more than the " +
                        std::to_string(max_frame_bytes_) + " a message may have");
    if (end_ - start_ < sizeof h + h.size) return false;
    out.type = static_cast<Type>(h.type);
    out.id = h.id;
    out.payload.assign(buffer_.get() + start_ + sizeof h, h.size);
    // A message may carry an instance's config or an Authorization header: the buffer,
    // which lives as long as the channel, keeps no copy once it is taken.
    OPENSSL_cleanse(buffer_.get() + start_, sizeof h + h.size);
    start_ += sizeof h + h.size;
    if (start_ == end_) {
        start_ = end_ = 0;
        if (capacity_ > kKeptCapacity) {  // one large page does not keep its memory
            buffer_.reset();
            capacity_ = 0;
        }
    }
    return true;
}

bool Channel::fill(bool dont_wait) {
    // Room for a chunk, or for the whole of the frame under way (its size is checked).
    size_t want = kReadChunk;
    if (end_ - start_ >= sizeof(Header)) {
        Header h;
        std::memcpy(&h, buffer_.get() + start_, sizeof h);
        want = std::max(want, sizeof h + h.size - (end_ - start_));
    }
    if (capacity_ - end_ < want) {
        const size_t held = end_ - start_;
        const size_t capacity = std::max(capacity_, held + want);
        if (capacity != capacity_) {
            std::unique_ptr<char[]> bigger(new char[capacity]);
            if (held) std::memcpy(bigger.get(), buffer_.get() + start_, held);
            buffer_ = std::move(bigger);
            capacity_ = capacity;
        } else if (held) {
            std::memmove(buffer_.get(), buffer_.get() + start_, held);
            OPENSSL_cleanse(buffer_.get() + held, start_);  // what moved leaves no copy behind
        }
        start_ = 0;
        end_ = held;
    }
    for (;;) {
        ssize_t n;
        if (accept_descriptors_) {
            iovec part{buffer_.get() + end_, capacity_ - end_};
            alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
            msghdr msg{};
            msg.msg_iov = &part;
            msg.msg_iovlen = 1;
            msg.msg_control = control;
            msg.msg_controllen = sizeof control;
            n = ::recvmsg(fd_, &msg, MSG_CMSG_CLOEXEC | (dont_wait ? MSG_DONTWAIT : 0));
            if (n >= 0)
                for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
                    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                        for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); ++i) {
                            int d;
                            std::memcpy(&d, CMSG_DATA(c) + i * sizeof(int), sizeof d);
                            descriptors_.push_back(d);
                        }
        } else if (dont_wait) {
            n = ::recv(fd_, buffer_.get() + end_, capacity_ - end_, MSG_DONTWAIT);
            if (n < 0 && errno == ENOTSOCK) n = ::read(fd_, buffer_.get() + end_, capacity_ - end_);  // a pipe
        } else {
            n = ::read(fd_, buffer_.get() + end_, capacity_ - end_);
        }
        if (n > 0) {
            end_ += static_cast<size_t>(n);
            return true;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
        ended_ = true;  // the end of the stream, or an error: nothing more comes
        return false;
    }
}

bool Channel::spin_for_data() {
    if (spin_.count() == 0) return false;
    const auto until = std::chrono::steady_clock::now() + spin_;
    do {
        if (fill(true)) return true;
        if (ended_) return false;
        ::sched_yield();  // a thread runnable on this CPU goes first
    } while (std::chrono::steady_clock::now() < until);
    return false;
}

bool Channel::receive(Frame& out) {
    while (!next_buffered(out)) {
        if (ended_) return false;
        if (spin_for_data()) continue;
        if (ended_ || !fill(false)) return false;
    }
    return true;
}

Channel::Got Channel::receive_until(Frame& out, std::chrono::steady_clock::time_point until) {
    for (;;) {
        if (next_buffered(out)) return Got::frame;
        if (ended_) return Got::end;
        if (fill(true) || spin_for_data()) continue;
        if (ended_) return Got::end;
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        if (left.count() <= 0) return Got::nothing;
        pollfd p{fd_, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 60'000)));
        if (ready == 0 && std::chrono::steady_clock::now() >= until) return Got::nothing;
    }
}

bool Channel::frame_ready() const {
    if (end_ - start_ < sizeof(Header)) return false;
    Header h;
    std::memcpy(&h, buffer_.get() + start_, sizeof h);
    return end_ - start_ >= sizeof h + h.size;
}

int Channel::take_descriptor() {
    if (descriptors_.empty()) return -1;
    const int d = descriptors_.front();
    descriptors_.pop_front();
    return d;
}

void Channel::shutdown() { ::shutdown(fd_, SHUT_RDWR); }

}  // namespace junction::core::wire
