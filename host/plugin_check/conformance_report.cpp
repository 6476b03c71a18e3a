#include "conformance_report.hpp"

#include <junction/json/utf8_writer.hpp>

namespace junction::plugin_check {

void ConformanceReport::line(const char* kind, const char* tag, const std::string& what) {
    const std::string text = redactor_.apply(what);
    if (json_)
        checks_.emplace_back(kind, text);
    else
        std::cout << tag << "  " << text << "\n";
}

void ConformanceReport::show(const std::string& operation, const std::string& record_json) {
    const std::string text = redactor_.apply(record_json);
    if (json_)
        shown_.emplace_back(operation, text);
    else
        std::cout << "      " << operation << ": " << text << "\n";
}

int ConformanceReport::finish(const std::string& file) const {
    if (!json_) {
        std::cout << "\n" << file << ": " << failures_ << " failure(s), " << warnings_
                  << " warning(s) -> " << (failures_ ? "NOT CONFORMANT" : "conformant") << "\n";
        return failures_ ? 1 : 0;
    }
    std::string out = R"({"file":)" + json::quote(file) + R"(,"conformant":)" + (failures_ ? "false" : "true") +
                      R"(,"failures":)" + std::to_string(failures_) + R"(,"warnings":)" + std::to_string(warnings_) +
                      R"(,"checks":[)";
    for (size_t i = 0; i < checks_.size(); ++i)
        out += (i ? "," : "") + (R"({"result":)" + json::quote(checks_[i].first) + R"(,"what":)" +
                                 json::quote(checks_[i].second) + "}");
    out += R"(],"records":[)";
    for (size_t i = 0; i < shown_.size(); ++i)  // each record as JSON text: redaction may have cut into one
        out += (i ? "," : "") + (R"({"operation":)" + json::quote(shown_[i].first) + R"(,"record":)" +
                                 json::quote(shown_[i].second) + "}");
    std::cout << out << "]}\n";
    return failures_ ? 1 : 0;
}

}  // namespace junction::plugin_check
