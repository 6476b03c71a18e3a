// The one JSON writer of Junction, shared by core and the SDK (header-only, installed with
// the SDK): whatever bytes a string holds (a plugin message, a log line, a stored value), the
// output is valid UTF-8 JSON. Invalid UTF-8 becomes U+FFFD, control characters are escaped,
// and a number that is not finite is written as null (JSON has no infinity).
#pragma once

#include <junction/json/utf8.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace junction::json {

// Calls put(std::string_view) with `text` as a JSON string literal, quotes included: bytes
// that need no escape go in runs (a plain string is one piece between its quotes),
// escapes one by one.
template <class Put>
void quote_into(std::string_view text, Put&& put) {
    static constexpr char kHex[] = "0123456789abcdef";
    put(std::string_view("\"", 1));
    size_t run = 0;  // where the bytes not yet put begin
    size_t i = 0;
    const auto flush = [&] {
        if (i > run) put(text.substr(run, i - run));
    };
    while (i < text.size()) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
            ++i;
            continue;
        }
        if (c >= 0x80) {
            if (const size_t n = detail::valid_utf8_length(text.substr(i))) {
                i += n;
                continue;
            }
        }
        flush();
        switch (c) {
            case '"': put("\\\""); break;
            case '\\': put("\\\\"); break;
            case '\b': put("\\b"); break;
            case '\f': put("\\f"); break;
            case '\n': put("\\n"); break;
            case '\r': put("\\r"); break;
            case '\t': put("\\t"); break;
            default:
                if (c >= 0x80) {
                    put("\xEF\xBF\xBD");  // one replacement character per invalid byte
                } else {
                    const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
                    put(std::string_view(escaped, sizeof escaped));
                }
        }
        run = ++i;
    }
    flush();
    put(std::string_view("\"", 1));
}

// `text` as a JSON string literal, quotes included, always valid UTF-8.
inline std::string quote(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    quote_into(text, [&](std::string_view piece) { out.append(piece); });
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
        quote_into(std::string_view(s, n), [this](std::string_view piece) {
            std::memcpy(os_->Push(piece.size()), piece.data(), piece.size());
        });
        return EndValue(true);
    }
    bool String(const char* s) { return String(s, static_cast<rapidjson::SizeType>(std::strlen(s))); }
    bool String(const std::string& s) { return String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }
    bool Key(const char* s, rapidjson::SizeType n, bool copy = false) { return String(s, n, copy); }
    bool Key(const char* s) { return String(s); }
    bool Key(const std::string& s) { return String(s); }
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
