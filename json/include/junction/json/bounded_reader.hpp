// The one JSON reader of Junction, shared by core and the SDK (header-only, installed with
// the SDK): iterative (no recursion on input depth), bounded in depth and size, strict about
// UTF-8, duplicate keys and numbers outside the double range. Each failure is a sentence that
// says where it broke (a JSON pointer) and, for a limit, the limit and the setting that
// raises it. Decision 0013 says why it lives here.
#pragma once

#include <junction/json/utf8.hpp>

#include <rapidjson/document.h>
#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace junction::json {

struct ReadLimits {
    size_t max_depth = 128;
    const char* depth_setting = "json-max-depth";
    size_t max_bytes = SIZE_MAX;      // SIZE_MAX: no size cap
    const char* bytes_setting = "";   // the setting that raises max_bytes, "" for none
    // A record's cap inside a page: each element of a top-level array (or the top-level
    // object itself) may span at most this many bytes.
    size_t max_record_bytes = SIZE_MAX;
    const char* record_setting = "";
};

namespace detail {

// "/a/0/b" per RFC 6901 ("~" and "/" in keys escaped).
inline void append_pointer_token(std::string& path, std::string_view token) {
    path += '/';
    for (char c : token) {
        if (c == '~') path += "~0";
        else if (c == '/') path += "~1";
        else path += c;
    }
}

// Forwards SAX events to `Out` (a Document) while tracking where it is, and stops with a
// sentence at the first event it refuses.
template <class Out>
class BoundedHandler {
public:
    // `offset` is where the reader is in the text, for the record cap.
    BoundedHandler(Out& out, const ReadLimits& limits, const rapidjson::MemoryStream& offset)
        : out_(out), limits_(limits), offset_(offset) {}

    bool Null() { return value() && out_.Null(); }
    bool Bool(bool b) { return value() && out_.Bool(b); }
    bool Int(int i) { return value() && out_.Int(i); }
    bool Uint(unsigned u) { return value() && out_.Uint(u); }
    bool Int64(int64_t i) { return value() && out_.Int64(i); }
    bool Uint64(uint64_t u) { return value() && out_.Uint64(u); }
    bool Double(double d) {
        if (!std::isfinite(d))
            return refuse("has a number outside the range of a double at " + value_path() +
                          "; send a smaller number or a string");
        return value() && out_.Double(d);
    }
    bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
        return value() && out_.RawNumber(s, n, true);
    }
    bool String(const char* s, rapidjson::SizeType n, bool) {
        // The bytes were checked; an escape can still decode to a lone surrogate (\udc00).
        if (!is_valid_utf8(std::string_view(s, n)))
            return refuse("has an escaped lone surrogate (not a character) in the string at " + value_path());
        if (opens_record() && n > limits_.max_record_bytes) return refuse_record(n);
        return value() && out_.String(s, n, true);
    }
    bool Key(const char* s, rapidjson::SizeType n, bool) {
        if (!is_valid_utf8(std::string_view(s, n)))
            return refuse("has an escaped lone surrogate (not a character) in a key of the object at " +
                          container_path());
        Frame& f = frames_[depth_ - 1];
        f.key.assign(s, n);
        if (!f.add_key(std::hash<std::string_view>{}(f.key)))
            return refuse("has the key \"" + f.key + "\" twice in the object at " + container_path() +
                          "; keep one");
        f.expecting_key = false;
        return out_.Key(s, n, true);
    }
    bool StartObject() { return open(true) && out_.StartObject(); }
    bool EndObject(rapidjson::SizeType members) { return close() && out_.EndObject(members); }
    bool StartArray() { return open(false) && out_.StartArray(); }
    bool EndArray(rapidjson::SizeType elements) { return close() && out_.EndArray(elements); }

    const std::string& refusal() const { return refusal_; }

    // Where the reader stopped, for its own errors: the value or key being read.
    std::string value_path() const {
        std::string path = path_of(depth_);
        if (depth_ == 0) return path.empty() ? "the top level" : path;
        const Frame& f = frames_[depth_ - 1];
        if (f.is_object) {
            if (!f.expecting_key) append_pointer_token(path, f.key);
        } else {
            append_pointer_token(path, std::to_string(f.index));
        }
        return path.empty() ? "the top level" : path;
    }
    bool reading_key() const {
        return depth_ > 0 && frames_[depth_ - 1].is_object && frames_[depth_ - 1].expecting_key;
    }
    std::string container_path() const {
        std::string path = path_of(depth_);
        return path.empty() ? "the top level" : path;
    }

private:
    // Duplicate keys are found by 64-bit hash: a collision could only refuse a valid
    // document, never let a duplicate through. Small objects scan a list; large ones a set.
    struct Frame {
        bool is_object = false;
        bool expecting_key = true;
        size_t index = 0;  // arrays: the index of the next element
        std::string key;   // objects: the last key read
        std::vector<size_t> hashes;
        std::unordered_set<size_t> many;

