#include "plugin_folder_watch.hpp"

#include <junction/core/common/log.hpp>
#include <junction/core/common/thread_name.hpp>
#include <junction/core/registry/package_layout.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <map>
#include <set>
#include <thread>

namespace junction::daemon {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

// Packages (libraries and *.connector.json definitions) and their signatures: a .sig that
// arrives after its package is a change, so the refused package is looked at again.
bool is_watched(const fs::directory_entry& e) {
    return core::is_package_file(e) || (e.is_regular_file() && e.path().extension() == ".sig");
}

}  // namespace

struct PluginFolderWatch::Impl {
    fs::path folder;
    std::function<void()> on_change;
    std::chrono::milliseconds poll_interval;
    asio::io_context io;
    asio::posix::stream_descriptor inotify{io};
    asio::steady_timer debounce{io};
    asio::steady_timer poll{io};
    std::array<char, 4096> buffer{};
    std::map<fs::path, std::string> last_seen;  // polling: path -> "size:mtime"
    std::thread thread;
    bool inotify_on = false;

    void read_events() {
        inotify.async_read_some(asio::buffer(buffer), [this](boost::system::error_code ec, size_t) {
            if (ec) return;
            // Several events arrive for one copy; scan once they settle.
            debounce.expires_after(std::chrono::milliseconds(150));
            debounce.async_wait([this](boost::system::error_code e) {
                if (!e) on_change();
            });
            read_events();
        });
    }

    // A change is reported once a file's size and time held still for one interval.
    void poll_once() {
        std::map<fs::path, std::string> now;
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(folder, ec)) {
            if (!is_watched(e)) continue;
            now[e.path()] = std::to_string(e.file_size(ec)) + ":" +
                            std::to_string(e.last_write_time(ec).time_since_epoch().count());
        }
        bool settled_change = false;
        for (const auto& [path, stamp] : now) {
            auto it = last_seen.find(path);
            const bool settled = it != last_seen.end() && it->second == stamp;
            if (settled && reported.insert(path.string() + "|" + stamp).second) settled_change = true;
        }
        last_seen = std::move(now);
        if (settled_change) on_change();
        poll.expires_after(poll_interval);
        poll.async_wait([this](boost::system::error_code e) {
            if (!e) poll_once();
        });
    }
    std::set<std::string> reported;  // "path|stamp" already handed to on_change
};

PluginFolderWatch::PluginFolderWatch(fs::path folder, std::function<void()> on_change,
                                     bool force_polling, std::chrono::milliseconds poll_interval)
    : impl_(std::make_unique<Impl>()) {
    impl_->folder = std::move(folder);
    impl_->on_change = std::move(on_change);
    impl_->poll_interval = poll_interval;
    const int fd = force_polling ? -1 : ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd >= 0 && ::inotify_add_watch(fd, impl_->folder.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO) >= 0) {
        impl_->inotify.assign(fd);
        impl_->inotify_on = true;
        impl_->read_events();
    } else {
        if (fd >= 0) ::close(fd);
        if (!force_polling)
            core::log_warn("junctiond", "inotify is unavailable for " + impl_->folder.string() +
                                            "; polling the plugin folder every " +
                                            std::to_string(poll_interval.count()) + " ms instead");
        impl_->poll_once();
    }
    impl_->thread = std::thread([this] {
        core::name_this_thread("jn-watch");
        impl_->io.run();
    });
}

PluginFolderWatch::~PluginFolderWatch() {
    impl_->io.stop();
    impl_->thread.join();
}

bool PluginFolderWatch::uses_inotify() const { return impl_->inotify_on; }

}  // namespace junction::daemon
