// Reading an API page by page: one emitted page per API page (the host checkpoints after
// each, and memory stays flat whatever the total), the host's cancellation honoured between
// pages, and the usual ways an API says where the next page is.
//
//   sdk::read_pages(call, "1", [&](const std::string& page) {      // page numbers
//       const auto r = sdk::send_with_retries(call, get(url.query("page", page)));
//       if (r.status >= 300) throw sdk::http_error(r, "reading page " + page);
//       sdk::ApiPage out{sdk::parse_json(r.body, "a page", JN_ERR_TRANSIENT), std::nullopt};
//       out.next = sdk::next_page_number(page, out.records.Size(), 100);
//       return out;
//   });
#pragma once

#include <junction/sdk/cursor.hpp>
#include <junction/sdk/host.hpp>
#include <junction/sdk/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace junction::sdk {

// One page as the API gave it: its records (a JSON array of objects) and where the next
// page is (a page number, an offset, a cursor or a URL: what `fetch` takes); none: the end.
struct ApiPage {
    JsonDocument records;
    std::optional<std::string> next;
};

// Calls `fetch(where)` from `first` on, emitting each page's records as one page, until a
// page names no next one, comes back empty, or names the page it came from (an API that
// would loop). `newest`, when given, sees every record emitted (an incremental read).
// Returns the number of records. Throws Error(JN_ERR_CANCELLED) once the host cancels.
template <class Fetch>
size_t read_pages(const Call& call, std::string first, Fetch&& fetch, NewestCursor* newest = nullptr) {
    size_t total = 0;
    std::string where = std::move(first);
    for (;;) {
        if (call.cancelled()) throw Error(JN_ERR_CANCELLED, "cancelled between pages");
        ApiPage page = fetch(static_cast<const std::string&>(where));
        if (!page.records.IsArray())
            throw Error(JN_ERR_TRANSIENT, "the API's page " + where + " is not a list of records");
        if (page.records.Empty()) return total;
        std::string out = "[";
        for (rapidjson::SizeType i = 0; i < page.records.Size(); ++i) {
            if (!page.records[i].IsObject())
                throw Error(JN_ERR_TRANSIENT, "the API's page " + where + " holds a record that is not an object");
            if (newest) newest->see(page.records[i]);
            if (i) out.push_back(',');
            out += to_json(page.records[i]);
        }
        out.push_back(']');
        call.emit(out);
        total += page.records.Size();
        if (!page.next || page.next->empty() || *page.next == where) return total;
        where = std::move(*page.next);
    }
}

// Page numbers: the next one when this page was full, else none.
inline std::optional<std::string> next_page_number(std::string_view page, size_t got, size_t per_page) {
    if (got < per_page) return std::nullopt;
    return std::to_string(std::stoll(std::string(page)) + 1);
}

// Offsets: the next offset when this page was full, else none.
inline std::optional<std::string> next_offset(std::string_view offset, size_t got, size_t per_page) {
    if (got < per_page) return std::nullopt;
    return std::to_string(std::stoll(std::string(offset)) + static_cast<long long>(got));
}

// A Link header's rel="next" URL (RFC 8288: <url>; rel="next"), as GitHub, Shopify and
// others page; none when there is none.
inline std::optional<std::string> next_link(const HttpResponse& response) {
    const std::string_view links = response.header("Link");
    size_t at = 0;
    while (at < links.size()) {
        const size_t open = links.find('<', at);
        if (open == std::string_view::npos) break;
        const size_t close = links.find('>', open);
        if (close == std::string_view::npos) break;
        const size_t end = links.find(",", close);
        const std::string_view params = links.substr(close + 1, end == std::string_view::npos ? end : end - close - 1);
        if (params.find("rel=\"next\"") != std::string_view::npos || params.find("rel=next") != std::string_view::npos)
            return std::string(links.substr(open + 1, close - open - 1));
        if (end == std::string_view::npos) break;
        at = end + 1;
    }
    return std::nullopt;
}

}  // namespace junction::sdk
