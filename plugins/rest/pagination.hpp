// The six ways an API hands out the next page: a Link header, a next URL in the body, a
// cursor sent back as a parameter, page numbers, offsets, and GraphQL's pageInfo.
#pragma once

#include "definition.hpp"
#include "page_scanner.hpp"

#include <memory>
#include <string>

namespace junction::rest {

// One request of a receive, as the pager moves it on.
struct PageRequest {
    std::string url;  // without the query, or (next_url, link_header) the server's whole URL
    StringPairs query;
    std::shared_ptr<sdk::JsonDocument> body;  // GraphQL: the query and its variables

    void set(const std::string& name, const std::string& value);  // replaces or adds
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

    // Moves `request` to the next page; false when the page just read was the last.
    bool next(PageRequest& request, const sdk::HttpResponse& response, const PageScan& page);

private:
    std::string same_origin(const std::string& url) const;

    const Pagination& p_;
    std::string origin_;
    int64_t page_ = 0;
    int64_t offset_ = 0;
};

// scheme://host[:port] of a URL.
std::string origin_of(const std::string& url);

}  // namespace junction::rest
