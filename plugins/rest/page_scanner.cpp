#include "page_scanner.hpp"

#include <rapidjson/pointer.h>

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

// The whole text of a value: an object's or array's bytes, a scalar's token.
error_code raw_value(ondemand::value v, std::string_view& raw) {
    ondemand::json_type type;
    if (auto e = v.type().get(type)) return e;
    if (type == ondemand::json_type::object) {
        ondemand::object o;
        if (auto e = v.get_object().get(o)) return e;
        return o.raw_json().get(raw);
    }
    if (type == ondemand::json_type::array) {
        ondemand::array a;
        if (auto e = v.get_array().get(a)) return e;
        return a.raw_json().get(raw);
    }
    raw = v.raw_json_token();
    while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t'))
        raw.remove_suffix(1);
    return SUCCESS;
}

// Whether a record passes the endpoint's filter. The record (already checked JSON) is read
// again with the bounded reader: a filter costs a parse of each record. One the reader
// refuses fails the page (sdk::Error), rather than vanish.
bool keeps(std::string_view record, const RecordFilter& filter) {
    const sdk::JsonDocument doc = sdk::parse_json(record, "a record the endpoint's record_filter reads");
    const rapidjson::Pointer at(filter.pointer.c_str());
    const sdk::Json* v = at.IsValid() ? at.Get(doc) : nullptr;
    if (filter.exists) return (v && !v->IsNull()) == *filter.exists;  // null is absent, as in response rules
    if (filter.equals) return v && *v == *filter.equals;
    if (filter.not_equals) return !v || !(*v == *filter.not_equals);
    return true;
}

// The array at `pointer`, as the API sent it (its bytes are emitted as they came). False
// when the scan ends here (out says why).
bool scan_records(ondemand::document& doc, const std::string& pointer, PageScan& out) {
    ondemand::value records;
    auto found = pointer.empty() ? doc.get_value().get(records) : doc.at_pointer(pointer).get(records);
    if (found == NO_SUCH_FIELD || found == INDEX_OUT_OF_BOUNDS || found == INCORRECT_TYPE) {
        out.valid = true;  // JSON, but not the records where the manifest says
        return false;
    }
    if (found) {
        out.error = error_message(found);
        return false;
    }
    out.records_found = true;
    ondemand::array array;
    if (records.get_array().get(array) == SUCCESS) {
        out.records_is_array = true;
        size_t count = 0;
        if (auto e = array.count_elements().get(count)) {
            out.error = error_message(e);
            return false;
        }
        std::string_view raw;
        if (auto e = array.raw_json().get(raw)) {
            out.error = error_message(e);
            return false;
        }
        out.record_count = out.scanned = count;
        out.records = raw;
    }
    return true;
}

}  // namespace

error_code PageScanner::collect(ondemand::value at, std::string_view selector, const RecordFilter* filter,
                                PageScan& out) {
    const size_t star = selector.find("/*");
    ondemand::value list = at;
    if (star != 0 && !selector.empty()) {  // the steps before the '*' (or to the end)
        if (auto e = at.at_pointer(selector.substr(0, star)).get(list)) return e;
    }
    ondemand::array array;
    if (auto e = list.get_array().get(array)) return e;
    const std::string_view rest = star == std::string_view::npos ? std::string_view{} : selector.substr(star + 2);
    for (auto element : array) {
        ondemand::value v;
        if (auto e = element.get(v)) return e;
        if (rest.find("/*") != std::string_view::npos) {  // another '*' further in
            const auto e = collect(v, rest, filter, out);
            if (e && e != NO_SUCH_FIELD && e != INDEX_OUT_OF_BOUNDS && e != INCORRECT_TYPE) return e;
            continue;
        }
        ++out.scanned;
        ondemand::value record = v;
        if (!rest.empty()) {
            const auto e = v.at_pointer(rest).get(record);
            if (e == NO_SUCH_FIELD || e == INDEX_OUT_OF_BOUNDS || e == INCORRECT_TYPE) continue;  // not in this one
            if (e) return e;
        }
        std::string_view raw;
        if (auto e = raw_value(record, raw)) return e;
        if (filter && !keeps(raw, *filter)) continue;
        out.built += out.record_count++ == 0 ? "[" : ",";
        out.built.append(raw);
    }
    return SUCCESS;
}

PageScan PageScanner::scan(std::string& body, const std::string& records_pointer,
                           const std::vector<std::string>& value_pointers, const RecordFilter* filter) {
    PageScan out;
    const size_t size = body.size();
    body.reserve(size + SIMDJSON_PADDING);
    ondemand::document doc;
    if (auto e = parser_.iterate(body.data(), size, body.capacity()).get(doc)) {
        out.error = error_message(e);
        return out;
    }
    if (filter || records_pointer.find("/*") != std::string::npos) {
        // Collected one by one: each '*' step, then the filter.
        ondemand::value root;
        error_code e = doc.get_value().get(root);
        if (!e) e = collect(root, records_pointer, filter, out);
        if (e == NO_SUCH_FIELD || e == INDEX_OUT_OF_BOUNDS || e == INCORRECT_TYPE) {
            out.valid = true;  // JSON, but not the records where the manifest says
            return out;
        }
        if (e) {
            out.error = error_message(e);
            return out;
        }
        out.records_found = out.records_is_array = true;
        out.built += out.record_count == 0 ? "[]" : "]";
    } else if (!scan_records(doc, records_pointer, out)) {
        return out;
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
