#include <junction/core/flows/retention.hpp>

#include <junction/core/common/json.hpp>

namespace junction::core::flows {

namespace {
constexpr int64_t kMaxDays = 36500;  // a hundred years: "keep" without overflowing milliseconds
constexpr int64_t kMaxRuns = 100'000'000;
}  // namespace

RetentionPolicy read_retention(const Spec& doc, const RetentionPolicy& defaults) {
    RetentionPolicy p = defaults;
    auto spec = doc.child("retention", false);
    if (!spec) return p;
    spec->allow_only({"run_days", "runs", "dedupe_key_days"});
    p.run_days = spec->integer("run_days", 0, kMaxDays).value_or(p.run_days);
    p.runs = spec->integer("runs", 0, kMaxRuns).value_or(p.runs);
    p.dedupe_key_days = spec->integer("dedupe_key_days", 0, kMaxDays).value_or(p.dedupe_key_days);
    return p;
}

RetentionPolicy retention_of(std::string_view document_json, const RetentionPolicy& defaults) {
    const auto document = parse_json_text(document_json, "the flow");
    Problems ignored;  // validated when it was saved
    return read_retention(Spec(document, "", ignored), defaults);
}

}  // namespace junction::core::flows
