// The send direction of a connection shape: delivers records in calls of `batch_size`,
// at most `concurrency` HTTP requests in flight, and passes on the delivered ones.
#pragma once

#include <junction/core/flows/shape.hpp>

#include <memory>
#include <string>

namespace junction::core {
struct Operation;
}

namespace junction::core::flows {

std::unique_ptr<Shape> make_send_connection(const Spec& spec, std::string id, std::string instance,
                                            std::string instance_name, const Operation& op);

}  // namespace junction::core::flows
