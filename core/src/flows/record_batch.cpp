#include <junction/core/flows/record_batch.hpp>

#include <junction/core/common/error.hpp>

namespace junction::core::flows {

Batch::Batch() : arenas_{std::make_shared<rapidjson::Document>()} {}

Batch Batch::parse(std::string_view json, std::string_view what, JsonSize size) {
    Batch b;
    auto& doc = *b.arenas_.front();
    doc = parse_json_text(json, what, size);
    if (doc.IsArray()) {
        b.records.reserve(doc.Size());
        for (auto& v : doc.GetArray()) b.records.emplace_back(std::move(v));
    } else if (!doc.IsObject() || doc.MemberCount() != 0) {  // {} is no record: a ping, a bare manual run
        b.records.emplace_back(std::move(static_cast<Json&>(doc)));
    }
    return b;
}

Batch Batch::sibling() const {
    Batch b;
    b.arenas_ = arenas_;
    return b;
}

Batch Batch::copy() const {
    Batch b;
    b.records.reserve(records.size());
    for (const auto& r : records) b.records.emplace_back(r, b.allocator());
    return b;
}

void Batch::append(Batch&& other) {
    records.reserve(records.size() + other.records.size());
    for (auto& r : other.records) records.emplace_back(std::move(r));
    other.records.clear();
    for (auto& a : other.arenas_) {
        bool known = false;
        for (const auto& mine : arenas_) known = known || mine == a;
        if (!known) arenas_.push_back(std::move(a));
    }
    other.arenas_.clear();
}

std::string to_json(const Json& value) { return write_json(value); }

}  // namespace junction::core::flows
