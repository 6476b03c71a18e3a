#include "page_scanner.hpp"

namespace junction::rest {

namespace {

using namespace simdjson;

// The value at `pointer` as text: strings unescaped, numbers and literals as written.
bool scalar_text(ondemand::value v, std::string& out) {
    ondemand::json_type type;
    if (v.type().get(type)) return false;
    switch (type) {
        case ondemand::json_type::string: {
            std::string_view s;
            if (v.get_string().get(s)) return false;
            out.assign(s);
            return true;
        }
        case ondemand::json_type::null: out.clear(); return true;
        case ondemand::json_type::number:
        case ondemand::json_type::boolean: {
            std::string_view raw = v.raw_json_token();
            while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t'))
                raw.remove_suffix(1);
            out.assign(raw);
            return true;
        }
        default: return false;  // an object or array is no cursor
    }
}

}  // namespace

PageScan PageScanner::scan(std::string& body, const std::string& records_pointer,
                           const std::vector<std::string>& value_pointers) {
    PageScan out;
    const size_t size = body.size();
    body.reserve(size + SIMDJSON_PADDING);
    ondemand::document doc;
    if (auto e = parser_.iterate(body.data(), size, body.capacity()).get(doc)) {
        out.error = error_message(e);
        return out;
    }
    // The records.
    ondemand::value records;
    auto found = records_pointer.empty() ? doc.get_value().get(records) : doc.at_pointer(records_pointer).get(records);
    if (found == NO_SUCH_FIELD || found == INDEX_OUT_OF_BOUNDS || found == INCORRECT_TYPE) {
        out.valid = true;  // JSON, but not the records where the manifest says
        return out;
    }
    if (found) {
        out.error = error_message(found);
        return out;
    }
    out.records_found = true;
    ondemand::array array;
    if (records.get_array().get(array) == SUCCESS) {
        out.records_is_array = true;
        size_t count = 0;
        if (auto e = array.count_elements().get(count)) {
            out.error = error_message(e);
            return out;
        }
        std::string_view raw;
        if (auto e = array.raw_json().get(raw)) {
            out.error = error_message(e);
            return out;
        }
        out.record_count = count;
        out.records = raw;
    }
    // The pagination values, each from the top.
    for (const auto& pointer : value_pointers) {
        doc.rewind();
        ondemand::value v;
        if (doc.at_pointer(pointer).get(v) == SUCCESS) {
            std::string text;
            if (scalar_text(v, text)) out.values[pointer] = std::move(text);
        }
    }
    out.valid = true;
    return out;
}

}  // namespace junction::rest
