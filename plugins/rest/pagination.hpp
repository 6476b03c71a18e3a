// The six ways an API hands out the next page: a Link header, a next URL in the body, a
// cursor sent back as a parameter, page numbers, offsets, and GraphQL's pageInfo.
#pragma once

#include "definition.hpp"
#include "page_scanner.hpp"

#include <memory>
#include <optional>
#include <string>

namespace junction::rest {

// One request of a receive, as the pager moves it on.
struct PageRequest {
    std::string url;  // without the query, or (next_url, link_header) the server's whole URL
    StringPairs query;
    std::shared_ptr<sdk::JsonDocument> body;  // GraphQL: the query and its variables

    void set(const std::string& name, const std::string& value);  // replaces or adds
    void remove(const std::string& name);
    std::string full_url() const;
};

class Pager {
public:
    // `origin` (scheme://host[:port]) of the base URL: next links elsewhere are refused, so
    // credentials never travel to a host the manifest did not name.
    Pager(const Pagination& pagination, std::string origin);

    void first(PageRequest& request) const;

    // The body values the strategy reads (for scan_page).
    std::vector<std::string> pointers() const;

    // Moves `request` to the next page; false when the page just read was the last. What
    // the answer states (has_more, total_pages, total_records) decides; without them, a
    // page shorter than the size asked for is the last.
    bool next(PageRequest& request, const sdk::HttpResponse& response, const PageScan& page);

    // The page's values for {{page.x}} templates: cursor (null on the first page), number,
    // offset and size.
    sdk::JsonDocument values() const;

    // Whether a failed answer is one of the manifest's end_on answers (no more pages).
    bool is_end(const sdk::HttpResponse& response) const;

    // After the last page: throws when an answer stated more records than were read (a
    // server that caps the page size silently), naming both counts and where they came from.
    void check_complete(const std::string& what) const;

private:
    std::string same_origin(const std::string& url) const;
    [[noreturn]] void repeated() const;  // the next page would be the one just read
    // The value `v` names in this answer; nullopt when the answer does not state it.
    static std::optional<std::string> stated(const PageValue& v, const sdk::HttpResponse& response, const PageScan& page);
    static std::optional<int64_t> stated_count(const PageValue& v, const sdk::HttpResponse& response,
                                               const PageScan& page);
    // Whether another page follows by what the answer states; nullopt when it states nothing.
    std::optional<bool> stated_more(const sdk::HttpResponse& response, const PageScan& page);

    const Pagination& p_;
    std::string origin_;
    int64_t page_ = 0;
    int64_t offset_ = 0;
    int64_t records_read_ = 0;
    std::string cursor_;  // the next page's cursor (cursor, graphql)
    size_t last_page_ = 0;  // a hash of the last answer (page numbers, offsets)
    int64_t pages_seen_ = 0;
    std::optional<int64_t> fewest_total_;  // the smallest total_records an answer stated
};

// scheme://host[:port] of a URL.
std::string origin_of(const std::string& url);

}  // namespace junction::rest
