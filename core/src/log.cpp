#include <junction/core/log.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

namespace junction::core {

namespace {
std::mutex g_mutex;
LogOptions g_options;
std::function<void(std::string_view)> g_sink;

std::string utc_timestamp() {
    using namespace std::chrono;
    const auto now = system_clock::now();
    const std::time_t seconds = system_clock::to_time_t(now);
    const auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(millis));
    return buf;
}

std::string format_json(const std::string& time, LogLevel level, std::string_view component,
                        std::string_view message) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("time"); w.String(time.data(), static_cast<rapidjson::SizeType>(time.size()));
    w.Key("level"); w.String(log_level_name(level));
    w.Key("component");
    w.String(component.data(), static_cast<rapidjson::SizeType>(component.size()));
    w.Key("message");
    w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
}
}  // namespace

const char* log_level_name(LogLevel level) {
    switch (level) {
        case LogLevel::debug: return "debug";
        case LogLevel::info: return "info";
        case LogLevel::warn: return "warn";
        case LogLevel::error: return "error";
    }
    return "info";
}

void configure_log(const LogOptions& options) {
    std::lock_guard lock(g_mutex);
    g_options = options;
}

void set_log_sink(std::function<void(std::string_view)> sink) {
    std::lock_guard lock(g_mutex);
    g_sink = std::move(sink);
}

void log(LogLevel level, std::string_view component, std::string_view message) {
    std::lock_guard lock(g_mutex);
    if (level < g_options.min_level) return;
    const std::string time = utc_timestamp();
    std::string line;
    if (g_options.json) {
        line = format_json(time, level, component, message);
    } else {
        line = time + " " + log_level_name(level) + " [" + std::string(component) + "] " +
               std::string(message);
    }
    if (g_sink) {
        g_sink(line);
    } else {
        line.push_back('\n');
        std::fwrite(line.data(), 1, line.size(), stderr);
    }
}

}  // namespace junction::core
