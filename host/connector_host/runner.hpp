// The connector process's side of the socket: loads the one library it was started for,
// gives it a host-services table whose every service is a message to junctiond (log,
// HTTP, state, emit, set_error; the clock and is_cancelled are answered here), and runs
// the calls junctiond sends, each on a worker thread, so a call that blocks never stops
// the others or the reading of cancels and answers.
#pragma once

#include <junction/core/bridge/channel.hpp>
#include <junction/core/loading/plugin_library.hpp>

#include <filesystem>
#include <memory>

namespace junction::connector_host {

// Reads and serves junctiond's messages on `fd` until the socket ends; returns the exit
// status for the process. A page or request larger than `max_message_bytes` (junctiond's
// cap) fails its call with JN_ERR_TOO_LARGE instead of being sent.
int serve(int fd, const std::filesystem::path& library, size_t max_message_bytes);

}  // namespace junction::connector_host
