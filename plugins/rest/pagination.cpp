#include "pagination.hpp"

#include "templates.hpp"

namespace junction::rest {

namespace {

// The rel="next" target of a Link header, or "".
std::string link_next(std::string_view header) {
    size_t at = 0;
    while (at < header.size()) {
        const size_t open = header.find('<', at);
        const size_t close = header.find('>', open);
        if (open == std::string_view::npos || close == std::string_view::npos) break;
        const size_t end = header.find(",", close);
        const std::string_view params = header.substr(close + 1, end == std::string_view::npos ? end : end - close - 1);
        if (params.find("rel=\"next\"") != std::string_view::npos || params.find("rel=next") != std::string_view::npos)
            return std::string(header.substr(open + 1, close - open - 1));
        if (end == std::string_view::npos) break;
        at = end + 1;
    }
    return {};
}

}  // namespace

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

std::string PageRequest::full_url() const {
    std::string out = url;
    for (const auto& [k, v] : query)
        out += (out.find('?') == std::string::npos ? "?" : "&") + url_encode(k) + "=" + url_encode(v);
    return out;
}

Pager::Pager(const Pagination& pagination, std::string origin) : p_(pagination), origin_(std::move(origin)) {}

void Pager::first(PageRequest& r) const {
    if (p_.type == Paging::page_number) r.set(p_.param, std::to_string(p_.start));
    if (p_.type == Paging::offset) r.set(p_.param, "0");
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
    if (p_.type == Paging::next_url || p_.type == Paging::cursor) return {p_.path};
    if (p_.type == Paging::graphql) return {p_.path + "/hasNextPage", p_.path + "/endCursor"};
    return {};
}

bool Pager::next(PageRequest& r, const sdk::HttpResponse& response, const PageScan& page) {
    const size_t records = page.record_count;
    switch (p_.type) {
        case Paging::none: return false;
        case Paging::link_header: {
            const std::string next = link_next(response.header("Link"));
            if (next.empty()) return false;
            r.url = same_origin(next);
            r.query.clear();  // the link carries its own query (Shopify: page_info and limit only)
            return true;
        }
        case Paging::next_url: {
            const std::string next = page.value(p_.path);
            if (next.empty()) return false;
            r.url = same_origin(next);
            r.query.clear();
            return true;
        }
        case Paging::cursor: {
            const std::string cursor = page.value(p_.path);
            if (cursor.empty() || records == 0) return false;
            r.set(p_.param, cursor);
            return true;
        }
        case Paging::page_number:
            if (records == 0 || (p_.size > 0 && static_cast<int64_t>(records) < p_.size)) return false;
            page_ = page_ == 0 ? p_.start + 1 : page_ + 1;
            r.set(p_.param, std::to_string(page_));
            return true;
        case Paging::offset:
            if (records == 0 || static_cast<int64_t>(records) < p_.size) return false;
            offset_ += static_cast<int64_t>(records);
            r.set(p_.param, std::to_string(offset_));
            return true;
        case Paging::graphql: {
            const std::string cursor = page.value(p_.path + "/endCursor");
            if (page.value(p_.path + "/hasNextPage") != "true" || cursor.empty()) return false;
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
