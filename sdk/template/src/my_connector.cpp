// A starter connector: receives items from a REST API's GET {base_url}/items, page by page
// and incrementally by updated_at, with a bearer token, and sends items with one POST
// {base_url}/items per record. Rename it, change the manifest, and keep the shape: parse
// the config in the constructor, build URLs with sdk::Url (every value encoded), send with
// sdk::send_with_retries (backoff and Retry-After), read with sdk::read_pages (one emitted
// page per API page, cancellable), give every sent record a result with sdk::SendResults,
// and turn a failed answer into sdk::http_error (the right ABI status).
#include <junction/sdk/connector.hpp>
#include <junction/sdk/http_status.hpp>
#include <junction/sdk/paging.hpp>
#include <junction/sdk/retry.hpp>
#include <junction/sdk/send_results.hpp>
#include <junction/sdk/url.hpp>

#include <optional>

namespace sdk = junction::sdk;

namespace {

constexpr std::string_view kManifest = R"({
  "name": "my_connector",
  "version": "0.1.0",
  "display_name": "My connector",
  "description": "Reads and writes items of an example REST API.",
  "auth_methods": [{"name": "bearer", "display_name": "API token", "fields": ["api_token"]}],
  "config_schema": {
    "type": "object",
    "required": ["base_url", "api_token"],
    "properties": {
      "base_url": {"type": "string", "pattern": "^https?://"},
      "api_token": {"type": "string", "writeOnly": true}
    }
  },
  "operations": [
    {"name": "items.receive", "direction": "receive", "entity": "item", "cursor_field": "updated_at"},
    {"name": "items.send", "direction": "send", "entity": "item"}
  ]
})";

class MyConnector final : public sdk::Connector {
public:
    static std::string_view manifest() { return kManifest; }

    explicit MyConnector(sdk::InstanceContext ctx) : Connector(std::move(ctx)) {
        base_url_ = config().string("base_url");
        token_ = config().string("api_token");
    }

    void test_connection(sdk::Call& call) override {
        get(call, sdk::Url(base_url_).path("items").query("per_page", "1").str(), "reading one item");
    }

    void invoke(std::string_view operation, const sdk::Json& request, sdk::Call& call) override {
        if (operation == "items.receive") return receive(request, call);
        if (operation == "items.send") return send(request, call);
        throw sdk::Error(JN_ERR_NOT_FOUND, "unknown operation " + std::string(operation));
    }

private:
    static constexpr int kPerPage = 100;

    // GET /items?page=N&per_page=100[&updated_since=...] until a page comes back short: one
    // emitted page per API page, so the host checkpoints after each and memory stays flat.
    // Incremental: a flow passes {"since": the newest updated_at it has}; the API must then
    // answer oldest-first, at or after it (docs/plugin-abi.md, Cursors). Page numbers over a
    // list that changes while it is read can skip an item (one updated meanwhile moves to
    // the end): where your API allows it, page by the last updated_at seen instead.
    void receive(const sdk::Json& request, sdk::Call& call) const {
        const std::string since = sdk::JsonObject(request, "the request", JN_ERR_INVALID_REQUEST).string_or("since", "");
        const size_t read = sdk::read_pages(call, "1", [&](const std::string& page) {
            sdk::Url url = sdk::Url(base_url_).path("items").query("page", page)
                               .query("per_page", std::to_string(kPerPage)).query("sort", "updated_at");
            if (!since.empty()) url.query("updated_since", since);
            sdk::ApiPage out{get(call, url.str(), "reading items page " + page), std::nullopt};
            out.next = sdk::next_page_number(page, out.records.Size(), kPerPage);
            return out;
        });
        // Written during the call, a log line also reaches the flow's run log.
        host().info("read " + std::to_string(read) + " item(s)" + (since.empty() ? "" : " updated since " + since));
    }

    // POST /items once per record: one result per record, so a record the API refuses fails
    // alone and the others go on. A POST is tried again only when the API says it did
    // nothing (429); when the API stops answering part way, what was created is reported
    // "ok" and the rest rejected, rather than failing (and later resending) the whole batch.
    void send(const sdk::Json& request, sdk::Call& call) const {
        const auto records = request.FindMember("records");
        if (records == request.MemberEnd() || !records->value.IsArray())
            throw sdk::request_error("a send takes {\"records\": [...]}");
        sdk::SendResults results(records->value.Size());
        for (size_t i = 0; i < records->value.Size(); ++i) {
            sdk::HttpRequest post = request_to(sdk::Url(base_url_).path("items").str(), "POST");
            post.headers.emplace_back("Content-Type", "application/json");
            post.body = sdk::to_json(records->value[static_cast<rapidjson::SizeType>(i)]);
            std::optional<sdk::Error> stopped;  // why no more records can be sent now
            try {
                const sdk::HttpResponse r = sdk::send_with_retries(call, post);
                const jn_status status = r.status < 300 ? JN_OK : sdk::status_for_http(r.status);
                if (status == JN_OK) results.ok(i, r.body);  // the created item (with its id) goes on
                else if (status == JN_ERR_INVALID_REQUEST || status == JN_ERR_NOT_FOUND) results.rejected(i, r);  // this record
                else stopped = sdk::http_error(r, "creating an item");  // auth, rate limit, the API down
            } catch (const sdk::Error& e) {
                stopped = e;  // no answer (the network), or cancelled
            }
            if (stopped) {
                if (i == 0) throw *stopped;  // nothing was sent: the whole call fails, and is retried as one
                results.reject_the_rest("not sent: " + std::string(stopped->what()));
                break;
            }
        }
        results.emit(call);
    }

    sdk::JsonDocument get(sdk::Call& call, const std::string& url, const std::string& what) const {
        const sdk::HttpResponse r = sdk::send_with_retries(call, request_to(url, "GET"));  // 429/5xx: tried again
        if (r.status >= 300) throw sdk::http_error(r, what);
        sdk::JsonDocument doc = sdk::parse_json(r.body, "the API's answer to " + what, JN_ERR_TRANSIENT);
        if (!doc.IsArray()) throw sdk::transient_error("the API did not answer " + what + " with a list");
        return doc;
    }

    sdk::HttpRequest request_to(std::string url, const char* method) const {
        sdk::HttpRequest r;
        r.method = method;
        r.url = std::move(url);
        r.headers = {{"Authorization", "Bearer " + token_}, {"Accept", "application/json"}};
        return r;
    }

    std::string base_url_;
    std::string token_;
};

}  // namespace

JUNCTION_CONNECTOR(MyConnector)
