// How long a flow's history is kept: its runs (with their log lines and failed records,
// which go with the run) by age and by count, and its flow-scope de-dupe keys by age.
// junctiond's settings give the defaults; a flow document's "retention" object overrides
// them for that flow:  "retention": {"run_days": 7, "runs": 200, "dedupe_key_days": 365}
#pragma once

#include <junction/core/flows/spec.hpp>

#include <cstdint>
#include <string_view>

namespace junction::core {

struct RetentionPolicy {
    int64_t run_days = 30;          // runs that started longer ago are pruned; 0: no age limit
    int64_t runs = 1000;            // the newest runs kept per flow; 0: no count limit
    int64_t dedupe_key_days = 90;   // flow-scope de-dupe keys expire after; 0: never
};

namespace flows {

// The document's "retention" over `defaults`; problems (unknown keys, out of range) are
// reported into `doc`'s list.
RetentionPolicy read_retention(const Spec& doc, const RetentionPolicy& defaults);
// The same from a stored (already validated) document.
RetentionPolicy retention_of(std::string_view document_json, const RetentionPolicy& defaults);

}  // namespace flows
}  // namespace junction::core
