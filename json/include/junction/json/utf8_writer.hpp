// The one JSON writer of Junction, shared by core and the SDK (header-only, installed with
// the SDK): whatever bytes a string holds (a plugin message, a log line, a stored value), the
// output is valid UTF-8 JSON. Invalid UTF-8 becomes U+FFFD, control characters are escaped,
// and a number that is not finite is written as null (JSON has no infinity).
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace junction::json {

namespace detail {

// The length of the valid UTF-8 sequence at the start of `s`, or 0 when it is not one
// (overlong forms, surrogates and code points past U+10FFFF are not valid).
inline size_t valid_utf8_length(std::string_view s) {
    const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char c = b(0);
    if (c < 0x80) return 1;
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c == 0xE0) n = 3, lo = 0xA0;
    else if (c >= 0xE1 && c <= 0xEC) n = 3;
    else if (c == 0xED) n = 3, hi = 0x9F;
    else if (c >= 0xEE && c <= 0xEF) n = 3;
    else if (c == 0xF0) n = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) n = 4;
    else if (c == 0xF4) n = 4, hi = 0x8F;
    else return 0;
    if (s.size() < n || b(1) < lo || b(1) > hi) return 0;
    for (size_t i = 2; i < n; ++i)
        if (b(i) < 0x80 || b(i) > 0xBF) return 0;
    return n;
}

}  // namespace detail

// Calls put(char) for each byte of `text` as a JSON string literal, quotes included.
template <class Put>
void quote_into(std::string_view text, Put&& put) {
    static constexpr char kHex[] = "0123456789abcdef";
    put('"');
    size_t i = 0;
    while (i < text.size()) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (c >= 0x80) {
            const size_t n = detail::valid_utf8_length(text.substr(i));
            if (n == 0) {  // one replacement character per invalid byte
                put('\xEF'), put('\xBF'), put('\xBD');
                ++i;
            } else {
                for (size_t k = 0; k < n; ++k) put(text[i + k]);
                i += n;
            }
            continue;
        }
        switch (c) {
            case '"': put('\\'), put('"'); break;
            case '\\': put('\\'), put('\\'); break;
            case '\b': put('\\'), put('b'); break;
            case '\f': put('\\'), put('f'); break;
            case '\n': put('\\'), put('n'); break;
            case '\r': put('\\'), put('r'); break;
            case '\t': put('\\'), put('t'); break;
            default:
                if (c < 0x20 || c == 0x7F) {
                    put('\\'), put('u'), put('0'), put('0');
                    put(kHex[c >> 4]), put(kHex[c & 0xF]);
                } else {
                    put(static_cast<char>(c));
                }
        }
        ++i;
    }
    put('"');
}

// `text` as a JSON string literal, quotes included, always valid UTF-8.
inline std::string quote(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    quote_into(text, [&](char c) { out.push_back(c); });
    return out;
}

// RapidJSON's compact writer with strings and keys written by quote_into and non-finite
// numbers written as null. Pass it to Value::Accept (the handler type is a template there,
// so these hide the base's functions).
class Utf8Writer : public rapidjson::Writer<rapidjson::StringBuffer> {
    using Base = rapidjson::Writer<rapidjson::StringBuffer>;

public:
    explicit Utf8Writer(rapidjson::StringBuffer& out) : Base(out) {}

    bool String(const char* s, rapidjson::SizeType n, bool = false) {
        Prefix(rapidjson::kStringType);
        quote_into(std::string_view(s, n), [this](char c) { os_->Put(c); });
        return EndValue(true);
    }
    bool Key(const char* s, rapidjson::SizeType n, bool copy = false) { return String(s, n, copy); }
    bool Double(double d) { return std::isfinite(d) ? Base::Double(d) : Base::Null(); }
};

// `value` as compact JSON, always valid UTF-8. Values here were read within the depth cap
// (or built by Junction), so RapidJSON's recursive Accept is safe.
inline std::string write(const rapidjson::Value& value) {
    rapidjson::StringBuffer buffer;
    Utf8Writer writer(buffer);
    value.Accept(writer);
    return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace junction::json
