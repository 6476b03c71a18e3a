// The CLI's connection to junctiond: where it is (--url, JUNCTION_URL, default
// http://127.0.0.1:8750; for https, --cacert or JUNCTION_CACERT) and the admin token (--token, JUNCTION_TOKEN, or
// <state-dir>/admin.token with --state-dir or JUNCTION_STATE_DIR).
#pragma once

#include <junction/core/net/http_client.hpp>

#include <optional>
#include <stdexcept>
#include <string>

namespace junction::cli {

struct ApiResponse {
    int status = 0;
    std::string body;
};

// The daemon could not be reached at all (exit code 3).
struct Unreachable : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class ApiClient {
public:
    // `ca_file`: the CAs to trust for an https:// daemon (its own certificate when
    // self-signed); empty for the system's.
    ApiClient(std::string base_url, std::string token, std::string ca_file = {});

    ApiResponse get(const std::string& path) { return send("GET", path, ""); }
    ApiResponse post(const std::string& path, const std::string& body) { return send("POST", path, body); }
    ApiResponse patch(const std::string& path, const std::string& body) { return send("PATCH", path, body); }
    ApiResponse put(const std::string& path, const std::string& body) { return send("PUT", path, body); }
    ApiResponse del(const std::string& path) { return send("DELETE", path, ""); }
    // POSTs raw bytes (a package upload).
    ApiResponse post_bytes(const std::string& path, const std::string& bytes) {
        return send("POST", path, bytes, "application/octet-stream");
    }

    const std::string& base_url() const { return base_url_; }

private:
    ApiResponse send(const std::string& method, const std::string& path, const std::string& body,
                     const std::string& content_type = "application/json");
    std::string base_url_;
    std::string token_;
    core::HttpClient http_;
};

struct Connection {
    std::optional<std::string> url, token, state_dir, ca_file;
};

// Resolves flags and environment into a client; throws std::runtime_error saying what is
// missing (never printing a token).
ApiClient connect(const Connection& flags);

// Percent-encodes a path segment or query value.
std::string url_encode(const std::string& text);

}  // namespace junction::cli
