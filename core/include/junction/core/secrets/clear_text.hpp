// A credential in clear that the host holds only briefly (an opened secret, an instance's
// config with its credentials, a redactor's values): its buffer is overwritten with
// OPENSSL_cleanse when it goes, over the whole capacity, so bytes a shorter value left
// behind go too.
//
// Covered: this one buffer, and a moved-from one. Copies made from it and freed (a rapidjson
// document's pool, a buffer std::string let go when it grew) are wiped in junctiond by its
// free (host/junctiond/wiping_free.cpp); not in a connector process or a tool, and not the
// SQLite page cache, which holds sealed values only.
#pragma once

#include <openssl/crypto.h>

#include <string>
#include <string_view>
#include <utility>

namespace junction::core {

// Overwrites `text` over its whole capacity and empties it.
inline void wipe_text(std::string& text) noexcept {
    OPENSSL_cleanse(text.data(), text.capacity());
    text.clear();
}

class ClearText {
public:
    ClearText() = default;
    explicit ClearText(std::string value) : value_(std::move(value)) {}
    ~ClearText() { wipe(); }
    ClearText(const ClearText&) = default;
    ClearText(ClearText&& other) noexcept : value_(std::move(other.value_)) { other.wipe(); }
    ClearText& operator=(const ClearText& other) {
        if (this != &other) {
            wipe();
            value_ = other.value_;
        }
        return *this;
    }
    ClearText& operator=(ClearText&& other) noexcept {
        if (this != &other) {
            wipe();
            value_ = std::move(other.value_);
            other.wipe();
        }
        return *this;
    }

    const std::string& str() const { return value_; }
    std::string_view view() const { return value_; }

private:
    void wipe() noexcept { wipe_text(value_); }
    std::string value_;
};

}  // namespace junction::core
