// The conformance connector: touches every entry of both ABI tables, so a test can load it
// (built by any compiler, against any C++ standard library) and check the whole contract.
// Operations:
//   exercise {url}          log, state set/get/delete, clock, cancellation, HTTP, emit
//   pages {pages, records}  emits pages until done or cancelled
//   fail {status, message}  fails with that ABI status and message
//   throw_std / throw_other throws a std::exception / a non-standard exception
//   echo {records}          a send: one "ok" result per record, passing the record on; a record with
//                           "fail_request": true fails the whole request (a transient error)
//   whoami                  emits [{"version": ..., "label": ...}]: which build answered
//   batch {urls, pad,       POSTs "<index>" (then `pad` dots) to every URL in one http_batch (ABI 1.3) and emits
//          spacing_ms}      [{"index", "status" (jn_status), "http_status", "body"}] in order; request i
//                           starts `spacing_ms` * i after the call (ABI 1.5 start_after_ms)
// Built as other versions for the hot-swap tests: CONFORMANCE_VERSION sets the version;
// CONFORMANCE_V2_SCHEMA renames the config field "label" to "display_label" and offers a
// migration; CONFORMANCE_FAILING_TEST makes test_connection fail (a bad canary). The label
// "hold-canary" makes test_connection take 3 s, so a test can act during a canary.
#include <junction/sdk/connector.hpp>
#include <junction/sdk/send_results.hpp>

#ifndef CONFORMANCE_VERSION
#define CONFORMANCE_VERSION "1.0.0"
#endif
#ifdef CONFORMANCE_V2_SCHEMA
#define LABEL_FIELD "display_label"
#else
#define LABEL_FIELD "label"
#endif

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace sdk = junction::sdk;

namespace {

constexpr std::string_view kManifest = R"({
  "name": "conformance",
  "version": ")" CONFORMANCE_VERSION R"(",
  "display_name": "ABI conformance",
  "description": "Exercises every function of the Junction plugin ABI.",
  "auth_methods": [{"name": "token", "display_name": "API token", "fields": ["api_token"]}],
  "config_schema": {
    "type": "object",
    "required": [")" LABEL_FIELD R"(", "api_token"],
    "properties": {
      ")" LABEL_FIELD R"(": {"type": "string"},
      "api_token": {"type": "string", "writeOnly": true}
    }
  },
  "operations": [
    {"name": "exercise", "direction": "receive"},
    {"name": "pages", "direction": "receive"},
    {"name": "fail", "direction": "receive"},
    {"name": "throw_std", "direction": "receive"},
    {"name": "throw_other", "direction": "receive"},
    {"name": "echo", "direction": "send"},
    {"name": "whoami", "direction": "receive"},
    {"name": "batch", "direction": "receive"}
  ]
})";

const char* standard_library() {
#if defined(_LIBCPP_VERSION)
    return "libc++";
#elif defined(__GLIBCXX__)
    return "libstdc++";
#else
    return "other";
#endif
}

class ConformanceConnector final : public sdk::Connector {
public:
    static std::string_view manifest() { return kManifest; }

    explicit ConformanceConnector(sdk::InstanceContext ctx) : Connector(std::move(ctx)) {
        label_ = config().string(LABEL_FIELD);
        token_ = config().string("api_token");
        if (label_ == "refuse") throw sdk::config_error("label 'refuse' is refused on purpose");
        if (label_ == "throw") throw std::runtime_error("constructor threw on purpose");
    }

#ifdef CONFORMANCE_V2_SCHEMA
    // 1.x configs call the field "label".
    static std::string migrate_config(std::string_view from_version, const sdk::Json& config) {
        if (from_version.substr(0, 2) != "1.")
            throw sdk::Error(JN_ERR_UNSUPPORTED, "no migration from " + std::string(from_version));
        sdk::JsonDocument out;
        out.CopyFrom(config, out.GetAllocator());
        if (out.HasMember("label")) {
            sdk::Json value(out["label"], out.GetAllocator());
            out.RemoveMember("label");
            out.AddMember("display_label", value, out.GetAllocator());
        }
        return sdk::to_json(out);
    }
#endif

    void test_connection(sdk::Call& call) override {
#ifdef CONFORMANCE_FAILING_TEST
        throw sdk::auth_error("this build's connection test always fails");
#endif
        // A canary the hot-swap tests can hold while they change the instance underneath.
        if (label_ == "hold-canary") {
            host().info("holding the connection test of " + label_ + " for 3 s");
            std::this_thread::sleep_for(std::chrono::seconds(3));
        }
        call.emit(R"({"label":")" + label_ + R"(","stdlib":")" + standard_library() + R"("})");
    }

