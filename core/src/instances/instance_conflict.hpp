// What a stale write of an instance is told: which parts changed since the writer read it
// (names only: never a value, credentials least of all) and what to do.
#pragma once

#include <junction/core/common/error.hpp>
#include <junction/core/instances/instance_runtime.hpp>

#include <string>

namespace junction::core {

// Error(conflict) for a write based on revision `read_revision` when the store now holds
// `now`. With the record that was read, the message names the fields that changed.
Error stale_instance_error(const InstanceRuntime& runtime, int64_t read_revision, const InstanceRecord* read,
                           const InstanceRecord& now);

}  // namespace junction::core
