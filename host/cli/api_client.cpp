#include "api_client.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace junction::cli {

namespace {
std::optional<std::string> env(const char* name) {
    const char* v = std::getenv(name);
    return v && *v ? std::optional<std::string>(v) : std::nullopt;
}
}  // namespace

std::string url_encode(const std::string& text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0xf]);
        }
    }
    return out;
}

namespace {

core::HttpOptions client_options(std::string ca_file) {
    core::HttpOptions o;
    o.ca_file = std::move(ca_file);
    return o;
}

}  // namespace

ApiClient::ApiClient(std::string base_url, std::string token, std::string ca_file)
    : base_url_(std::move(base_url)), token_(std::move(token)), http_(client_options(std::move(ca_file))) {
    while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

ApiResponse ApiClient::send(const std::string& method, const std::string& path,
                            const std::string& body, const std::string& content_type) {
    const std::string url = base_url_ + path;
    core::HttpClient::Result result;
    std::string error;
    if (!http_.send(method, url,
                    {{"Authorization", "Bearer " + token_},
                     {"Content-Type", content_type},
                     {"Accept", "application/json"}},
                    body, result, error))
        throw Unreachable("cannot reach junctiond at " + base_url_ + " (" + error +
                          "); is it running? Set the address with --url or JUNCTION_URL");
    return {result.status, std::move(result.body)};
}

namespace {

// The first line of a file in the state directory, if it can be read.
std::optional<std::string> first_line(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::string line;
    if (in && std::getline(in, line) && !line.empty()) return line;
    return std::nullopt;
}

}  // namespace

ApiClient connect(const Connection& flags) {
    const std::filesystem::path state_dir =
        (flags.state_dir ? flags.state_dir : env("JUNCTION_STATE_DIR")).value_or("/var/lib/junction");
    // --url, JUNCTION_URL, the address the daemon wrote into its state directory, the default.
    std::string url = flags.url ? *flags.url : env("JUNCTION_URL").value_or("");
    if (url.empty()) url = first_line(state_dir / "admin.url").value_or("http://127.0.0.1:8750");
    std::optional<std::string> token = flags.token ? flags.token : env("JUNCTION_TOKEN");
    if (!token) {
        const std::filesystem::path file = state_dir / "admin.token";
        token = first_line(file);
        if (!token)
            throw std::runtime_error("no admin token: pass --token, set JUNCTION_TOKEN, or point "
                                     "--state-dir at the daemon's state directory (cannot read " +
                                     file.string() + ")");
    }
    return ApiClient(url, *token, flags.ca_file ? *flags.ca_file : env("JUNCTION_CACERT").value_or(""));
}

}  // namespace junction::cli