    void invoke(std::string_view op, const sdk::Json& request, sdk::Call& call) override {
        const sdk::JsonObject req(request, "request", JN_ERR_INVALID_REQUEST);
        if (op == "exercise") return exercise(req, call);
        if (op == "pages") return pages(req, call);
        if (op == "fail")
            throw sdk::Error(static_cast<jn_status>(req.integer("status")), req.string("message"));
        if (op == "throw_std") throw std::logic_error("throw_std threw on purpose");
        if (op == "throw_other") throw 42;
        if (op == "echo") return echo(request, call);
        if (op == "batch") return batch(request, call);
        if (op == "whoami")
            return call.emit(R"([{"version":")" CONFORMANCE_VERSION R"(","label":")" + label_ + "\"}]");
        throw sdk::Error(JN_ERR_NOT_FOUND, "no operation " + std::string(op));
    }

private:
    void exercise(const sdk::JsonObject& req, sdk::Call& call) {
        host().info("exercise started for " + label_);
        host().state_set("k", "v-" + label_);
        const auto got = host().state_get("k");
        host().state_delete("k");
        const bool state_ok = got && *got == "v-" + label_ && !host().state_get("k");

        sdk::HttpRequest http;
        http.method = "POST";
        http.url = req.string("url");
        http.headers = {{"X-Token", token_}, {"Content-Type", "text/plain"}};
        http.body = "ping from " + label_;
        const sdk::HttpResponse response = call.http(http);

        sdk::JsonDocument out(rapidjson::kObjectType);
        auto& a = out.GetAllocator();
        out.AddMember("state_ok", state_ok, a);
        out.AddMember("clock_ms", host().now_ms(), a);
        out.AddMember("cancelled", call.cancelled(), a);
        out.AddMember("http_status", response.status, a);
        out.AddMember("http_body", sdk::Json(response.body.c_str(), a), a);
        out.AddMember("http_echo_header",
                      sdk::Json(std::string(response.header("x-echo")).c_str(), a), a);
        out.AddMember("stdlib", sdk::Json(standard_library(), a), a);
        call.set_error("set_error is callable on success too; the host ignores it on JN_OK");
        call.emit("[" + sdk::to_json(out) + "]");
    }

    void pages(const sdk::JsonObject& req, sdk::Call& call) {
        const int64_t pages = req.integer_or("pages", 1), records = req.integer_or("records", 1);
        sdk::PageWriter writer(call, static_cast<size_t>(records));
        for (int64_t p = 0; p < pages; ++p) {
            if (call.cancelled()) throw sdk::Error(JN_ERR_CANCELLED, "cancelled between pages");
            for (int64_t r = 0; r < records; ++r)
                writer.add_json(R"({"page":)" + std::to_string(p) + R"(,"record":)" +
                                std::to_string(r) + "}");
        }
        writer.flush();
    }

    void batch(const sdk::Json& request, sdk::Call& call) {
        auto urls = request.FindMember("urls");
        if (urls == request.MemberEnd() || !urls->value.IsArray())
            throw sdk::request_error("'urls' must be an array of strings");
        auto pad = request.FindMember("pad");
        const size_t dots = pad != request.MemberEnd() && pad->value.IsUint() ? pad->value.GetUint() : 0;
        auto spacing = request.FindMember("spacing_ms");
        const uint32_t spacing_ms = spacing != request.MemberEnd() && spacing->value.IsUint() ? spacing->value.GetUint() : 0;
        std::vector<sdk::HttpRequest> requests;
        for (const auto& url : urls->value.GetArray()) {
            sdk::HttpRequest http;
            http.start_after_ms = spacing_ms * static_cast<uint32_t>(requests.size());
            http.method = "POST";
            http.url = url.IsString() ? url.GetString() : "";
            http.headers = {{"X-Token", token_}, {"Content-Type", "text/plain"}};
            http.body = std::to_string(requests.size()) + std::string(dots, '.');
            requests.push_back(std::move(http));
        }
        sdk::JsonDocument out(rapidjson::kArrayType);
        auto& a = out.GetAllocator();
        call.http_batch(requests, [&](size_t i, sdk::Call::HttpResult& result) {
            sdk::Json r(rapidjson::kObjectType);
            r.AddMember("index", static_cast<uint64_t>(i), a);
            r.AddMember("status", static_cast<int>(result.status), a);
            r.AddMember("http_status", result.response.status, a);
            r.AddMember("body", sdk::Json(result.response.body.c_str(), a), a);
            out.PushBack(r, a);
        });
        call.emit(sdk::to_json(out));
    }

    void echo(const sdk::Json& request, sdk::Call& call) {
        auto records = request.FindMember("records");
        if (records == request.MemberEnd() || !records->value.IsArray())
            throw sdk::request_error("'records' must be an array");
        for (const auto& r : records->value.GetArray())
            if (r.IsObject() && r.HasMember("fail_request") && r["fail_request"].IsTrue())
                throw sdk::transient_error("this request fails on purpose (fail_request)");
        sdk::SendResults results(records->value.Size());
        for (rapidjson::SizeType i = 0; i < records->value.Size(); ++i)
            results.ok(i, records->value[i].IsObject() ? sdk::to_json(records->value[i]) : std::string());
        results.emit(call);
    }

    std::string label_;
    std::string token_;
};

}  // namespace

JUNCTION_CONNECTOR(ConformanceConnector)
