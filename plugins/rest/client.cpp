#include "client.hpp"

#include "jwt.hpp"
#include "templates.hpp"

#include <junction/sdk/http_status.hpp>
#include <junction/sdk/retry.hpp>
#include <junction/sdk/url.hpp>

#include <rapidjson/pointer.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <random>
#include <thread>

namespace junction::rest {

namespace {

using Clock = std::chrono::steady_clock;

std::string config_string(const sdk::Json& config, const char* field) {
    auto it = config.FindMember(field);
    return it != config.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

// Exponential backoff with full jitter (the SDK's), bounded by the definition's settings.
int64_t backoff_ms(const Definition& d, int attempt) {
    sdk::RetryPolicy policy;
    policy.initial_backoff_ms = d.initial_backoff_ms;
    policy.max_backoff_ms = d.max_backoff_ms;
    return sdk::backoff_ms(policy, attempt);
}

std::string excerpt(const std::string& body) {
    std::string s = body.substr(0, 300);
    for (char& c : s)
        if (c == '\n' || c == '\r') c = ' ';
    return body.size() > 300 ? s + "..." : s;
}

std::string form(const StringPairs& fields) { return sdk::form_encode(fields); }

}  // namespace


RateLimiter::RateLimiter(double per_second, int burst)
    : per_second_(per_second), burst_(std::max(1, burst)), tokens_(burst_), last_(Clock::now()) {}

std::optional<uint32_t> RateLimiter::reserve(uint32_t horizon_ms) {
    if (per_second_ <= 0) return 0;
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * per_second_);
    last_ = now;
    const double after = tokens_ - 1;  // ours taken; a negative balance is the wait
    const double wait_ms = after >= 0 ? 0 : std::ceil(-after / per_second_ * 1000);
    if (horizon_ms != UINT32_MAX && wait_ms > horizon_ms) return std::nullopt;
    tokens_ = after;
    return static_cast<uint32_t>(std::min<double>(wait_ms, UINT32_MAX));
}

void sleep_cancellable(const sdk::Call& call, int64_t ms) {
    const auto until = Clock::now() + std::chrono::milliseconds(ms);
    while (Clock::now() < until) {
        if (call.cancelled()) throw sdk::Error(JN_ERR_CANCELLED, "cancelled while waiting to retry");
        std::this_thread::sleep_for(std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(50)));
    }
}

Client::Client(const Definition& definition, const AuthMethod* auth, const sdk::Json& config, sdk::Host host)
    : def_(definition),
      auth_(auth),
      config_(config),
      limiter_(config.HasMember(kRateLimitSetting) && config[kRateLimitSetting].IsNumber()
                   ? config[kRateLimitSetting].GetDouble()
                   : definition.requests_per_second,
               definition.burst),
      host_(host),
      refresh_token_(config_string(config, "refresh_token")) {}

std::string Client::current_refresh_token() {
    if (!unsaved_base_.empty()) {
        // Ours is the newest and the host missed it (its store failed): offered again.
        try {
            host_.swap_credential("refresh_token", unsaved_base_, refresh_token_);
            unsaved_base_.clear();
        } catch (const sdk::Error&) {
        }
        return refresh_token_;
    }
    auto kept = host_.credential("refresh_token");
    return kept ? std::move(*kept) : refresh_token_;
}

std::string Client::scrub(std::string text) const {
    if (!auth_) return text;
    std::vector<std::string> values;
    for (const auto& field : auth_->secrets()) values.push_back(config_string(config_, field.c_str()));
    {
        std::lock_guard lock(rotated_mutex_);
        values.push_back(refresh_token_);  // rotated since the config was read
        values.push_back(spent_refresh_);
        values.push_back(issued_token_);
    }
    // As sent, and as a server may echo it: percent-encoded (a query key) or JSON-escaped
    // (a password with a quote in a login body).
    for (const auto& value : values) {
        if (value.size() < 4) continue;
        const std::string quoted = sdk::json_quote(value);
        for (const std::string& form : {value, url_encode(value), quoted.substr(1, quoted.size() - 2)})
            for (size_t at; (at = text.find(form)) != std::string::npos;) text.replace(at, form.size(), "***");
    }
    return text;
}

