#include "conformance_report.hpp"

namespace junction::plugin_check {

int ConformanceReport::finish(const std::string& file) const {
    std::cout << "\n" << file << ": " << failures_ << " failure(s), " << warnings_
              << " warning(s) -> " << (failures_ ? "NOT CONFORMANT" : "conformant") << "\n";
    return failures_ ? 1 : 0;
}

}  // namespace junction::plugin_check
