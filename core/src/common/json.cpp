#include <junction/core/common/json.hpp>

#include <junction/core/common/error.hpp>
#include <junction/json/bounded_reader.hpp>
#include <junction/json/utf8_writer.hpp>

#include <atomic>

namespace junction::core {

namespace {

// Read on every parse, written at start and on reload: one atomic per limit.
struct AtomicLimits {
    std::atomic<size_t> max_depth{JsonLimits{}.max_depth};
    std::atomic<size_t> max_manifest_bytes{JsonLimits{}.max_manifest_bytes};
    std::atomic<size_t> max_record_bytes{JsonLimits{}.max_record_bytes};
    std::atomic<size_t> max_page_bytes{JsonLimits{}.max_page_bytes};
    std::atomic<size_t> max_webhook_bytes{JsonLimits{}.max_webhook_bytes};
};
AtomicLimits& limits_now() {
    static AtomicLimits limits;
    return limits;
}

json::ReadLimits read_limits(JsonSize size) {
    const AtomicLimits& now = limits_now();
    json::ReadLimits limits;
    limits.max_depth = now.max_depth.load(std::memory_order_relaxed);
    switch (size) {
        case JsonSize::any: break;
        case JsonSize::manifest:
            limits.max_bytes = now.max_manifest_bytes.load(std::memory_order_relaxed);
            limits.bytes_setting = "max-manifest-bytes";
            break;
        case JsonSize::record:
            limits.max_bytes = now.max_record_bytes.load(std::memory_order_relaxed);
            limits.bytes_setting = "max-record-bytes";
            break;
        case JsonSize::page:
            limits.max_bytes = now.max_page_bytes.load(std::memory_order_relaxed);
            limits.bytes_setting = "max-page-bytes";
            break;
        case JsonSize::webhook:
            limits.max_bytes = now.max_webhook_bytes.load(std::memory_order_relaxed);
            limits.bytes_setting = "max-webhook-bytes";
            break;
    }
    // Pages and webhook bodies carry records: each one within the record cap.
    if (size == JsonSize::page || size == JsonSize::webhook) {
        limits.max_record_bytes = now.max_record_bytes.load(std::memory_order_relaxed);
        limits.record_setting = "max-record-bytes";
    }
    return limits;
}

}  // namespace

JsonLimits json_limits() {
    const AtomicLimits& now = limits_now();
    return JsonLimits{now.max_depth.load(), now.max_manifest_bytes.load(), now.max_record_bytes.load(),
                      now.max_page_bytes.load(), now.max_webhook_bytes.load()};
}

void set_json_limits(const JsonLimits& limits) {
    AtomicLimits& now = limits_now();
    now.max_depth = limits.max_depth;
    now.max_manifest_bytes = limits.max_manifest_bytes;
    now.max_record_bytes = limits.max_record_bytes;
    now.max_page_bytes = limits.max_page_bytes;
    now.max_webhook_bytes = limits.max_webhook_bytes;
}

rapidjson::Document parse_json_text(std::string_view text, std::string_view what, JsonSize size) {
    rapidjson::Document doc;
    if (auto problem = json::read(text, doc, read_limits(size)))
        throw Error(Errc::invalid_argument, std::string(what) + " " + *problem);
    return doc;
}

std::string json_quote(std::string_view text) { return json::quote(text); }

std::string write_json(const rapidjson::Value& value) { return json::write(value); }

}  // namespace junction::core
