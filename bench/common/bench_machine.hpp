// What every benchmark prints about the machine it ran on, and reads of its own memory.
#pragma once

#include <fstream>
#include <string>

namespace bench {

inline std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    return "unknown CPU";
}

// The build the benchmark and the programs it runs come from: "Release (-O3 -DNDEBUG), LTO".
inline std::string build_type() {
#ifdef JUNCTION_BUILD_TYPE
    std::string text = std::string(JUNCTION_BUILD_TYPE) + " (" + JUNCTION_BUILD_FLAGS + ")";
#else
    std::string text = "unknown build";
#endif
#ifdef JUNCTION_LTO
    text += ", LTO";
#endif
    return text;
}

// Resident set size of this process, KiB.
inline long rss_kib() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return 0;
}

}  // namespace bench
