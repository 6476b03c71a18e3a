// A REST connector manifest, parsed and checked: what the engine runs. Read-only once
// built; shared by every instance of the connector it defines.
#pragma once

#include <junction/sdk/connector.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace junction::rest {

using StringPairs = std::vector<std::pair<std::string, std::string>>;

// The instance setting every manifest connector has: its own requests per second.
inline constexpr const char* kRateLimitSetting = "rate_limit_per_second";

enum class AuthType { none, basic, bearer, api_key, oauth2_client_credentials, oauth2_refresh_token, session_token };

// Where a credential goes in each request: a header, a query parameter or a member of the
// JSON body, its value after `prefix`.
enum class Place { header, query, body };
struct Placement {
    std::string field;  // the instance config field it comes from (api_key keys)
    Place in = Place::header;
    std::string param;   // the header, parameter or body member name
    std::string prefix;  // text before the value ("Token ")
};

// How an OAuth client proves itself at the token endpoint.
enum class ClientAuth { basic, body, jwt_assertion };

// Where a token answer (OAuth or a session login) keeps its values: JSON pointers.
struct TokenFields {
    std::string access_token = "/access_token";
    std::string expires_in = "/expires_in";  // seconds, a number or numeric text
    std::string refresh_token = "/refresh_token";
};

// session_token: the request that trades the credentials for a token.
struct Login {
    std::string method = "POST";
    std::string url;  // a template: {{settings.x}}, {{credentials.x}}
    StringPairs headers;
    std::shared_ptr<const sdk::JsonDocument> body;  // JSON body template; null: none
};

struct AuthMethod {
    std::string name;
    std::string display_name;
    AuthType type = AuthType::none;
    std::vector<Placement> keys;  // api_key: each key and where it goes (one "api_key" by default);
                                  // session_token: where the token goes (keys[0])
    std::vector<std::pair<std::string, bool>> login_fields;  // session_token: field, is a credential
    Login login;                  // session_token
    std::string token_url;        // oauth2: a template, may use {{settings.x}}
    std::string scope;            // oauth2: optional
    ClientAuth client_auth = ClientAuth::basic;
    TokenFields token_fields;     // oauth2 and session_token
    std::string jwt_algorithm = "RS256";
    int jwt_lifetime_s = 300;

    bool token_based() const {
        return type == AuthType::oauth2_client_credentials || type == AuthType::oauth2_refresh_token ||
               type == AuthType::session_token;
    }
    // The instance config fields this method needs; secrets() the ones that are credentials.
    std::vector<std::string> fields() const;
    std::vector<std::string> secrets() const;
};

enum class Paging { none, link_header, next_url, cursor, page_number, offset, graphql };

// Where an answer states a value for paging: a response header, or a JSON pointer into
// its body. Neither set: not declared.
struct PageValue {
    std::string header, pointer;
    bool declared() const { return !header.empty() || !pointer.empty(); }
    std::string name() const { return header.empty() ? pointer : header; }  // for messages
};

// An answer that means "no more pages" rather than a failure (WordPress answers a page
// past the end with 400 and code rest_post_invalid_page_number): its status, and when
// `pointer` is set, the body's value there equal to `equals`.
struct EndAnswer {
    int status = 0;
    std::string pointer, equals;
};

struct Pagination {
    Paging type = Paging::none;
    PageValue total_pages;    // page_number: the number of pages there are
    PageValue total_records;  // how many records the whole read has
    PageValue has_more;       // true while pages remain ("true"/"1"; "false"/"0"/null: the last)
    std::vector<EndAnswer> end_answers;
    std::string path;        // next_url / cursor: JSON pointer in the body; graphql: to pageInfo
    std::string param;       // cursor, page number, offset: request parameter; graphql: variable
    std::string size_param;  // page_number / offset: the page size parameter
    int64_t size = 0;        // page_number / offset: records per page
    int64_t start = 1;       // page_number: the first page's number
};

// One test of a response rule: its HTTP status, or a value of its body (a JSON pointer) or
// of a header, equal to `equals` or (without it) present and not null, or absent when
// `exists` is false.
struct AnswerTest {
    int status = 0;  // 0: any
    std::string pointer, header;
    std::shared_ptr<const sdk::JsonDocument> equals;
    bool exists = true;
};

// What to do with an answer whose tests all pass (the first rule that matches decides):
// retry it (after `wait_ms` from the answer, or the backoff), fail the call with the
// server's message at `message`, warn (pass it on and log the message), or take it as
// it is (ignore: a failed status counts as a success).
enum class AnswerAction { retry, fail, warn, ignore };
struct ResponseRule {
    std::vector<AnswerTest> when;
    AnswerAction action = AnswerAction::fail;
    std::string message;   // a JSON pointer to the server's message
    PageValue wait_ms;     // retry: how long the answer asks to wait, in ms
    jn_status error = JN_ERR_INVALID_REQUEST;  // fail: the status the call fails with
};

// Which records of a page a receive keeps: those whose value at `pointer` (inside the
// record) equals `equals`, differs from `not_equals`, or exists (`exists` true) or not.
struct RecordFilter {
    std::string pointer;
    std::shared_ptr<const sdk::JsonDocument> equals, not_equals;
    std::optional<bool> exists;
};

struct Endpoint {
    std::string name, entity, description;
    bool send = false;
    std::string method, path;
    StringPairs query, headers;
    std::vector<std::string> filters;  // optional query parameters a caller may set
    std::shared_ptr<const sdk::JsonDocument> body;  // template; null: the record itself
    std::string records;               // JSON pointer to the array of records ("" = root); a
                                       // '*' step takes each element ("/edges/*/node")
    std::optional<RecordFilter> record_filter;
    std::vector<ResponseRule> response_rules;  // the manifest's, then the paging type's defaults
    bool page_templates = false;   // receive: its templates name the page ({{page.x}}): re-rendered per page
    bool places_page = false;      // ... and one places what the paging type moves on (cursor, number, offset)
    bool since_template = false;   // receive: its templates place {{request.since}}
    // send: what a delivered record becomes for the shapes after it: the input as it was,
    // the API's answer (at answer_at), the answer's members merged into it, or the answer
    // under `pass_on_key`.
    enum class PassOn { input, answer, merge, under } pass_on = PassOn::input;
    std::string pass_on_key, answer_at;
    std::string primary_key;
    std::string cursor_field, cursor_param;  // incremental receive
    Pagination pagination;
};

class Definition final : public sdk::Definition {
public:
    std::string name, version, display_name, description;
    std::string base_url;
    StringPairs headers;
    std::vector<std::string> settings;  // names of the non-credential config fields
    double requests_per_second = 0;     // 0: no limit
    int burst = 1;
    uint32_t timeout_ms = 30'000;
    int max_attempts = 5;
    int initial_backoff_ms = 500;
    int max_backoff_ms = 30'000;
    std::vector<AuthMethod> auth_methods;
    std::vector<Endpoint> endpoints;
    std::string test_endpoint;  // the receive endpoint test_connection reads one page of

    std::string manifest() const override { return manifest_; }
    const Endpoint* find(std::string_view endpoint) const;

private:
    friend std::unique_ptr<Definition> parse_definition(std::string_view json);
    std::string manifest_;  // the connector manifest the host sees
};

// Parses and checks a manifest against the published schema (manifest.schema.json) and
// the rules a schema cannot say. Throws sdk::Error(JN_ERR_INVALID_REQUEST) with the JSON
// path of the first problem.
std::unique_ptr<Definition> parse_definition(std::string_view json);

}  // namespace junction::rest
