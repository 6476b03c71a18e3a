// The benchmark's connector: one receive operation that emits one page of N records.
#include "page_work.hpp"

#include <junction/sdk/connector.hpp>

namespace sdk = junction::sdk;

namespace {

class BenchConnector final : public sdk::Connector {
public:
    static std::string_view manifest() {
        return R"({"name": "bench_pages", "version": "1.0.0", "display_name": "Bench pages",
          "description": "Emits one page of N generated records per call.",
          "auth_methods": [{"name": "none", "fields": []}],
          "config_schema": {"type": "object"},
          "operations": [{"name": "page", "direction": "receive", "entity": "order"}]})";
    }
    using Connector::Connector;
    void test_connection(sdk::Call&) override {}
    void invoke(std::string_view, const sdk::Json& request, sdk::Call& call) override {
        const auto it = request.FindMember("records");
        const size_t n = it != request.MemberEnd() && it->value.IsUint() ? it->value.GetUint() : 1;
        bench::build_page(n, page_);  // one instance is called from one thread here
        call.emit(page_);
    }

private:
    std::string page_;
};

}  // namespace

JUNCTION_CONNECTOR(BenchConnector)
