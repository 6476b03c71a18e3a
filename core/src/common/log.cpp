#include <junction/core/common/log.hpp>

#include <junction/json/utf8.hpp>

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

// A value as it may appear inside one log line: control characters become visible escapes
// (\n, \r, \t, \xNN; C1 controls \u00NN) so a file name or a message cannot end the line
// and forge the next one, and invalid UTF-8 becomes U+FFFD so the JSON line stays valid.
std::string escape_log_value(std::string_view in) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(in.size());
    const auto* p = reinterpret_cast<const unsigned char*>(in.data());
    const size_t n = in.size();
    for (size_t i = 0; i < n;) {
        const unsigned char c = p[i];
        if (c < 0x80) {
            if (c == '\n') out += "\\n";
            else if (c == '\r') out += "\\r";
            else if (c == '\t') out += "\\t";
            else if (c < 0x20 || c == 0x7f) out += {'\\', 'x', hex[c >> 4], hex[c & 15]};
            else out += static_cast<char>(c);
            ++i;
            continue;
        }
        const size_t len = json::detail::valid_utf8_length(in.substr(i));
        if (len == 0) {
            out += "\xef\xbf\xbd";  // U+FFFD for the one bad byte; resynchronise after it
            ++i;
            continue;
        }
        if (len == 2 && c == 0xc2 && p[i + 1] < 0xa0) {  // U+0080..U+009F: C1 controls
            out += {'\\', 'u', '0', '0', hex[p[i + 1] >> 4], hex[p[i + 1] & 15]};
        } else {
            out.append(in.data() + i, len);
        }
        i += len;
    }
    return out;
}

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
        line = format_json(time, level, escape_log_value(component), escape_log_value(message));
    } else {
        line = time + " " + log_level_name(level) + " [" + escape_log_value(component) + "] " +
               escape_log_value(message);
    }
    if (g_sink) {
        g_sink(line);
    } else {
        line.push_back('\n');
        std::fwrite(line.data(), 1, line.size(), stderr);
    }
}

}  // namespace junction::core
