// How a connection shape calls its instance on the run's behalf.
#pragma once

#include <junction/core/flows/run_context.hpp>
#include <junction/core/instances/instance_runtime.hpp>

#include <string>

namespace junction::core::flows {

// A call on the run's behalf: stopped with the run; the lines the connector writes about it
// (a partial answer, its own log lines; ABI 1.4 call_log) go to the run log beside the shape,
// named by the instance that wrote them.
inline CallOptions call_options(RunContext& run, const std::string& shape, const std::string& instance) {
    CallOptions options;
    options.cancelled = &run.stop_flag();
    options.on_log = [&run, shape, instance](uint32_t level, std::string_view line) {
        run.log(level >= JN_LOG_ERROR ? "error" : level >= JN_LOG_WARN ? "warn" : "info", shape,
                instance + ": " + std::string(line));
    };
    return options;
}

}  // namespace junction::core::flows