        void reset(bool object) {
            is_object = object;
            expecting_key = true;
            index = 0;
            hashes.clear();
            many.clear();
        }
        bool add_key(size_t hash) {
            if (hashes.size() < 32) {
                for (size_t h : hashes)
                    if (h == hash) return false;
                hashes.push_back(hash);
                if (hashes.size() == 32) many.insert(hashes.begin(), hashes.end());
                return true;
            }
            return many.insert(hash).second;
        }
    };

    // The pointer of the container `count` frames deep (the root container is frame 1).
    std::string path_of(size_t count) const {
        std::string path;
        for (size_t i = 0; i + 1 < count; ++i) {
            const Frame& f = frames_[i];
            if (f.is_object) append_pointer_token(path, f.key);
            else append_pointer_token(path, std::to_string(f.index));
        }
        return path;
    }

    // A scalar or a container begins in the current frame.
    bool value() {
        if (depth_ > 0) {
            Frame& f = frames_[depth_ - 1];
            if (f.is_object) f.expecting_key = true;
            else ++f.index;
        }
        return true;
    }
    bool open(bool is_object) {
        if (depth_ + 1 > limits_.max_depth) {
            return refuse("nests deeper than " + std::to_string(limits_.max_depth) +
                          " levels at " + value_path() + " (" + limits_.depth_setting + ")");
        }
        if (depth_ == 0) root_is_array_ = !is_object;
        if (opens_record()) record_start_ = offset_.Tell();  // just past the bracket
        if (depth_ == frames_.size()) frames_.emplace_back();
        frames_[depth_++].reset(is_object);  // frames are reused: their memory stays
        return true;
    }
    bool close() {
        --depth_;
        if (opens_record()) {
            const size_t bytes = offset_.Tell() - record_start_ + 1;
            if (bytes > limits_.max_record_bytes) return refuse_record(bytes);
        }
        return value();
    }
    // Whether a value beginning (or ending) here is a record: an element of the top-level
    // array, or the top-level value when it is not an array.
    bool opens_record() const { return root_is_array_ ? depth_ == 1 : depth_ == 0; }
    bool refuse_record(size_t bytes) {
        std::string why = "has a record of " + std::to_string(bytes) + " bytes at " + value_path() +
                          ", more than " + std::to_string(limits_.max_record_bytes);
        if (*limits_.record_setting) why += std::string(" (") + limits_.record_setting + ")";
        return refuse(std::move(why));
    }
    bool refuse(std::string why) {
        refusal_ = std::move(why);
        return false;
    }

    Out& out_;
    const ReadLimits& limits_;
    const rapidjson::MemoryStream& offset_;
    bool root_is_array_ = false;
    size_t record_start_ = 0;
    std::vector<Frame> frames_;  // [0, depth_) are open
    size_t depth_ = 0;
    std::string refusal_;
};

}  // namespace detail

// Reads `text` into `out`. nullopt when it is one JSON value within the limits; otherwise
// the reason as the end of a sentence whose subject is the text ("nests deeper than 128
// levels at /a/0 (json-max-depth)"), for the caller to prefix with what it parsed.
inline std::optional<std::string> read(std::string_view text, rapidjson::Document& out,
                                       const ReadLimits& limits = {}) {
    if (text.size() > limits.max_bytes) {
        std::string why = "is larger than " + std::to_string(limits.max_bytes) + " bytes";
        if (*limits.bytes_setting) why += std::string(" (") + limits.bytes_setting + ")";
        return why;
    }
    if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF")
        return std::string("starts with a UTF-8 byte-order mark; send the JSON without it");

    using Handler = detail::BoundedHandler<rapidjson::Document>;
    std::optional<std::string> problem;
    auto generate = [&](rapidjson::Document& document) {
        rapidjson::MemoryStream bytes(text.data(), text.size());
        Handler handler(document, limits, bytes);
        rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> stream(bytes);
        rapidjson::Reader reader;
        // Not kParseFullPrecisionFlag: RapidJSON 1.1.0's full-precision path has undefined
        // behaviour on huge exponents (found by the fuzz target); numbers read as before.
        constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
        const rapidjson::ParseResult result = reader.Parse<kFlags>(stream, handler);
        if (result) return true;
        if (!handler.refusal().empty()) {
            problem = handler.refusal();
        } else if (result.Code() == rapidjson::kParseErrorStringInvalidEncoding) {
            problem = handler.reading_key()
                          ? "has invalid UTF-8 in a key of the object at " + handler.container_path()
                          : "has invalid UTF-8 in the string at " + handler.value_path();
        } else if (result.Code() == rapidjson::kParseErrorNumberTooBig) {
            problem = "has a number outside the range of a double at " + handler.value_path() +
                      "; send a smaller number or a string";
        } else {
            problem = std::string("is not valid JSON: ") + rapidjson::GetParseError_En(result.Code()) +
                      " at offset " + std::to_string(result.Offset()) + " (near " +
                      handler.value_path() + ")";
        }
        return false;
    };
    out.Populate(generate);
    if (problem) out.SetNull();
    return problem;
}

}  // namespace junction::json
