// Structured log lines: time, level, component, message. One line per event to stderr (or
// to a sink a test or the daemon installs); plain text by default, JSON on request.
// Never pass a secret in: the logger cannot tell which bytes are secret.
#pragma once

#include <functional>
#include <string_view>

namespace junction::core {

enum class LogLevel { debug = 10, info = 20, warn = 30, error = 40 };

const char* log_level_name(LogLevel level);

struct LogOptions {
    LogLevel min_level = LogLevel::info;
    bool json = false;
};

void configure_log(const LogOptions& options);

// Replaces where formatted lines go (default: stderr). Pass nullptr to restore stderr.
void set_log_sink(std::function<void(std::string_view line)> sink);

void log(LogLevel level, std::string_view component, std::string_view message);

inline void log_info(std::string_view c, std::string_view m) { log(LogLevel::info, c, m); }
inline void log_warn(std::string_view c, std::string_view m) { log(LogLevel::warn, c, m); }
inline void log_error(std::string_view c, std::string_view m) { log(LogLevel::error, c, m); }

}  // namespace junction::core
