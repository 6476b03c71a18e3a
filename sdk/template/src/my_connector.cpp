// A starter connector: receives items from a REST API's GET {base_url}/items with a bearer
// token, and sends items with POST {base_url}/items. Rename it, change the manifest, and
// keep the shape: parse the config in the constructor, use call.http() for the network,
// emit pages with a PageWriter, throw junction::sdk::Error for failures.
#include <junction/sdk/connector.hpp>

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
    {"name": "items.receive", "direction": "receive", "entity": "item"},
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

    void test_connection(sdk::Call& call) override { get_items(call); }

    void invoke(std::string_view operation, const sdk::Json& request, sdk::Call& call) override {
        if (operation == "items.receive") {
            const sdk::JsonDocument items = get_items(call);
            sdk::PageWriter pages(call, 250);
            for (const auto& item : items.GetArray()) pages.add_json(sdk::to_json(item));
            pages.flush();
            return;
        }
        if (operation == "items.send") {
            sdk::HttpResponse r = call.http(request_for("POST", sdk::to_json(request["records"])));
            check(r);
            call.emit(r.body);
            return;
        }
        throw sdk::Error(JN_ERR_NOT_FOUND, "unknown operation " + std::string(operation));
    }

private:
    sdk::HttpRequest request_for(const char* method, std::string body = {}) const {
        sdk::HttpRequest r;
        r.method = method;
        r.url = base_url_ + "/items";
        r.headers = {{"Authorization", "Bearer " + token_}, {"Accept", "application/json"}};
        r.body = std::move(body);
        return r;
    }

    // Maps HTTP failures to ABI statuses, so the host knows whether to retry.
    static void check(const sdk::HttpResponse& r) {
        if (r.status == 401 || r.status == 403) throw sdk::auth_error("the API refused the token");
        if (r.status == 429) throw sdk::Error(JN_ERR_RATE_LIMITED, "rate limited by the API");
        if (r.status >= 500) throw sdk::transient_error("the API answered " + std::to_string(r.status));
        if (r.status >= 400) throw sdk::request_error("the API answered " + std::to_string(r.status));
    }

    sdk::JsonDocument get_items(sdk::Call& call) const {
        const sdk::HttpResponse r = call.http(request_for("GET"));
        check(r);
        sdk::JsonDocument doc = sdk::parse_json(r.body, "the API's response", JN_ERR_TRANSIENT);
        if (!doc.IsArray()) throw sdk::transient_error("the API did not answer with an array");
        return doc;
    }

    std::string base_url_;
    std::string token_;
};

}  // namespace

JUNCTION_CONNECTOR(MyConnector)
