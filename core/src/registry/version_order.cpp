#include <junction/core/registry/version_order.hpp>

#include <charconv>
#include <cstdint>

namespace junction::core {

namespace {

// Splits "1.2.3-rc.1" into numbers and the pre-release text.
struct SemVer {
    uint64_t part[3] = {0, 0, 0};
    std::string_view pre;
};

SemVer parse_semver(std::string_view v) {
    SemVer s;
    const size_t dash = v.find('-');
    if (dash != std::string_view::npos) {
        s.pre = v.substr(dash + 1);
        v = v.substr(0, dash);
    }
    for (int i = 0; i < 3 && !v.empty(); ++i) {
        const size_t dot = v.find('.');
        const std::string_view num = v.substr(0, dot);
        std::from_chars(num.data(), num.data() + num.size(), s.part[i]);
        v = dot == std::string_view::npos ? std::string_view{} : v.substr(dot + 1);
    }
    return s;
}

}  // namespace

int compare_versions(std::string_view a, std::string_view b) {
    const SemVer x = parse_semver(a), y = parse_semver(b);
    for (int i = 0; i < 3; ++i)
        if (x.part[i] != y.part[i]) return x.part[i] < y.part[i] ? -1 : 1;
    if (x.pre.empty() != y.pre.empty()) return x.pre.empty() ? 1 : -1;
    return x.pre.compare(y.pre) < 0 ? -1 : (x.pre == y.pre ? 0 : 1);
}

}  // namespace junction::core
