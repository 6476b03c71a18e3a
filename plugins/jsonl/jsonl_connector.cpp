// jsonl: records in a JSON-lines file. Receives read it page by page (optionally
// resuming where the last incremental read stopped); sends append one line per record.
// Written against the SDK exactly as a third party would.
#include <junction/sdk/connector.hpp>
#include <junction/sdk/send_results.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>

#ifndef JSONL_VERSION
#define JSONL_VERSION "1.0.0"
#endif

namespace sdk = junction::sdk;

namespace {

constexpr std::string_view kManifest = R"({
  "name": "jsonl",
  "version": ")" JSONL_VERSION R"(",
  "display_name": "JSON Lines file",
  "description": "Reads and appends records in a JSON-lines file: one JSON object per line.",
  "auth_methods": [{"name": "none", "display_name": "No authentication", "fields": []}],
  "config_schema": {
    "type": "object",
    "required": ["path"],
    "properties": {
      "path": {"type": "string", "minLength": 1, "description": "Absolute path of the .jsonl file"},
      "page_size": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 250}
    },
    "additionalProperties": false
  },
  "operations": [
    {"name": "records.receive", "direction": "receive", "entity": "record",
     "description": "Emits the file's records in pages. Request: {\"from_line\": N} or {\"incremental\": true} to resume after the last incremental read."},
    {"name": "records.send", "direction": "send", "entity": "record",
     "description": "Appends {\"records\": [...]} as lines; emits one result per record."}
  ]
})";

class JsonlConnector final : public sdk::Connector {
public:
    static std::string_view manifest() { return kManifest; }

    explicit JsonlConnector(sdk::InstanceContext ctx) : Connector(std::move(ctx)) {
        path_ = config().string("path");
        page_size_ = static_cast<size_t>(config().integer_or("page_size", 250));
        if (path_.front() != '/') throw sdk::config_error("'path' must be an absolute path");
    }

    void test_connection(sdk::Call& call) override {
        const std::string dir = path_.substr(0, path_.rfind('/') + 1);
        std::FILE* probe = std::fopen(path_.c_str(), "a");
        if (!probe)
            throw sdk::config_error("cannot open " + path_ + " for appending: " +
                                    std::strerror(errno) + "; check that " + dir +
                                    " exists and is writable");
        std::fclose(probe);
        call.emit(R"({"path":")" + path_ + R"(","version":")" JSONL_VERSION R"("})");
    }

    void invoke(std::string_view operation, const sdk::Json& request, sdk::Call& call) override {
        if (operation == "records.receive") return receive(request, call);
        if (operation == "records.send") return send(request, call);
        throw sdk::Error(JN_ERR_NOT_FOUND, "unknown operation '" + std::string(operation) + "'");
    }

private:
    void receive(const sdk::Json& request, sdk::Call& call) {
        const sdk::JsonObject req(request, "request", JN_ERR_INVALID_REQUEST);
        const bool incremental = req.boolean_or("incremental", false);
        int64_t from_line = req.integer_or("from_line", 0);
        if (incremental) {
            if (auto cursor = host().state_get("cursor")) from_line = std::stoll(*cursor);
        }
        std::ifstream in(path_);
        if (!in) {
            if (errno == ENOENT) return;  // no file yet: no records
            throw sdk::transient_error("cannot read " + path_ + ": " + std::strerror(errno));
        }
        sdk::PageWriter pages(call, page_size_);
        std::string line;
        int64_t number = 0;
        while (std::getline(in, line)) {
            if (number++ < from_line || line.empty()) continue;
            const std::string what = "line " + std::to_string(number) + " of " + path_;
            const sdk::JsonDocument record = sdk::parse_json(line, what);
            if (!record.IsObject()) throw sdk::request_error(what + " is not a JSON object");
            pages.add_json(line);
        }
        pages.flush();
        if (incremental) host().state_set("cursor", std::to_string(number));
    }

    void send(const sdk::Json& request, sdk::Call& call) {
        auto records = request.FindMember("records");
        if (records == request.MemberEnd() || !records->value.IsArray())
            throw sdk::request_error("request field 'records' must be an array of objects");
        std::string lines;
        sdk::SendResults results(records->value.Size());
        for (rapidjson::SizeType i = 0; i < records->value.Size(); ++i) {
            const auto& record = records->value[i];
            if (!record.IsObject()) {
                results.rejected(i, "record must be a JSON object");
                continue;
            }
            lines += sdk::to_json(record);
            lines.push_back('\n');
            results.ok(i);
        }
        {
            std::lock_guard lock(append_mutex_);  // one instance, several concurrent sends
            std::FILE* out = std::fopen(path_.c_str(), "a");
            if (!out) throw sdk::transient_error("cannot open " + path_ + ": " + std::strerror(errno));
            const size_t written = std::fwrite(lines.data(), 1, lines.size(), out);
            const bool ok = written == lines.size() && std::fflush(out) == 0;
            std::fclose(out);
            if (!ok) throw sdk::transient_error("cannot append to " + path_);
        }
        results.emit(call);
    }

    std::string path_;
    size_t page_size_ = 250;
    std::mutex append_mutex_;
};

}  // namespace

JUNCTION_CONNECTOR(JsonlConnector)