namespace {

// How much of each answer's body a send keeps (its results show 500 bytes).
constexpr size_t kKeptSendBody = 4096;

// The most of a rate limit's turns one batch takes ahead (a call of 100 requests at 2 a
// second goes as batches of 30 s of turns); an OAuth token is fetched again a minute
// before it expires.
constexpr uint32_t kTurnHorizonMs = 30'000;

// Whether a final outcome fails a whole send (credentials, limits, outages; a 4xx that is
// not one of those is the record's own rejection).
bool fails_call(const Client::Outcome& o) {
    if (o.error) return o.error->status() != JN_ERR_INVALID_REQUEST;
    if (o.accepted) return false;
    const int code = o.response.status;
    return (code < 200 || code > 299) && sdk::status_for_http(code) != JN_ERR_INVALID_REQUEST;
}

}  // namespace

std::vector<Client::Outcome> Client::attempt_all(std::vector<sdk::HttpRequest> requests, const std::string& what,
                                                 const sdk::Call& call, bool with_credentials, size_t keep_body,
                                                 const std::vector<ResponseRule>* rules) {
    const bool token_based = with_credentials && auth_ && auth_->token_based();
    for (auto& request : requests)
        if (request.timeout_ms == 0) request.timeout_ms = def_.timeout_ms;
    std::vector<Outcome> outcomes(requests.size());
    std::vector<int> tries(requests.size(), 0);
    std::vector<bool> refreshed(requests.size(), false);
    std::vector<size_t> pending(requests.size());  // in index order
    for (size_t i = 0; i < pending.size(); ++i) pending[i] = i;
    // The first request goes alone, and after a pass that needs retries the first of those
    // goes alone again: against bad credentials or a server in trouble a call fails (or
    // waits) after one request, not after all of them.
    bool probe = pending.size() > 1;
    while (!pending.empty()) {
        const size_t wanted = probe ? 1 : pending.size();
        std::vector<size_t> again;
        int64_t pause_ms = 0;
        bool token_cleared = false;
        std::optional<size_t> failed;  // a request whose outcome fails the call
        // Together, each starting at its turn under the rate limit: as many in flight as the
        // limit, the API's answer time and the send's concurrency allow, never more per
        // second. The first whenever its turn comes, then at most kTurnHorizonMs of turns:
        // a failure stops the rest within that, a token fetched for them outlives them, and
        // a cancel leaves the instance's next call no more than that of turns never used.
        std::vector<sdk::HttpRequest> batch;
        batch.reserve(wanted);
        for (size_t k = 0; k < wanted; ++k) {
            const auto turn = limiter_.reserve(batch.empty() ? UINT32_MAX : kTurnHorizonMs);
            if (!turn) break;  // the next pass takes it
            batch.push_back(requests[pending[k]]);
            batch.back().start_after_ms = *turn;
            if (with_credentials) add_credentials(batch.back(), call);
        }
        const size_t sending = batch.size();
        call.http_batch(batch, [&](size_t k, sdk::Call::HttpResult& result) {
            const size_t i = pending[k];
            const bool last = ++tries[i] >= def_.max_attempts;
            auto& r = result.response;
            if (result.status != JN_OK) {
                const bool retryable = JN_STATUS_IS_RETRYABLE(result.status);
                if (retryable && !last) {
                    pause_ms = std::max(pause_ms, backoff_ms(def_, tries[i]));
                    again.push_back(i);
                    return;
                }
                outcomes[i].error.emplace(result.status,
                                          what + ": " + scrub(sdk::Call::http_failure(batch[k], result.status)) +
                                              (retryable ? " (after " + std::to_string(tries[i]) + " attempts)" : ""));
            } else if (r.status == 401 && token_based && !refreshed[i]) {
                // Expired early or revoked: once more, with a fresh token.
                refreshed[i] = true;
                tries[i] = 0;
                if (!token_cleared) {
                    std::lock_guard lock(token_mutex_);
                    token_.clear();
                    token_cleared = true;
                }
                again.push_back(i);
                return;
            } else if ((r.status == 429 || r.status >= 500) && !last) {
                // The server's Retry-After wins over our own backoff (up to five minutes).
                const int64_t asked = r.status == 429 ? sdk::retry_after_ms(r) : -1;
                pause_ms = std::max(pause_ms, asked >= 0 ? std::min<int64_t>(asked, 300'000) : backoff_ms(def_, tries[i]));
                again.push_back(i);
                return;
            } else {
                const RuleVerdict verdict = rules ? judge_answer(*rules, r) : RuleVerdict{};
                if (verdict.rule && verdict.rule->action == AnswerAction::retry && !last) {
                    // THROTTLED with 200: the wait the answer asks for, else the backoff.
                    pause_ms = std::max(pause_ms, verdict.wait_ms >= 0 ? std::min<int64_t>(verdict.wait_ms, 300'000)
                                                                       : backoff_ms(def_, tries[i]));
                    again.push_back(i);
                    return;
                }
                if (verdict.rule) apply_rule(outcomes[i], verdict, what, tries[i], call);
                // Final, whatever its status: the caller judges it, from a bounded excerpt
                // of the body when it keeps many.
                if (r.body.size() > keep_body) r.body.resize(keep_body);
                outcomes[i].response = std::move(r);
            }
            if (!failed && fails_call(outcomes[i])) failed = i;
        });
        if (failed) {
            // What has not come to an end fails with it, as the sequential loop never sent it.
            for (size_t k = 0; k < pending.size(); ++k) {
                const size_t i = pending[k];
                const bool ended = k < sending && std::find(again.begin(), again.end(), i) == again.end();
                if (!ended) outcomes[i] = outcomes[*failed];
            }
            break;
        }
        const bool retrying = !again.empty();
        for (size_t k = sending; k < pending.size(); ++k) again.push_back(pending[k]);  // not sent yet
        std::sort(again.begin(), again.end());
        probe = retrying && again.size() > 1;
        pending = std::move(again);
        if (!pending.empty() && pause_ms > 0) sleep_cancellable(call, pause_ms);
    }
    return outcomes;
}

void Client::add_credentials(sdk::HttpRequest& request, const sdk::Call& call) {
    if (!auth_) return;
    switch (auth_->type) {
        case AuthType::basic:
            request.headers.emplace_back("Authorization", "Basic " + base64(config_string(config_, "username") + ":" +
                                                                           config_string(config_, "password")));
            break;
        case AuthType::bearer:
            request.headers.emplace_back("Authorization", "Bearer " + config_string(config_, "token"));
            break;
        case AuthType::api_key:
            for (const auto& key : auth_->keys) place(request, key, config_string(config_, key.field.c_str()));
            break;
        case AuthType::session_token: place(request, auth_->keys.front(), bearer_token(call)); break;
        case AuthType::oauth2_client_credentials:
        case AuthType::oauth2_refresh_token:
            request.headers.emplace_back("Authorization", "Bearer " + bearer_token(call));
            break;
        case AuthType::none: break;
    }
}

void Client::place(sdk::HttpRequest& request, const Placement& where, const std::string& value) const {
    const std::string text = where.prefix + value;
    switch (where.in) {
        case Place::header: request.headers.emplace_back(where.param, text); return;
        case Place::query:
            request.url += (request.url.find('?') == std::string::npos ? "?" : "&") + url_encode(where.param) + "=" +
                           url_encode(text);
            return;
        case Place::body: {
            if (request.body.empty() && (request.method == "GET" || request.method == "HEAD"))
                throw sdk::Error(JN_ERR_INVALID_CONFIG, "the auth method puts '" + where.param +
                                                            "' in the body, but a " + request.method +
                                                            " request has none; put it in the query or a header");
            sdk::JsonDocument body = request.body.empty() ? sdk::JsonDocument(rapidjson::kObjectType)
                                                          : sdk::parse_json(request.body, "the request body");
            if (!body.IsObject())
                throw sdk::Error(JN_ERR_INVALID_CONFIG, "the auth method puts '" + where.param +
                                                            "' in the body, which is not a JSON object");
            auto& a = body.GetAllocator();
            body.RemoveMember(where.param.c_str());
            body.AddMember(sdk::Json(where.param.c_str(), a), sdk::Json(text.c_str(), a), a);
            request.body = sdk::to_json(body);
            if (!has_header(request, "Content-Type")) request.headers.emplace_back("Content-Type", "application/json");
            return;
        }
    }
}

// A cached access token (OAuth, or a session login's), fetched again a minute before it expires.
std::string Client::bearer_token(const sdk::Call& call) {
    std::lock_guard lock(token_mutex_);
    const int64_t now = sdk::Host(nullptr).now_ms();
    if (!token_.empty() && now < token_expires_ms_ - token_margin_ms_) return token_;

    // A rotating server spends the refresh token at each grant: another plugin object of this
    // instance (a hot swap's, a rebuilt one's) may have spent ours and stored its successor.
    // Then the grant is refused, and tried once more with the token the host keeps now.
    // The object that spent it may not have stored the successor yet: one short wait.
    std::string spent;
    for (int round = 0;; ++round) {
        std::optional<sdk::Error> refused;
        if (std::optional<std::string> token = try_grant(call, now, spent, refused)) return *token;
        if (round > 0 || auth_->type != AuthType::oauth2_refresh_token) throw *refused;
        if (current_refresh_token() == spent) {
            sleep_cancellable(call, 250);
            if (current_refresh_token() == spent) throw *refused;
        }
    }
}

// The token request of an OAuth method: its grant, and the client's proof (RFC 6749 2.3.1:
// HTTP Basic or the form body; RFC 7523: a signed assertion).
sdk::HttpRequest Client::oauth_request(int64_t now, std::string& spent) {
    const TemplateValues values{&config_, nullptr};
    sdk::HttpRequest request;
    request.method = "POST";
    request.url = render(auth_->token_url, values);
    request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    request.headers.emplace_back("Accept", "application/json");
    const std::string client_id = config_string(config_, "client_id");
    StringPairs fields;
    if (auth_->type == AuthType::oauth2_refresh_token) {
        spent = current_refresh_token();
        {
            std::lock_guard lock(rotated_mutex_);
            spent_refresh_ = spent;
        }
        fields = {{"grant_type", "refresh_token"}, {"refresh_token", spent}};
    } else {
        fields = {{"grant_type", "client_credentials"}};
    }
    if (auth_->client_auth == ClientAuth::jwt_assertion) {
        const int64_t iat = now / 1000;
        sdk::JsonDocument header(rapidjson::kObjectType), claims(rapidjson::kObjectType);
        auto& ha = header.GetAllocator();
        header.AddMember("alg", sdk::Json(auth_->jwt_algorithm.c_str(), ha), ha);
        header.AddMember("typ", "JWT", ha);
        const std::string kid = config_string(config_, "key_id");
        header.AddMember("kid", sdk::Json(kid.c_str(), ha), ha);
        auto& ca = claims.GetAllocator();
        claims.AddMember("iss", sdk::Json(client_id.c_str(), ca), ca);
        claims.AddMember("aud", sdk::Json(request.url.c_str(), ca), ca);
        if (!auth_->scope.empty()) claims.AddMember("scope", sdk::Json(auth_->scope.c_str(), ca), ca);
        claims.AddMember("iat", iat, ca);
        claims.AddMember("exp", iat + auth_->jwt_lifetime_s, ca);
        const std::string jti = random_id();
        claims.AddMember("jti", sdk::Json(jti.c_str(), ca), ca);
        fields.emplace_back("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        fields.emplace_back("client_assertion", sign_jwt(sdk::to_json(header), sdk::to_json(claims),
                                                         config_string(config_, "private_key"), auth_->jwt_algorithm));
    } else if (auth_->client_auth == ClientAuth::body) {
        fields.emplace_back("client_id", client_id);
        fields.emplace_back("client_secret", config_string(config_, "client_secret"));
    } else {
        request.headers.emplace_back("Authorization",
                                     "Basic " + base64(client_id + ":" + config_string(config_, "client_secret")));
    }
    if (!auth_->scope.empty() && auth_->client_auth != ClientAuth::jwt_assertion) fields.emplace_back("scope", auth_->scope);
    request.body = form(fields);
    return request;
}

// A session_token method's login: the credentials, rendered into its URL, headers and body.
sdk::HttpRequest Client::login_request() const {
    const TemplateValues values{&config_, nullptr, &config_};
    const Login& login = auth_->login;
    sdk::HttpRequest request;
    request.method = login.method;
    request.url = render(login.url, values);
    for (const auto& [k, v] : login.headers) request.headers.emplace_back(k, render(v, values));
    if (login.body) {
        request.body = sdk::to_json(render_body(*login.body, values));
        if (!has_header(request, "Content-Type")) request.headers.emplace_back("Content-Type", "application/json");
    }
    if (!has_header(request, "Accept")) request.headers.emplace_back("Accept", "application/json");
    return request;
}

std::optional<std::string> Client::try_grant(const sdk::Call& call, int64_t now, std::string& spent,
                                             std::optional<sdk::Error>& refused) {
    const bool session = auth_->type == AuthType::session_token;
    sdk::HttpRequest request = session ? login_request() : oauth_request(now, spent);
    request.timeout_ms = def_.timeout_ms;
    const char* what = session ? "the login request" : "the token request";
    Outcome token = std::move(attempt_all({request}, what, call, false, SIZE_MAX).front());
    if (token.error) throw *token.error;
    const sdk::HttpResponse& r = token.response;
    sdk::JsonDocument doc;
    try {
        doc = sdk::parse_json(r.body, "the token response");
    } catch (const sdk::Error&) {
        // Not JSON (or not sane JSON): no fields, so the checks below say what is missing.
    }
    const auto at = [&](const std::string& pointer) -> const sdk::Json* {
        const rapidjson::Pointer p(pointer.c_str());
        return p.IsValid() && doc.IsObject() ? p.Get(doc) : nullptr;
    };
    const auto text = [&](const std::string& pointer) {
        const sdk::Json* v = at(pointer);
        return v && v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : std::string();
    };
    if (r.status < 200 || r.status > 299) {
        std::string reason = text("/error") + (text("/error_description").empty() ? "" : ": " + text("/error_description"));
        if (reason.empty() && session) reason = excerpt(scrub(r.body));  // scrubbed whole, then cut
        const bool auth = r.status == 400 || r.status == 401 || r.status == 403;
        refused.emplace(auth ? JN_ERR_AUTH : sdk::status_for_http(r.status),
                        std::string(session ? "the login refused" : "the token endpoint refused") +
                            " the instance's credentials (HTTP " + std::to_string(r.status) +
                            (reason.empty() ? "" : ", " + scrub(reason)) + "); check the " + auth_->display_name +
                            " fields of the instance");
        if (!auth) throw *refused;
        return std::nullopt;
    }
    const TokenFields& names = auth_->token_fields;
    const std::string issued = text(names.access_token);
    if (issued.empty())
        throw sdk::Error(JN_ERR_AUTH, std::string(session ? "the login" : "the token endpoint") +
                                          " answered without a token at " + names.access_token +
                                          " (the method's token_fields.access_token)");
    token_ = issued;
    {
        std::lock_guard lock(rotated_mutex_);
        issued_token_ = issued;
    }
    // Seconds, as a number or numeric text, from 0 to 30 days (the server's value is not
    // trusted with our arithmetic); without one, an hour (a 401 fetches a new one sooner).
    double seconds = 3600;
    if (const sdk::Json* e = at(names.expires_in); e && e->IsNumber()) {
        seconds = e->GetDouble();
    } else if (e && e->IsString()) {
        char* end = nullptr;
        const double stated = std::strtod(e->GetString(), &end);
        if (end && *end == '\0' && end != e->GetString()) seconds = stated;
    }
    if (!std::isfinite(seconds)) seconds = 3600;
    const int64_t expires_ms = static_cast<int64_t>(std::clamp(seconds, 0.0, 30.0 * 86400) * 1000);
    token_expires_ms_ = now + expires_ms;
    // Fetched again a minute early; one that lives a minute or less, at half its life (not
    // at every request).
    token_margin_ms_ = expires_ms > 60'000 ? 60'000 : expires_ms / 2;
    if (auth_->type != AuthType::oauth2_refresh_token) return token_;
    if (const std::string next = text(names.refresh_token); !next.empty() && next != spent) {
        // Rotated: kept by the host, sealed, for every plugin object of the instance and
        // across restarts (`changed`: another object stored its own successor first, which
        // the next grant reads). A grant that worked does not fail for the store: the new
        // token is held here and offered to the host again at the next grant.
        {
            std::lock_guard lock(rotated_mutex_);
            refresh_token_ = next;
        }
        try {
            host_.swap_credential("refresh_token", spent, next);
            unsaved_base_.clear();
        } catch (const sdk::Error& e) {
            if (unsaved_base_.empty()) unsaved_base_ = spent;
            host_.warn(std::string("the rotated refresh token could not be stored yet (") + e.what() +
                       "); it is kept in memory and stored at the next grant");
        }
    }
    return token_;
}

void Client::authenticate(const sdk::Call& call) {
    if (auth_ && auth_->token_based()) bearer_token(call);
}

bool has_header(const sdk::HttpRequest& r, std::string_view name) {
    return std::any_of(r.headers.begin(), r.headers.end(), [&](const auto& h) {
        return h.first.size() == name.size() && strncasecmp(h.first.data(), name.data(), name.size()) == 0;
    });
}

void Client::apply_rule(Outcome& outcome, const RuleVerdict& verdict, const std::string& what, int attempts,
                        const sdk::Call& call) const {
    std::string message = verdict.message.empty() ? std::string("(no message)") : scrub(verdict.message);
    if (message.size() > 300) message = message.substr(0, 300) + "...";  // cut after the scrub
    switch (verdict.rule->action) {
        case AnswerAction::retry:  // the last attempt: still asked to wait
            outcome.error.emplace(JN_ERR_RATE_LIMITED, what + " still answered '" + message + "' after " +
                                                           std::to_string(attempts) + " attempts");
            return;
        case AnswerAction::fail: outcome.error.emplace(verdict.rule->error, what + " answered with an error: " + message); return;
        case AnswerAction::warn: {
            // For the run that made the call (its run log), or the instance's log from an older host.
            const std::string line = what + " answered with errors beside its data: " + message;
            if (!call.log(sdk::LogLevel::warn, line)) host_.warn(line);
            [[fallthrough]];
        }
        case AnswerAction::ignore: outcome.accepted = true; return;
    }
}

void Client::judge(Outcome& outcome, const std::string& what, bool allow_rejection) const {
    const sdk::HttpResponse& r = outcome.response;
    if (outcome.error || outcome.accepted || (r.status >= 200 && r.status <= 299)) return;
    const jn_status status = sdk::status_for_http(r.status);
    if (allow_rejection && status == JN_ERR_INVALID_REQUEST) return;
    std::string why;
    switch (status) {
        case JN_ERR_AUTH: why = "the credentials were refused; check the instance's " +
                                (auth_ ? auth_->display_name : std::string("credentials"));
            break;
        case JN_ERR_RATE_LIMITED: why = "still rate limited after " + std::to_string(def_.max_attempts) + " attempts";
            break;
        case JN_ERR_TRANSIENT: why = "the server kept failing after " + std::to_string(def_.max_attempts) + " attempts";
            break;
        default: why = excerpt(scrub(r.body));
    }
    outcome.error.emplace(status, what + " answered HTTP " + std::to_string(r.status) + ": " + why);
}

std::vector<Client::Outcome> Client::send_all_allowing_rejection(std::vector<sdk::HttpRequest> requests,
                                                                 const std::string& what, const sdk::Call& call,
                                                                 const AnswerPolicy& policy) {
    // A send keeps of each answer what its result shows: many bodies are never held whole.
    std::vector<Outcome> outcomes = attempt_all(std::move(requests), what, call, true,
                                                policy.keep_body ? policy.keep_body : kKeptSendBody, policy.rules);
    for (auto& outcome : outcomes) judge(outcome, what, true);
    return outcomes;
}

sdk::HttpResponse Client::send(sdk::HttpRequest request, const std::string& what, const sdk::Call& call,
                               const AnswerPolicy& policy) {
    Outcome outcome = std::move(attempt_all({std::move(request)}, what, call, true, SIZE_MAX, policy.rules).front());
    if (!outcome.error && !outcome.accepted && policy.ends && policy.ends(outcome.response))
        return std::move(outcome.response);
    judge(outcome, what, false);
    if (outcome.error) throw *outcome.error;
    return std::move(outcome.response);
}

}  // namespace junction::rest
