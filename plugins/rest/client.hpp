// Outbound HTTP for one instance: the manifest's rate limit, its credentials, retries with
// backoff on 429/5xx/timeouts, and HTTP statuses mapped to ABI statuses. Every request
// goes through the host's HTTP service (sdk::Call::http).
#pragma once

#include "definition.hpp"
#include "response_rules.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace junction::rest {

// Spaces requests out to the manifest's requests per second (a token bucket with burst).
class RateLimiter {
public:
    RateLimiter(double per_second, int burst);
    // Takes a request's turn if it comes within `horizon_ms`: how many milliseconds from
    // now it may start (its start_after_ms; 0 at once, and always when there is no limit).
    // Nothing is taken when the turn is later. A batch's requests take theirs in order and
    // go together, the host starting each at its time.
    // UINT32_MAX: whenever it comes (a batch's first request).
    std::optional<uint32_t> reserve(uint32_t horizon_ms = UINT32_MAX);

private:
    double per_second_;
    double burst_;
    double tokens_;
    std::chrono::steady_clock::time_point last_;
    std::mutex mutex_;
};

// Sleeps for `ms` in short slices, throwing JN_ERR_CANCELLED when the host asks to stop.
void sleep_cancellable(const sdk::Call& call, int64_t ms);

// What an endpoint says of its answers beyond their HTTP status: its response rules
// (retry, fail with the server's message, warn, ignore), and which failed answers end
// paging instead of failing the read.
struct AnswerPolicy {
    const std::vector<ResponseRule>* rules = nullptr;
    std::function<bool(const sdk::HttpResponse&)> ends;
    size_t keep_body = 0;  // a send: how much of each answer to keep (0: what its result shows)
};

class Client {
public:
    // `host`: where a rotated refresh token is kept (sdk::Host::swap_credential).
    Client(const Definition& definition, const AuthMethod* auth, const sdk::Json& config, sdk::Host host);

    // Sends with credentials, rate limit and retries. Returns a 2xx response (or one the
    // policy accepts); throws sdk::Error with the mapped status otherwise. `what` names the
    // request in messages ("GET /orders.json"): never a URL with its query, which may hold a key.
    sdk::HttpResponse send(sdk::HttpRequest request, const std::string& what, const sdk::Call& call,
                           const AnswerPolicy& policy = {});

    // One request's end: its response, or the error send would throw for it.
    struct Outcome {
        sdk::HttpResponse response;
        std::optional<sdk::Error> error;
        bool accepted = false;  // a response rule took it as it is (warn, ignore)
    };

    // For requests that do not depend on each other, sent together (one crossing for an
    // isolated connector, ABI 1.3), each with credentials, the rate limit and its own
    // retries; a 4xx other than 401/403/429 comes back instead of failing (a send endpoint
    // reports a rejected record and goes on). Outcomes come in the requests' order.
    std::vector<Outcome> send_all_allowing_rejection(std::vector<sdk::HttpRequest> requests, const std::string& what,
                                                     const sdk::Call& call, const AnswerPolicy& policy = {});

    // Fetches an OAuth token now (test_connection without a test endpoint).
    void authenticate(const sdk::Call& call);

    // `text` with this instance's credential values (as sent, percent-encoded or
    // JSON-escaped) replaced by ***: for what the API answered, before it goes anywhere.
    std::string scrub(std::string text) const;

private:

    // Sends the requests together and again those worth retrying (429, 5xx, transient
    // failures: after a backoff; a 401 with an OAuth token: once, with a fresh token) until
    // each has its final response or error, or one of them fails the call (then whatever
    // had not ended gets that outcome too). `with_credentials` adds the instance's; a final
    // response keeps at most `keep_body` bytes of its body.
    std::vector<Outcome> attempt_all(std::vector<sdk::HttpRequest> requests, const std::string& what,
                                     const sdk::Call& call, bool with_credentials, size_t keep_body,
                                     const std::vector<ResponseRule>* rules = nullptr);
    // Settles a final answer a response rule matched: fails it (with the server's message),
    // or accepts it as it is (warn logs the message).
    void apply_rule(Outcome& outcome, const RuleVerdict& verdict, const std::string& what, int attempts,
                    const sdk::Call& call) const;
    // Turns a final response that is not a success into the error send throws for it.
    void judge(Outcome& outcome, const std::string& what, bool allow_rejection) const;
    void add_credentials(sdk::HttpRequest& request, const sdk::Call& call);
    // Puts one credential where the method says (a header, the query or the JSON body).
    void place(sdk::HttpRequest& request, const Placement& where, const std::string& value) const;
    sdk::HttpRequest oauth_request(int64_t now, std::string& spent);
    sdk::HttpRequest login_request() const;
    std::string bearer_token(const sdk::Call& call);
    // One token request (token_mutex_ held): the access token, or nullopt with `refused`
    // set when the endpoint refused the credentials; `spent` is the refresh token it used.
    std::optional<std::string> try_grant(const sdk::Call& call, int64_t now, std::string& spent,
                                         std::optional<sdk::Error>& refused);
    // The refresh token to spend: the one the host keeps (rotated ones included), else ours.
    std::string current_refresh_token();

    const Definition& def_;
    const AuthMethod* auth_;
    const sdk::Json& config_;
    RateLimiter limiter_;
    std::mutex token_mutex_;
    std::string token_;
    int64_t token_expires_ms_ = 0;
    int64_t token_margin_ms_ = 60'000;
    sdk::Host host_;
    // The latest refresh token, for a host that keeps no credentials (older hosts, checkers);
    // otherwise the host's copy is the one that counts, unless the host failed to take ours
    // (then unsaved_base_ is the token it replaced, and ours is offered again). Under
    // token_mutex_, like spent_refresh_ (the last one presented, for scrub()); written also
    // under rotated_mutex_, which scrub() takes from any thread.
    mutable std::mutex rotated_mutex_;
    std::string refresh_token_;
    std::string unsaved_base_;
    std::string spent_refresh_;
    std::string issued_token_;  // the access or session token, for scrub()
};

// Whether `r` has the header `name` (case-insensitive).
bool has_header(const sdk::HttpRequest& r, std::string_view name);


}  // namespace junction::rest
