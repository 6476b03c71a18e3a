// An OAuth 2.0 token endpoint (RFC 6749 client credentials with client_secret_basic or
// client_secret_post,
// RFC 7523 JWT assertions, refresh tokens with rotation) and the bearer check of the API
// behind it. Shared by the simulators that need it.
#pragma once

#include "sim_api.hpp"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace junction::sim {

class TokenIssuer {
public:
    explicit TokenIssuer(const Options& o) : o_(o) {}

    // POST to the token URL: grants a token or answers 400/401 with an OAuth error.
    CannedResponse grant(const Request& r, const std::string& token_url);
    // Whether the request carries a live token this issuer granted.
    bool authorized(const Request& r);
    void revoke();
    long grants() const { return grants_; }

private:
    // The client's proof, as --client-auth says: HTTP Basic, or the form's client_id and
    // client_secret (client_secret_post).
    bool client_authenticated(const Request& r, std::map<std::string, std::string>& form) const;

    const Options& o_;
    std::mutex mutex_;
    std::map<std::string, std::chrono::steady_clock::time_point> tokens_;  // token -> expiry
    std::string refresh_token_;  // the current one, rotated at each use
    std::atomic<long> grants_{0};
    long serial_ = 0;
};

}  // namespace junction::sim
