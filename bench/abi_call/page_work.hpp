// The work both sides of the ABI benchmark do: read the request, build a page of N order
// records as JSON, hand it over. Shared so the plugin and the direct call do the same.
#pragma once

#include <rapidjson/document.h>

#include <cstdio>
#include <string>
#include <string_view>

namespace bench {

// Returns the number of records the request asks for (default 1).
inline size_t requested_records(std::string_view request) {
    rapidjson::Document doc;
    doc.Parse(request.data(), request.size());
    if (!doc.IsObject() || !doc.HasMember("records") || !doc["records"].IsUint()) return 1;
    return doc["records"].GetUint();
}

// Appends a JSON array of n records to `page` (cleared first).
inline void build_page(size_t n, std::string& page) {
    page.clear();
    page.push_back('[');
    char record[192];
    for (size_t i = 0; i < n; ++i) {
        const int len = std::snprintf(
            record, sizeof record,
            R"(%s{"id":%zu,"name":"#%zu","total_price":"%zu.50","currency":"GBP","financial_status":"paid"})",
            i ? "," : "", 1000000 + i, 1000 + i, 10 + i % 90);
        page.append(record, static_cast<size_t>(len));
    }
    page.push_back(']');
}

}  // namespace bench
