#include "map_text.hpp"

#include "flow_regex.hpp"
#include "map_values.hpp"

#include <junction/core/common/json.hpp>

#include <algorithm>
#include <cctype>
#include <optional>

namespace junction::core::flows {

namespace {

// Text is UTF-8; positions and lengths count characters so that "the first 10" never cuts
// one in half. A continuation byte (10xxxxxx) is never the start of a character.
bool starts_character(char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }

size_t characters(std::string_view s) {
    return static_cast<size_t>(std::count_if(s.begin(), s.end(), starts_character));
}

// The byte offset of character `n` (the size when there are fewer).
size_t byte_offset(std::string_view s, size_t n) {
    for (size_t i = 0; i < s.size(); ++i)
        if (starts_character(s[i]) && n-- == 0) return i;
    return s.size();
}

// A position given as a count from the start, or from the end when negative, clamped.
size_t position(int64_t at, size_t length) {
    if (at < 0) return static_cast<uint64_t>(-at) >= length ? 0 : length - static_cast<size_t>(-at);
    return std::min(static_cast<size_t>(at), length);
}

std::optional<Transform> substring(const Spec& t) {
    t.allow_only({"op", "start", "length", "end"});
    constexpr int64_t kFar = 1'000'000'000;
    const int64_t start = t.integer("start", -kFar, kFar).value_or(0);
    const auto length = t.integer("length", 0, kFar), end = t.integer("end", -kFar, kFar);
    if (t.member("length") && t.member("end")) {
        t.problem("give either length or end, not both");
        return std::nullopt;
    }
    return [=](Slot& s, const Json&, Allocator& a) {
        if (absent(s)) return;
        const std::string v = text_or_fail(s, "substring");
        const size_t count = characters(v), from = position(start, count);
        size_t to = count;
        if (length) to = std::min(count, from + static_cast<size_t>(*length));
        else if (end) to = std::max(from, position(*end, count));
        const size_t first = byte_offset(v, from);
        set_text(s, std::string_view(v).substr(first, byte_offset(v, to) - first), a);
    };
}

// What a replacement may grow a value to: a record's own size cap, so that a short value
// with many matches and a long replacement cannot take the daemon's memory.
void check_growth(size_t size, const char* op) {
    const size_t limit = json_limits().max_record_bytes;
    if (size > limit)
        throw MapError(std::string(op) + ": the result would be longer than a record may be (" + std::to_string(limit) +
                       " bytes, max-record-bytes)");
}

// Every non-overlapping match of `re` in `v` rewritten, as RE2::GlobalReplace does it (an
// empty match right where the last match ended is skipped by one character), with the
// output checked as it grows.
std::string replace_matches(const RE2& re, const std::string& v, const std::string& with) {
    const int groups = std::min(re.NumberOfCapturingGroups(), 9) + 1;  // \0 to \9
    std::vector<re2::StringPiece> found(static_cast<size_t>(groups));
    std::string out;
    size_t at = 0;
    std::optional<size_t> last_end;  // where the last match ended
    auto one_character = [&](size_t from) {
        size_t next = from + 1;
        while (next < v.size() && !starts_character(v[next])) ++next;
        return next;
    };
    while (at <= v.size() && re.Match(v, at, v.size(), RE2::UNANCHORED, found.data(), groups)) {
        const size_t start = static_cast<size_t>(found[0].data() - v.data()), end = start + found[0].size();
        out.append(v, at, start - at);
        if (start == end && last_end == start) {  // empty, right after the last match
            if (start == v.size()) {
                at = start;
                break;
            }
            const size_t next = one_character(start);
            out.append(v, start, next - start);
            at = next;
            continue;
        }
        re.Rewrite(&out, with, found.data(), groups);
        check_growth(out.size(), "replace");
        last_end = end;
        if (end > start) {
            at = end;
            continue;
        }
        if (end == v.size()) {
            at = end;
            break;
        }
        const size_t next = one_character(end);
        out.append(v, end, next - end);
        at = next;
    }
    if (at < v.size()) out.append(v, at);
    return out;
}

std::optional<Transform> replace(const Spec& t) {
    t.allow_only({"op", "find", "pattern", "with"});
    const std::string with = t.string("with");
    if (t.member("find") == nullptr && t.member("pattern") == nullptr) {
        t.problem("give find (text replaced wherever it occurs) or pattern (a regular expression)");
        return std::nullopt;
    }
    if (t.member("find") && t.member("pattern")) {
        t.problem("give either find or pattern, not both");
        return std::nullopt;
    }
    if (t.member("find")) {
        const std::string find = t.string("find", true);  // empty is a problem
        if (find.empty()) return std::nullopt;
        return [find, with](Slot& s, const Json&, Allocator& a) {
            if (absent(s)) return;
            const std::string v = text_or_fail(s, "replace");
            std::string out;
            size_t from = 0;
            for (size_t at; (at = v.find(find, from)) != std::string::npos; from = at + find.size()) {
                out.append(v, from, at - from).append(with);
                check_growth(out.size(), "replace");
            }
            out.append(v, from);
            set_text(s, out, a);
        };
    }
    std::shared_ptr<const RE2> re = flow_regex(t, "pattern");
    if (!re) return std::nullopt;
    std::string error;
    if (!re->CheckRewriteString(with, &error)) {
        t.problem("with", "is not a replacement for this pattern: " + error + " (\\1 to \\9 are its groups, \\0 the match)");
        return std::nullopt;
    }
    return [re, with](Slot& s, const Json&, Allocator& a) {
        if (absent(s)) return;
        set_text(s, replace_matches(*re, text_or_fail(s, "replace"), with), a);
    };
}

std::optional<Transform> regex_extract(const Spec& t) {
    t.allow_only({"op", "pattern", "group"});
    std::shared_ptr<const RE2> re = flow_regex(t, "pattern");
    if (!re) return std::nullopt;
    const int groups = re->NumberOfCapturingGroups();
    const int64_t group = t.integer("group", 0, 99).value_or(groups > 0 ? 1 : 0);
    if (group > groups) {
        t.problem("group", "is " + std::to_string(group) + " but the pattern has " + std::to_string(groups) +
                               " group(s) (0 is the whole match)");
        return std::nullopt;
    }
    return [re, group](Slot& s, const Json&, Allocator& a) {
        if (absent(s)) return;
        const std::string v = text_or_fail(s, "regex_extract");
        std::vector<re2::StringPiece> found(static_cast<size_t>(group) + 1);
        if (!re->Match(v, 0, v.size(), RE2::UNANCHORED, found.data(), static_cast<int>(found.size())) ||
            found[static_cast<size_t>(group)].data() == nullptr) {
            s = Slot{};  // no match: nothing, for a default or `required` to deal with
            return;
        }
        const auto& piece = found[static_cast<size_t>(group)];
        set_text(s, std::string_view(piece.data(), piece.size()), a);
    };
}

std::optional<Transform> split(const Spec& t) {
    t.allow_only({"op", "separator", "trim", "skip_empty"});
    const std::string separator = t.string("separator", true);  // empty is a problem
    const bool trim = t.boolean("trim", false), skip_empty = t.boolean("skip_empty", false);
    if (separator.empty()) return std::nullopt;
    return [=](Slot& s, const Json&, Allocator& a) {
        if (absent(s)) return;
        const std::string v = text_or_fail(s, "split");
        Json parts(rapidjson::kArrayType);
        size_t from = 0, grown = 0;
        for (;;) {
            const size_t at = v.find(separator, from);
            std::string_view part = std::string_view(v).substr(from, at == std::string::npos ? std::string::npos : at - from);
            if (trim) {
                const auto first = part.find_first_not_of(" \t\r\n");
                part = first == std::string_view::npos ? std::string_view{}
                                                       : part.substr(first, part.find_last_not_of(" \t\r\n") - first + 1);
            }
            if (!(skip_empty && part.empty())) {
                parts.PushBack(Json(part.data(), static_cast<rapidjson::SizeType>(part.size()), a), a);
                grown += sizeof(Json) + part.size();  // each part is a value of its own
                check_growth(grown, "split");
            }
            if (at == std::string::npos) break;
            from = at + separator.size();
        }
        s.value = std::move(parts);
        s.present = true;
    };
}

std::optional<Transform> join(const Spec& t) {
    t.allow_only({"op", "separator"});
    const std::string separator = t.string("separator");
    return [separator](Slot& s, const Json&, Allocator& a) {
        if (absent(s)) return;
        if (!s.value.IsArray()) throw MapError("join: the value is not a list");
        std::string out;
        bool first = true;
        for (const auto& element : s.value.GetArray()) {
            if (element.IsNull()) continue;
            if (element.IsObject() || element.IsArray()) throw MapError("join: an element of the list is not text");
            if (!first) out += separator;
            out += text_of(element);
            check_growth(out.size(), "join");
            first = false;
        }
        set_text(s, out, a);
    };
}

std::optional<Transform> pad(const Spec& t) {
    t.allow_only({"op", "length", "with", "side"});
    const auto length = t.integer("length", 1, 1000);
    if (!length && !t.member("length")) t.problem("length", "is required: the length in characters to pad to");
    const std::string with = t.member("with") ? t.string("with") : " ";
    if (characters(with) != 1) t.problem("with", "must be one character");
    const std::string side = t.member("side") ? t.string("side") : "left";
    if (side != "left" && side != "right") t.problem("side", "must be left or right");
    if (!length || characters(with) != 1 || (side != "left" && side != "right")) return std::nullopt;
    return [=](Slot& s, const Json&, Allocator& a) {
        if (absent(s)) return;
        const std::string v = text_or_fail(s, "pad");
        const size_t have = characters(v);
        if (have >= static_cast<size_t>(*length)) return set_text(s, v, a);
        std::string fill;
        for (size_t i = have; i < static_cast<size_t>(*length); ++i) fill += with;
        set_text(s, side == "left" ? fill + v : v + fill, a);
    };
}

std::optional<Transform> change_case_or_trim(const Spec& t, const std::string& op) {
    t.allow_only({"op"});
    return [op](Slot& s, const Json&, Allocator& a) {
        if (absent(s)) return;
        std::string v = text_or_fail(s, op);
        if (op == "upper") std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::toupper(c); });
        else if (op == "lower") std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
        else {
            const auto first = v.find_first_not_of(" \t\r\n");
            v = first == std::string::npos ? "" : v.substr(first, v.find_last_not_of(" \t\r\n") - first + 1);
        }
        set_text(s, v, a);
    };
}

std::optional<Transform> affix(const Spec& t, const std::string& op) {
    t.allow_only({"op", "value"});
    const std::string value = t.string("value", true);
    return [op, value](Slot& s, const Json&, Allocator& a) {
        const std::string v = text_or_fail(s, op);
        set_text(s, op == "prefix" ? value + v : v + value, a);
    };
}

}  // namespace

const std::vector<std::string>& text_transform_ops() {
    static const std::vector<std::string> ops{"upper",   "lower",   "trim",          "prefix", "suffix", "substring",
                                              "replace", "regex_extract", "split", "join",   "pad"};
    return ops;
}

std::optional<Transform> text_transform(const Spec& t, const std::string& op) {
    if (op == "upper" || op == "lower" || op == "trim") return change_case_or_trim(t, op);
    if (op == "prefix" || op == "suffix") return affix(t, op);
    if (op == "substring") return substring(t);
    if (op == "replace") return replace(t);
    if (op == "regex_extract") return regex_extract(t);
    if (op == "split") return split(t);
    if (op == "join") return join(t);
    if (op == "pad") return pad(t);
    return std::nullopt;
}

}  // namespace junction::core::flows
