#include "pagination.hpp"

#include "templates.hpp"

#include <junction/sdk/paging.hpp>

#include <rapidjson/pointer.h>
#include <strings.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <string_view>

namespace junction::rest {

std::string origin_of(const std::string& url) {
    const size_t scheme = url.find("://");
    if (scheme == std::string::npos) return {};
    const size_t path = url.find_first_of("/?#", scheme + 3);
    return url.substr(0, path);
}

void PageRequest::set(const std::string& name, const std::string& value) {
    for (auto& [k, v] : query)
        if (k == name) {
            v = value;
            return;
        }
    query.emplace_back(name, value);
}

void PageRequest::remove(const std::string& name) {
    query.erase(std::remove_if(query.begin(), query.end(), [&](const auto& kv) { return kv.first == name; }), query.end());
}

std::string PageRequest::full_url() const {
    // Appended piece by piece: no temporaries (GCC 12 at -O3 also warns falsely, -Wrestrict,
    // on `"?" + url_encode(k) + ...`).
    std::string out = url;
    bool has_query = out.find('?') != std::string::npos;
    for (const auto& [k, v] : query) {
        out += has_query ? '&' : '?';
        has_query = true;
        out += url_encode(k);
        out += '=';
        out += url_encode(v);
    }
    return out;
}

Pager::Pager(const Pagination& pagination, std::string origin) : p_(pagination), origin_(std::move(origin)) {}

void Pager::first(PageRequest& r) const {
    if (p_.type == Paging::page_number && !p_.param.empty()) r.set(p_.param, std::to_string(p_.start));
    if (p_.type == Paging::offset && !p_.param.empty()) r.set(p_.param, "0");
    if ((p_.type == Paging::page_number || p_.type == Paging::offset) && !p_.size_param.empty() && p_.size > 0)
        r.set(p_.size_param, std::to_string(p_.size));
}

std::string Pager::same_origin(const std::string& url) const {
    const std::string absolute = url.rfind("/", 0) == 0 ? origin_ + url : url;
    if (origin_of(absolute) != origin_)
        throw sdk::Error(JN_ERR_INVALID_REQUEST, "the next page is on another host (" + origin_of(absolute) +
                                                     "); refusing to send the instance's credentials there");
    return absolute;
}

std::vector<std::string> Pager::pointers() const {
    std::vector<std::string> out;
    if (p_.type == Paging::next_url || p_.type == Paging::cursor) out = {p_.path};
    if (p_.type == Paging::graphql) out = {p_.path + "/hasNextPage", p_.path + "/endCursor"};
    for (const PageValue* v : {&p_.total_pages, &p_.total_records, &p_.has_more})
        if (!v->pointer.empty()) out.push_back(v->pointer);
    return out;
}

std::optional<std::string> Pager::stated(const PageValue& v, const sdk::HttpResponse& response, const PageScan& page) {
    if (!v.header.empty()) {
        for (const auto& [name, value] : response.headers)
            if (strcasecmp(name.c_str(), v.header.c_str()) == 0) return value;
        return std::nullopt;
    }
    if (!v.pointer.empty() && page.has(v.pointer)) return page.value(v.pointer);
    return std::nullopt;
}

std::optional<int64_t> Pager::stated_count(const PageValue& v, const sdk::HttpResponse& response, const PageScan& page) {
    const auto text = stated(v, response, page);
    if (!text || text->empty()) return std::nullopt;  // absent, or null: not stated
    int64_t n = 0;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
    if (ec != std::errc() || end != text->data() + text->size() || n < 0)
        throw sdk::Error(JN_ERR_INVALID_REQUEST, "the answer's " + v.name() + " is '" + text->substr(0, 40) +
                                                     "', not a count; check the endpoint's pagination");
    return n;
}

std::optional<bool> Pager::stated_more(const sdk::HttpResponse& response, const PageScan& page) {
    // Records added while paging raise later totals and deleted ones lower them: the
    // smallest is the count the read must reach.
    const auto total = stated_count(p_.total_records, response, page);
    if (total) fewest_total_ = std::min(fewest_total_.value_or(*total), *total);
    if (const auto more = stated(p_.has_more, response, page)) return *more == "true" || *more == "1";
    if (total && (p_.type == Paging::page_number || p_.type == Paging::offset)) return records_read_ < *total;
    if (const auto pages = stated_count(p_.total_pages, response, page)) {
        const int64_t read = (page_ == 0 ? p_.start : page_) - p_.start + 1;
        return read < *pages;
    }
    return std::nullopt;
}

bool Pager::is_end(const sdk::HttpResponse& response) const {
    for (const auto& end : p_.end_answers) {
        if (end.status != response.status) continue;
        if (end.pointer.empty()) return true;
        try {
            const sdk::JsonDocument body = sdk::parse_json(response.body, "the answer");
            const rapidjson::Pointer at(end.pointer.c_str());
            const sdk::Json* v = at.IsValid() ? at.Get(body) : nullptr;
            if (v && v->IsString() && end.equals == std::string_view(v->GetString(), v->GetStringLength())) return true;
            if (v && !v->IsString() && end.equals == sdk::to_json(*v)) return true;
        } catch (const sdk::Error&) {  // not JSON: not this end
        }
    }
    return false;
}

void Pager::repeated() const {
    throw sdk::Error(JN_ERR_INVALID_CONFIG, "the next page repeated the one before it: the API ignores how the "
                                            "endpoint asks for the next page; check its pagination");
}

sdk::JsonDocument Pager::values() const {
    sdk::JsonDocument v(rapidjson::kObjectType);
    auto& a = v.GetAllocator();
    v.AddMember("cursor", cursor_.empty() ? sdk::Json() : sdk::Json(cursor_.c_str(), a), a);
    v.AddMember("number", page_ == 0 ? p_.start : page_, a);
    v.AddMember("offset", offset_, a);
    v.AddMember("size", p_.size, a);
    return v;
}

void Pager::check_complete(const std::string& what) const {
    if (!fewest_total_ || records_read_ >= *fewest_total_) return;
    std::string why = what + " read " + std::to_string(records_read_) + " records where its answers said there are " +
                      std::to_string(*fewest_total_) + " (" + p_.total_records.name() + ")";
    if (p_.size > 0)
        why += "; the server may cap the page size below the " + std::to_string(p_.size) +
               " asked for: set the endpoint's pagination 'size' to its cap, or declare total_pages or has_more";
    throw sdk::Error(JN_ERR_INVALID_CONFIG, why);
}

bool Pager::next(PageRequest& r, const sdk::HttpResponse& response, const PageScan& page) {
    // What the page had, before a record_filter: a filtered page is not a short one.
    const size_t records = page.scanned;
    records_read_ += static_cast<int64_t>(records);
    // A server that ignores how the next page is asked for answers the same page for ever:
    // the same answer (page numbers, offsets), or the same next cursor or URL.
    const size_t fingerprint = std::hash<std::string_view>{}(response.body);
    const bool by_answer = p_.type == Paging::page_number || p_.type == Paging::offset;
    if (by_answer && records > 0 && pages_seen_ > 0 && fingerprint == last_page_) repeated();
    last_page_ = fingerprint;
    ++pages_seen_;
    const std::optional<bool> more = stated_more(response, page);
    switch (p_.type) {
        case Paging::none: return false;
        case Paging::link_header: {
            if (more == false) return false;
            const std::string next = sdk::next_link(response).value_or("");
            if (next.empty()) return false;
            if (same_origin(next) == r.full_url()) repeated();
            r.url = same_origin(next);
            r.query.clear();  // the link carries its own query (Shopify: page_info and limit only)
            return true;
        }
        case Paging::next_url: {
            if (more == false) return false;
            const std::string next = page.value(p_.path);
            if (next.empty()) return false;
            if (same_origin(next) == r.full_url()) repeated();
            r.url = same_origin(next);
            r.query.clear();
            return true;
        }
        case Paging::cursor: {
            const std::string cursor = page.value(p_.path);
            if (cursor.empty() || records == 0 || more == false) return false;
            if (cursor == cursor_) repeated();
            cursor_ = cursor;
            if (!p_.param.empty()) r.set(p_.param, cursor);
            return true;
        }
        case Paging::page_number:
            if (records == 0 || !more.value_or(p_.size <= 0 || static_cast<int64_t>(records) >= p_.size)) return false;
            page_ = page_ == 0 ? p_.start + 1 : page_ + 1;
            if (!p_.param.empty()) r.set(p_.param, std::to_string(page_));
            return true;
        case Paging::offset:
            if (records == 0 || !more.value_or(static_cast<int64_t>(records) >= p_.size)) return false;
            offset_ += static_cast<int64_t>(records);
            if (!p_.param.empty()) r.set(p_.param, std::to_string(offset_));
            return true;
        case Paging::graphql: {
            const std::string cursor = page.value(p_.path + "/endCursor");
            if (page.value(p_.path + "/hasNextPage") != "true" || cursor.empty()) return false;
            if (cursor == cursor_) repeated();
            cursor_ = cursor;
            if (p_.param.empty()) return true;  // a {{page.cursor}} template places it
            auto& a = r.body->GetAllocator();
            if (!r.body->HasMember("variables")) r.body->AddMember("variables", sdk::Json(rapidjson::kObjectType), a);
            sdk::Json& vars = (*r.body)["variables"];
            vars.RemoveMember(p_.param.c_str());
            vars.AddMember(sdk::Json(p_.param.c_str(), a), sdk::Json(cursor.c_str(), a), a);
            return true;
        }
    }
    return false;
}

}  // namespace junction::rest
