// A credential in clear that the host holds only briefly (an opened secret, an instance's
// config with its credentials, a redactor's values): its buffer is overwritten with
// OPENSSL_cleanse when it goes, over the whole capacity, so bytes a shorter value left
// behind go too.
//
// Covered: this one buffer, and a moved-from one. Not covered: copies made from it (a
// rapidjson document's pool, the config string a plugin receives and whatever it keeps,
// the frames a connector process is sent), a buffer std::string let go when it grew, and
// the SQLite page cache. It narrows how long clear values lie in freed memory; it does not
// make the process free of them (that is what non-dumpable and no core files are for).
#pragma once

#include <openssl/crypto.h>

#include <string>
#include <string_view>
#include <utility>

namespace junction::core {

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
    void wipe() noexcept {
        OPENSSL_cleanse(value_.data(), value_.capacity());
        value_.clear();
    }
    std::string value_;
};

}  // namespace junction::core
