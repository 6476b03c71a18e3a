// Reads a receive response without building a DOM (simdjson On-Demand): where the array
// of records is (its exact bytes, emitted as they came), how many records it holds, and
// the few scalar values pagination needs. What is checked: the whole body is valid UTF-8
// with balanced structure and closed strings (simdjson's first stage), and everything on
// the way to the records and the pagination values parses. The records' own fields are
// parsed by whoever reads the page (docs/decisions/0010).
#pragma once

#include "definition.hpp"

#include <simdjson.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace junction::rest {

struct PageScan {
    bool valid = false;          // the body is JSON, as far as it was read
    std::string error;           // why not
    bool records_found = false;  // a value at the records pointer
    bool records_is_array = false;
    std::string_view records;    // the array's bytes, inside the scanned body
    size_t record_count = 0;     // the records kept (emitted)
    size_t scanned = 0;          // the records the page had, before the filter: what paging counts
    std::string built;           // the records a selector with '*' or a filter collected

    // The page's records as a JSON array: `built` when they were collected, else `records`.
    std::string_view records_text() const { return built.empty() ? records : std::string_view(built); }
    std::map<std::string, std::string> values;  // pointer -> scalar as text ("" for null)

    bool has(const std::string& pointer) const { return values.count(pointer) != 0; }
    std::string value(const std::string& pointer) const {
        auto it = values.find(pointer);
        return it == values.end() ? std::string() : it->second;
    }
};

// One per receive call: keeps simdjson's buffers from page to page.
class PageScanner {
public:
    // `records_pointer`: JSON pointer of the records array ("" for the root), where a '*'
    // step takes each element of an array ("/data/orders/edges/*/node"); `filter`: which
    // records to keep; `value_pointers`: scalars to pick up. Pads `body` in place
    // (simdjson reads past the end); the scan's views point into it.
    PageScan scan(std::string& body, const std::string& records_pointer,
                  const std::vector<std::string>& value_pointers, const RecordFilter* filter = nullptr);

private:
    // Appends to out.built each record under `selector` (its '*' steps expanded) in `at`.
    // Recurses once per '*' of the manifest's selector, never on the body's depth.
    simdjson::error_code collect(simdjson::ondemand::value at, std::string_view selector, const RecordFilter* filter,
                                 PageScan& out);

    simdjson::ondemand::parser parser_;
};

}  // namespace junction::rest
