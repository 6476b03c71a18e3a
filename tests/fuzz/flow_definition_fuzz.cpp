// Fuzzes a flow document the way saving a flow checks it: FlowGraph::build over a fresh
// host core (empty store, no connectors), so connection shapes find no instance.
#include <junction/core/common/error.hpp>
#include <junction/core/flows/flow_graph.hpp>
#include <junction/core/host_core.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string_view>

namespace {

namespace core = junction::core;

core::HostCore& host() {
    static std::unique_ptr<core::HostCore> h = [] {
        char dir_template[] = "/tmp/flow_definition_fuzz.XXXXXX";
        const char* dir = mkdtemp(dir_template);
        if (!dir) std::abort();
        static std::filesystem::path made = dir;
        std::atexit([] {  // runs after the core is destroyed: it was registered first
            std::error_code ignored;
            std::filesystem::remove_all(made, ignored);
        });
        return std::make_unique<core::HostCore>(dir);
    }();
    return *h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto& h = host();
    core::flows::BuildContext ctx{*h.store, h.runtime, {}};
    try {
        const auto graph = core::flows::FlowGraph::build(text, ctx);
        (void)graph.trigger().next_fire(1'780'000'000'000);
        (void)core::flows::read_trigger(text);
    } catch (const core::Error&) {
        // refused, naming every problem: the expected outcome for bad input
    }
    return 0;
}
