// Watches the plugin folder and calls `on_change` when a package (a .so or a
// *.connector.json) or a signature (.sig) may have arrived: through
// inotify (a file closed after writing, or moved in: complete by then), or, where inotify
// is unavailable, by polling every few seconds for files whose size and time stayed the
// same since the last look (so a file still being copied is not picked up half-written).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>

namespace junction::daemon {

class PluginFolderWatch {
public:
    PluginFolderWatch(std::filesystem::path folder, std::function<void()> on_change,
                      bool force_polling = false,
                      std::chrono::milliseconds poll_interval = std::chrono::seconds(2));
    ~PluginFolderWatch();  // stops and joins the watching thread
    PluginFolderWatch(const PluginFolderWatch&) = delete;
    PluginFolderWatch& operator=(const PluginFolderWatch&) = delete;

    bool uses_inotify() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace junction::daemon
