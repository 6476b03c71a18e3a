// How much work the long tests do. Under a sanitizer the code under test runs several
// times slower, and what the sanitizer looks for (a bad access, a race) shows in the first
// thousands of records as well as in the last: the volume tests (a 50,000-order sync killed
// at 20 points, say) run a fraction of their records and points there, and their full size
// in the shipped build, where volume is what they test.
#pragma once

#include <cstdint>

namespace junction::testing {

#if defined(JUNCTION_SANITIZER_ADDRESS) || defined(JUNCTION_SANITIZER_THREAD)
inline constexpr bool kSanitizerBuild = true;
#else
inline constexpr bool kSanitizerBuild = false;
#endif

// `full` in the shipped build; `full / divisor` (at least 1) under a sanitizer.
constexpr int64_t scaled(int64_t full, int64_t divisor = 5) {
    if (!kSanitizerBuild) return full;
    return full / divisor > 0 ? full / divisor : 1;
}

}  // namespace junction::testing
