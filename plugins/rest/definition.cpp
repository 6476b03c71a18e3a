#include "definition.hpp"

#include "manifest_schema.hpp"  // generated from manifest.schema.json: kManifestSchema
#include "templates.hpp"

#include <rapidjson/pointer.h>
#include <rapidjson/schema.h>

#include <algorithm>
#include <set>

namespace junction::rest {

namespace {

using sdk::Json;
using sdk::JsonDocument;

[[noreturn]] void refuse(const std::string& at, const std::string& why) {
    throw sdk::Error(JN_ERR_INVALID_REQUEST, "invalid REST manifest: at " + (at.empty() ? "/" : at) + ": " + why);
}

std::string str(const Json& o, const char* key, std::string fallback = {}) {
    auto it = o.FindMember(key);
    return it != o.MemberEnd() && it->value.IsString() ? std::string(it->value.GetString(), it->value.GetStringLength())
                                                       : fallback;
}
int64_t num(const Json& o, const char* key, int64_t fallback) {
    auto it = o.FindMember(key);
    return it != o.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : fallback;
}
StringPairs pairs(const Json& o, const char* key) {
    StringPairs out;
    auto it = o.FindMember(key);
    if (it == o.MemberEnd()) return out;
    for (const auto& m : it->value.GetObject()) out.emplace_back(m.name.GetString(), m.value.GetString());
    return out;
}

const JsonDocument& schema_json() {
    static const JsonDocument d = sdk::parse_json(kManifestSchema, "the REST manifest schema", JN_ERR_INTERNAL);
    return d;
}

// What a failed rule allows, when it is a list: "one of basic, body, jwt_assertion".
std::string allowed_by(const std::string& rule_pointer) {
    const rapidjson::Pointer at((rule_pointer + "/enum").c_str());
    const Json* values = at.IsValid() ? at.Get(schema_json()) : nullptr;
    if (!values || !values->IsArray()) return {};
    std::string out = ": use one of ";
    for (rapidjson::SizeType i = 0; i < values->Size(); ++i) out += (i ? ", " : "") + sdk::to_json((*values)[i]);
    return out;
}

void check_schema(const JsonDocument& doc) {
    static const rapidjson::SchemaDocument schema(schema_json());
    rapidjson::SchemaValidator validator(schema);
    if (doc.Accept(validator)) return;
    rapidjson::StringBuffer where, rule;
    // Plain JSON pointers: RapidJSON's URI-fragment form reads past a key that ends in a
    // truncated UTF-8 sequence (heap overflow, found by rest_definition_fuzz).
    validator.GetInvalidDocumentPointer().Stringify(where);
    validator.GetInvalidSchemaPointer().Stringify(rule);
    const std::string at = where.GetString();
    refuse(at, std::string("does not satisfy '") + validator.GetInvalidSchemaKeyword() + "' (schema rule " +
                   rule.GetString() + ")" + allowed_by(rule.GetString()));
}

// Where a template is: which values it may name besides {{settings.x}}.
enum class Scope { settings, send, receive };

bool names_request_value(const std::string& ref) {
    static const std::set<std::string> known{"request.since", "page.cursor", "page.number", "page.offset", "page.size"};
    return known.count(ref) != 0;
}

// Every {{settings.x}} in `text` must name a declared setting; a send may name the record,
// a receive the request's since and the page's cursor, number, offset and size.
void check_references(const std::string& text, const std::set<std::string>& settings, const std::string& at,
                      Scope scope) {
    for (const auto& ref : template_references(text)) {
        if (ref.rfind("settings.", 0) == 0) {
            if (!settings.count(ref.substr(9)))
                refuse(at, "{{" + ref + "}} names no setting; declare '" + ref.substr(9) + "' under /settings");
        } else if (scope == Scope::send && (ref == "record" || ref.rfind("record.", 0) == 0)) {
        } else if (scope == Scope::receive && names_request_value(ref)) {
        } else {
            refuse(at, "{{" + ref + "}} is not a known value; use {{settings.NAME}}" +
                           std::string(scope == Scope::send      ? " or {{record.FIELD}}"
                                       : scope == Scope::receive ? ", {{request.since}} or {{page.cursor|number|offset|size}}"
                                                                 : ""));
        }
    }
}

void check_body_references(const Json& v, const std::set<std::string>& settings, const std::string& at, Scope scope) {
    if (v.IsString()) check_references(v.GetString(), settings, at, scope);
    if (v.IsObject())
        for (const auto& m : v.GetObject())
            check_body_references(m.value, settings, at + "/" + m.name.GetString(), scope);
    if (v.IsArray())
        for (rapidjson::SizeType i = 0; i < v.Size(); ++i)
            check_body_references(v[i], settings, at + "/" + std::to_string(i), scope);
}

// Whether any template of the endpoint names `prefix` ("page.", "request.since").
bool endpoint_names(const Endpoint& e, const std::string& prefix) {
    auto in = [&](const std::string& text) {
        for (const auto& ref : template_references(text))
            if (ref.rfind(prefix, 0) == 0) return true;
        return false;
    };
    bool found = in(e.path);
    for (const auto& [k, v] : e.query) found = found || in(v);
    for (const auto& [k, v] : e.headers) found = found || in(v);
    if (e.body) found = found || in(sdk::to_json(*e.body));
    return found;
}

AuthType auth_type(const std::string& t) {
    if (t == "basic") return AuthType::basic;
    if (t == "bearer") return AuthType::bearer;
    if (t == "api_key") return AuthType::api_key;
    if (t == "oauth2_client_credentials") return AuthType::oauth2_client_credentials;
    if (t == "oauth2_refresh_token") return AuthType::oauth2_refresh_token;
    if (t == "session_token") return AuthType::session_token;
    return AuthType::none;
}

Paging paging(const std::string& t) {
    static const std::pair<const char*, Paging> names[] = {
        {"link_header", Paging::link_header}, {"next_url", Paging::next_url},
        {"cursor", Paging::cursor},           {"page_number", Paging::page_number},
        {"offset", Paging::offset},           {"graphql", Paging::graphql}};
    for (const auto& [n, p] : names)
        if (t == n) return p;
    return Paging::none;
}

Place place(const std::string& in) { return in == "query" ? Place::query : in == "body" ? Place::body : Place::header; }

// Every {{credentials.x}} in a login template must name one of the method's fields.
void check_login_references(const std::string& text, const std::set<std::string>& settings,
                            const std::vector<std::pair<std::string, bool>>& fields, const std::string& at) {
    for (const auto& ref : template_references(text)) {
        if (ref.rfind("credentials.", 0) == 0) {
            const std::string name = ref.substr(12);
            if (std::none_of(fields.begin(), fields.end(), [&](const auto& f) { return f.first == name; }))
                refuse(at, "{{" + ref + "}} names no field of this method; declare it under 'fields'");
        } else if (ref.rfind("settings.", 0) == 0) {
            check_references("{{" + ref + "}}", settings, at, Scope::settings);
        } else {
            refuse(at, "{{" + ref + "}} is not a known value here; use {{settings.NAME}} or {{credentials.FIELD}}");
        }
    }
}

void check_login_body(const Json& v, const std::set<std::string>& settings,
                      const std::vector<std::pair<std::string, bool>>& fields, const std::string& at) {
    if (v.IsString()) check_login_references(v.GetString(), settings, fields, at);
    if (v.IsObject())
        for (const auto& m : v.GetObject()) check_login_body(m.value, settings, fields, at + "/" + m.name.GetString());
    if (v.IsArray())
        for (rapidjson::SizeType i = 0; i < v.Size(); ++i) check_login_body(v[i], settings, fields, at + "/" + std::to_string(i));
}

AuthMethod parse_auth(const Json& a, const std::string& at, const std::set<std::string>& settings) {
    AuthMethod m;
    m.name = str(a, "name");
    m.display_name = str(a, "display_name", m.name);
    m.type = auth_type(str(a, "type"));
    const std::string client_auth = str(a, "client_auth", "basic");
    m.client_auth = client_auth == "jwt_assertion" ? ClientAuth::jwt_assertion
                    : client_auth == "body"        ? ClientAuth::body
                                                   : ClientAuth::basic;  // "client_secret": the old name of basic
    m.token_url = str(a, "token_url");
    m.scope = str(a, "scope");
    m.jwt_algorithm = str(a, "jwt_algorithm", "RS256");
    m.jwt_lifetime_s = static_cast<int>(num(a, "jwt_lifetime_s", 300));
    if (auto t = a.FindMember("token_fields"); t != a.MemberEnd()) {
        m.token_fields.access_token = str(t->value, "access_token", m.token_fields.access_token);
        m.token_fields.expires_in = str(t->value, "expires_in", m.token_fields.expires_in);
        m.token_fields.refresh_token = str(t->value, "refresh_token", m.token_fields.refresh_token);
    }
    const bool has_keys = a.HasMember("keys");
    if (has_keys) {
        if (m.type != AuthType::api_key) refuse(at + "/keys", "only an api_key method has several keys");
        if (a.HasMember("param")) refuse(at + "/param", "give either 'param' (one key) or 'keys', not both");
        std::set<std::string> seen;
        for (const auto& k : a["keys"].GetArray()) {
            Placement p{str(k, "field"), place(str(k, "in")), str(k, "param"), str(k, "prefix")};
            if (!seen.insert(p.field).second) refuse(at + "/keys", "the field '" + p.field + "' is named twice");
            m.keys.push_back(std::move(p));
        }
    } else if (m.type == AuthType::api_key || m.type == AuthType::session_token) {
        m.keys.push_back({m.type == AuthType::api_key ? "api_key" : "", place(str(a, "in")), str(a, "param"), str(a, "prefix")});
    }
    if (m.type == AuthType::api_key && !has_keys && m.keys[0].param.empty())
        refuse(at + "/param", "an api_key method needs the header or query parameter name in 'param' (or 'keys')");
    if (m.type == AuthType::session_token) {
        if (m.keys[0].param.empty())
            refuse(at + "/param", "a session_token method needs 'param': the header (or with \"in\", the query "
                                  "parameter or body member) the token goes in");
        const auto login = a.FindMember("login");
        if (login == a.MemberEnd()) refuse(at + "/login", "a session_token method needs its 'login' request");
        const auto fields = a.FindMember("fields");
        if (fields == a.MemberEnd()) refuse(at + "/fields", "a session_token method needs the 'fields' its login sends");
        for (const auto& f : fields->value.GetArray())
            m.login_fields.emplace_back(str(f, "field"), f.HasMember("secret") && f["secret"].GetBool());
        m.login.method = str(login->value, "method", "POST");
        m.login.url = str(login->value, "url");
        m.login.headers = pairs(login->value, "headers");
        check_login_references(m.login.url, settings, m.login_fields, at + "/login/url");
        for (const auto& [k, v] : m.login.headers) check_login_references(v, settings, m.login_fields, at + "/login/headers/" + k);
        if (auto b = login->value.FindMember("body"); b != login->value.MemberEnd()) {
            auto body = std::make_shared<JsonDocument>();
            body->CopyFrom(b->value, body->GetAllocator());
            check_login_body(*body, settings, m.login_fields, at + "/login/body");
            m.login.body = std::move(body);
        }
    } else {
        for (const char* key : {"login", "fields"})
            if (a.HasMember(key)) refuse(at + "/" + key, "only a session_token method has '" + std::string(key) + "'");
    }
    const bool oauth = m.type == AuthType::oauth2_client_credentials || m.type == AuthType::oauth2_refresh_token;
    if (oauth && m.token_url.empty()) refuse(at + "/token_url", "an OAuth 2.0 method needs its token_url");
    if (m.client_auth == ClientAuth::jwt_assertion && m.type != AuthType::oauth2_client_credentials)
        refuse(at + "/client_auth", "a JWT assertion is only for oauth2_client_credentials");
    if (a.HasMember("client_auth") && !oauth) refuse(at + "/client_auth", "only an OAuth 2.0 method authenticates a client");
    if (a.HasMember("token_fields") && !m.token_based())
        refuse(at + "/token_fields", "only OAuth 2.0 and session_token methods read a token answer");
    check_references(m.token_url, settings, at + "/token_url", Scope::settings);
    return m;
}

jn_status error_named(const std::string& name) {
    if (name == "auth") return JN_ERR_AUTH;
    if (name == "not_found") return JN_ERR_NOT_FOUND;
    if (name == "rate_limited") return JN_ERR_RATE_LIMITED;
    if (name == "transient") return JN_ERR_TRANSIENT;
    if (name == "invalid_config") return JN_ERR_INVALID_CONFIG;
    return JN_ERR_INVALID_REQUEST;
}

ResponseRule parse_rule(const Json& r, const std::string& at) {
    ResponseRule rule;
    for (const auto& t : r["when"].GetArray()) {
        AnswerTest test;
        test.status = static_cast<int>(num(t, "status", 0));
        test.pointer = str(t, "pointer");
        test.header = str(t, "header");
        if (!test.pointer.empty() && !test.header.empty())
            refuse(at + "/when", "a test reads either a body 'pointer' or a 'header', not both");
        if (auto eq = t.FindMember("equals"); eq != t.MemberEnd()) {
            if (test.pointer.empty() && test.header.empty())
                refuse(at + "/when", "'equals' compares the value at 'pointer' or 'header': give one");
            auto d = std::make_shared<JsonDocument>();
            d->CopyFrom(eq->value, d->GetAllocator());
            test.equals = std::move(d);
        }
        if (auto x = t.FindMember("exists"); x != t.MemberEnd()) test.exists = x->value.GetBool();
        rule.when.push_back(std::move(test));
    }
    const std::string action = str(r, "action");
    rule.action = action == "retry" ? AnswerAction::retry
                  : action == "warn" ? AnswerAction::warn
                  : action == "ignore" ? AnswerAction::ignore
                                       : AnswerAction::fail;
    rule.message = str(r, "message");
    if (auto w = r.FindMember("wait_ms"); w != r.MemberEnd()) {
        if (rule.action != AnswerAction::retry) refuse(at + "/wait_ms", "only a retry waits");
        rule.wait_ms = {str(w->value, "header"), str(w->value, "pointer")};
    }
    rule.error = error_named(str(r, "error", "invalid_request"));
    return rule;
}

// What GraphQL servers answer with 200 (https://spec.graphql.org/October2021/#sec-Errors):
// THROTTLED is retried, errors beside data are logged, errors without data fail with the
// first error's message.
std::vector<ResponseRule> graphql_rules() {
    static const char* const text = R"([
      {"when": [{"pointer": "/errors/0/extensions/code", "equals": "THROTTLED"}], "action": "retry",
       "message": "/errors/0/message"},
      {"when": [{"pointer": "/errors/0"}, {"pointer": "/data"}], "action": "warn", "message": "/errors/0/message"},
      {"when": [{"pointer": "/errors/0"}], "action": "fail", "message": "/errors/0/message"}])";
    const JsonDocument rules = sdk::parse_json(text, "the GraphQL response rules", JN_ERR_INTERNAL);
    std::vector<ResponseRule> out;
    for (const auto& r : rules.GetArray()) out.push_back(parse_rule(r, "graphql"));
    return out;
}

void check_pagination(const Endpoint& e, const std::string& at) {
    const Pagination& p = e.pagination;
    auto need = [&](bool ok, const char* what) {
        if (!ok) refuse(at + "/pagination", what);
    };
    const bool placed = !p.param.empty() || e.places_page;  // where the next page's value goes
    switch (p.type) {
        case Paging::next_url: need(!p.path.empty(), "next_url paging needs 'path', the JSON pointer to the next URL"); break;
        case Paging::cursor:
            need(!p.path.empty() && placed, "cursor paging needs 'path' (where the next cursor is) and 'param' (where it goes) or a {{page.cursor}} template");
            break;
        case Paging::page_number: need(placed, "page_number paging needs 'param', the page parameter, or a {{page.number}} template"); break;
        case Paging::offset:
            need(placed && p.size > 0, "offset paging needs 'param' (the offset parameter) or a {{page.offset}} template, and 'size'");
            break;
        case Paging::graphql:
            need(!p.path.empty() && placed, "graphql paging needs 'path' (to pageInfo) and 'param' (the cursor variable) or a {{page.cursor}} template");
            need(e.body != nullptr && e.body->IsObject(), "graphql paging needs a 'body' with the query and its variables");
            break;
        default: break;
    }
    if (e.send && p.type != Paging::none) refuse(at + "/pagination", "a send endpoint does not page");
    if (p.total_pages.declared() && p.type != Paging::page_number)
        refuse(at + "/pagination/total_pages", "only page_number paging counts pages; use total_records or has_more");
    if ((p.has_more.declared() || !p.end_answers.empty()) && p.type == Paging::none)
        refuse(at + "/pagination", "has_more and end_on need a paging type");
    for (size_t i = 0; i < p.end_answers.size(); ++i)
        if (!p.end_answers[i].equals.empty() && p.end_answers[i].pointer.empty())
            refuse(at + "/pagination/end_on/" + std::to_string(i), "'equals' compares the body's value at 'pointer': give both");
}

Endpoint parse_endpoint(const Json& j, const std::string& at, const std::set<std::string>& settings) {
    Endpoint e;
    e.name = str(j, "name");
    e.entity = str(j, "entity", "record");
    e.description = str(j, "description");
    e.send = str(j, "direction") == "send";
    e.method = str(j, "method");
    e.path = str(j, "path");
    e.query = pairs(j, "query");
    e.headers = pairs(j, "headers");
    if (auto f = j.FindMember("filters"); f != j.MemberEnd())
        for (const auto& v : f->value.GetArray()) e.filters.emplace_back(v.GetString());
    if (auto b = j.FindMember("body"); b != j.MemberEnd()) {
        auto body = std::make_shared<JsonDocument>();
        body->CopyFrom(b->value, body->GetAllocator());
        check_body_references(*body, settings, at + "/body", e.send ? Scope::send : Scope::receive);
        e.body = std::move(body);
    }
    e.records = str(j, "records");
    if (std::count(e.records.begin(), e.records.end(), '*') > 4)
        refuse(at + "/records", "at most 4 '*' steps in a record selector");
    for (size_t star = e.records.find('*'); star != std::string::npos; star = e.records.find('*', star + 1))
        if (star == 0 || e.records[star - 1] != '/' || (star + 1 < e.records.size() && e.records[star + 1] != '/'))
            refuse(at + "/records", "'*' must be a whole step of the pointer (/edges/*/node)");
    if (auto f = j.FindMember("record_filter"); f != j.MemberEnd()) {
        if (e.send) refuse(at + "/record_filter", "only receive endpoints filter records");
        RecordFilter filter;
        filter.pointer = str(f->value, "pointer");
        auto keep_value = [&](const char* key) -> std::shared_ptr<const JsonDocument> {
            auto v = f->value.FindMember(key);
            if (v == f->value.MemberEnd()) return nullptr;
            auto d = std::make_shared<JsonDocument>();
            d->CopyFrom(v->value, d->GetAllocator());
            return d;
        };
        filter.equals = keep_value("equals");
        filter.not_equals = keep_value("not_equals");
        if (auto x = f->value.FindMember("exists"); x != f->value.MemberEnd()) filter.exists = x->value.GetBool();
        e.record_filter = std::move(filter);
    }
    e.primary_key = str(j, "primary_key");
    if (auto inc = j.FindMember("incremental"); inc != j.MemberEnd()) {
        e.cursor_field = str(inc->value, "field");
        e.cursor_param = str(inc->value, "param");
        if (e.send) refuse(at + "/incremental", "only receive endpoints are incremental");
    }
    if (auto p = j.FindMember("pagination"); p != j.MemberEnd()) {
        e.pagination.type = paging(str(p->value, "type"));
        e.pagination.path = str(p->value, "path");
        e.pagination.param = str(p->value, "param");
        e.pagination.size_param = str(p->value, "size_param");
        e.pagination.size = num(p->value, "size", 0);
        e.pagination.start = num(p->value, "start", 1);
        auto value = [&](const char* key) {
            PageValue v;
            if (auto m = p->value.FindMember(key); m != p->value.MemberEnd()) {
                v.header = str(m->value, "header");
                v.pointer = str(m->value, "pointer");
            }
            return v;
        };
        e.pagination.total_pages = value("total_pages");
        e.pagination.total_records = value("total_records");
        e.pagination.has_more = value("has_more");
        if (auto list = p->value.FindMember("end_on"); list != p->value.MemberEnd())
            for (const auto& end : list->value.GetArray())
                e.pagination.end_answers.push_back(
                    {static_cast<int>(num(end, "status", 0)), str(end, "pointer"), str(end, "equals")});
    }
    e.page_templates = endpoint_names(e, "page.");
    e.since_template = endpoint_names(e, "request.since");
    {  // the value the paging type moves on, placed by a template
        const Paging t = e.pagination.type;
        const char* moved = t == Paging::cursor || t == Paging::graphql ? "page.cursor"
                            : t == Paging::page_number                ? "page.number"
                            : t == Paging::offset                     ? "page.offset"
                                                                      : nullptr;
        e.places_page = moved && endpoint_names(e, moved);
        if (e.page_templates && !moved && !e.send)  // (a send naming them is refused below)
            refuse(at + "/pagination", "{{page...}} templates need cursor, graphql, page_number or offset paging "
                                       "(a next URL or Link header carries the whole next request)");
    }
    check_pagination(e, at);
    if (auto pass = j.FindMember("pass_on"); pass != j.MemberEnd()) {
        if (!e.send) refuse(at + "/pass_on", "only a send endpoint passes records on");
        if (pass->value.IsObject()) {
            e.pass_on = Endpoint::PassOn::under;
            e.pass_on_key = str(pass->value, "under");
        } else {
            const std::string how = pass->value.GetString();
            e.pass_on = how == "answer" ? Endpoint::PassOn::answer
                        : how == "merge" ? Endpoint::PassOn::merge
                                         : Endpoint::PassOn::input;
        }
    }
    e.answer_at = str(j, "answer_at");
    if (!e.answer_at.empty() && e.pass_on == Endpoint::PassOn::input)
        refuse(at + "/answer_at", "'answer_at' picks what 'pass_on' passes on: set pass_on too");
    if (auto rules = j.FindMember("response_rules"); rules != j.MemberEnd())
        for (rapidjson::SizeType i = 0; i < rules->value.Size(); ++i)
            e.response_rules.push_back(parse_rule(rules->value[i], at + "/response_rules/" + std::to_string(i)));
    if (e.pagination.type == Paging::graphql || str(j, "style") == "graphql") {
        static const std::vector<ResponseRule> graphql = graphql_rules();
        e.response_rules.insert(e.response_rules.end(), graphql.begin(), graphql.end());
    }
    const Scope scope = e.send ? Scope::send : Scope::receive;
    check_references(e.path, settings, at + "/path", scope);
    for (const auto& [k, v] : e.query) check_references(v, settings, at + "/query/" + k, scope);
    for (const auto& [k, v] : e.headers) check_references(v, settings, at + "/headers/" + k, scope);
    const Pagination& p = e.pagination;
    if (e.places_page && !p.param.empty())
        refuse(at + "/pagination/param", "the endpoint places the page with a {{page...}} template: leave 'param' out");
    if (e.since_template && !e.cursor_param.empty())
        refuse(at + "/incremental/param", "the endpoint places {{request.since}} itself: leave 'param' out");
    if (e.since_template && e.cursor_field.empty())
        refuse(at + "/incremental", "{{request.since}} needs 'incremental' with its 'field'");
    if (!e.cursor_field.empty() && e.cursor_param.empty() && !e.since_template)
        refuse(at + "/incremental", "say where the since value goes: 'param', or a {{request.since}} template");
    return e;
}

// A config field's JSON Schema: credentials are writeOnly (the host seals them).
void add_field(sdk::JsonDocument& schema, const std::string& field, bool secret) {
    auto& a = schema.GetAllocator();
    Json& props = schema["properties"];
    if (props.HasMember(field.c_str())) return;
    Json p(rapidjson::kObjectType);
    p.AddMember("type", "string", a);
    p.AddMember("minLength", 1, a);
    if (secret) p.AddMember("writeOnly", true, a);
    props.AddMember(Json(field.c_str(), a), p, a);
}

// The manifest the host sees: the connector's identity, its config schema (settings plus
// the credential fields of its auth methods) and its endpoints as operations.
std::string connector_manifest(const Definition& d, const Json& source) {
    JsonDocument m(rapidjson::kObjectType);
    auto& a = m.GetAllocator();
    m.AddMember("name", Json(d.name.c_str(), a), a);
    m.AddMember("version", Json(d.version.c_str(), a), a);
    m.AddMember("display_name", Json(d.display_name.c_str(), a), a);
    m.AddMember("description", Json(d.description.c_str(), a), a);

    JsonDocument schema(rapidjson::kObjectType);
    auto& sa = schema.GetAllocator();
    schema.AddMember("type", "object", sa);
    schema.AddMember("properties", Json(rapidjson::kObjectType), sa);
    if (auto s = source.FindMember("settings"); s != source.MemberEnd())
        for (const auto& p : s->value.GetObject())
            schema["properties"].AddMember(Json(p.name, sa), Json(p.value, sa), sa);
    {  // every manifest connector: the instance may change the manifest's rate limit
        Json limit(rapidjson::kObjectType);
        limit.AddMember("type", "number", sa);
        limit.AddMember("minimum", 0, sa);
        limit.AddMember("description",
                        "requests per second for this instance instead of the manifest's (a plan with higher "
                        "limits); 0 for no limit",
                        sa);
        schema["properties"].AddMember(Json(kRateLimitSetting, sa), limit, sa);
    }
    Json required(rapidjson::kArrayType);
    if (auto r = source.FindMember("required_settings"); r != source.MemberEnd())
        required.CopyFrom(r->value, sa);
    schema.AddMember("required", required, sa);
    schema.AddMember("additionalProperties", false, sa);

    Json methods(rapidjson::kArrayType);
    for (const auto& method : d.auth_methods) {
        const auto secrets = method.secrets();
        Json fields(rapidjson::kArrayType);
        for (const auto& f : method.fields()) {
            add_field(schema, f, std::find(secrets.begin(), secrets.end(), f) != secrets.end());
            fields.PushBack(Json(f.c_str(), a), a);
        }
        Json entry(rapidjson::kObjectType);
        entry.AddMember("name", Json(method.name.c_str(), a), a);
        entry.AddMember("display_name", Json(method.display_name.c_str(), a), a);
        entry.AddMember("fields", fields, a);
        methods.PushBack(entry, a);
    }
    m.AddMember("auth_methods", methods, a);
    m.AddMember("config_schema", Json(schema, a), a);

    Json ops(rapidjson::kArrayType);
    for (const auto& e : d.endpoints) {
        Json op(rapidjson::kObjectType);
        op.AddMember("name", Json(e.name.c_str(), a), a);
        op.AddMember("direction", rapidjson::StringRef(e.send ? "send" : "receive"), a);
        op.AddMember("entity", Json(e.entity.c_str(), a), a);
        op.AddMember("description", Json(e.description.c_str(), a), a);
        // For flows and tools: what identifies a record, what makes a receive incremental.
        if (!e.primary_key.empty()) op.AddMember("primary_key", Json(e.primary_key.c_str(), a), a);
        if (!e.cursor_field.empty()) op.AddMember("cursor_field", Json(e.cursor_field.c_str(), a), a);
        Json filters(rapidjson::kArrayType);
        for (const auto& f : e.filters) filters.PushBack(Json(f.c_str(), a), a);
        if (!e.filters.empty()) op.AddMember("filters", filters, a);
        ops.PushBack(op, a);
    }
    m.AddMember("operations", ops, a);
    return sdk::to_json(m);
}

}  // namespace

std::vector<std::string> AuthMethod::fields() const {
    std::vector<std::string> out;
    switch (type) {
        case AuthType::basic: return {"username", "password"};
        case AuthType::bearer: return {"token"};
        case AuthType::api_key:
            for (const auto& k : keys) out.push_back(k.field);
            return out;
        case AuthType::oauth2_client_credentials:
            return client_auth == ClientAuth::jwt_assertion ? std::vector<std::string>{"client_id", "private_key", "key_id"}
                                                            : std::vector<std::string>{"client_id", "client_secret"};
        case AuthType::oauth2_refresh_token: return {"client_id", "client_secret", "refresh_token"};
        case AuthType::session_token:
            for (const auto& [field, secret] : login_fields) out.push_back(field);
            return out;
        case AuthType::none: break;
    }
    return out;
}

std::vector<std::string> AuthMethod::secrets() const {
    std::vector<std::string> out;
    if (type == AuthType::session_token) {
        for (const auto& [field, secret] : login_fields)
            if (secret) out.push_back(field);
        return out;
    }
    for (auto& f : fields())
        if (f != "username" && f != "client_id" && f != "key_id") out.push_back(f);
    return out;
}

const Endpoint* Definition::find(std::string_view endpoint) const {
    for (const auto& e : endpoints)
        if (e.name == endpoint) return &e;
    return nullptr;
}

std::unique_ptr<Definition> parse_definition(std::string_view json) {
    const JsonDocument doc = sdk::parse_json(json, "the REST manifest");
    check_schema(doc);
    auto d = std::make_unique<Definition>();
    d->name = str(doc, "name");
    d->version = str(doc, "version");
    d->display_name = str(doc, "display_name");
    d->description = str(doc, "description");
    d->base_url = str(doc, "base_url");
    d->headers = pairs(doc, "headers");

    std::set<std::string> settings;
    if (auto s = doc.FindMember("settings"); s != doc.MemberEnd())
        for (const auto& p : s->value.GetObject()) settings.emplace(p.name.GetString());
    if (settings.count(kRateLimitSetting))
        refuse(std::string("/settings/") + kRateLimitSetting, "this setting name is reserved: every manifest connector has it");
    d->settings.assign(settings.begin(), settings.end());
    if (auto r = doc.FindMember("required_settings"); r != doc.MemberEnd())
        for (rapidjson::SizeType i = 0; i < r->value.Size(); ++i)
            if (!settings.count(r->value[i].GetString()))
                refuse("/required_settings/" + std::to_string(i),
                       std::string("'") + r->value[i].GetString() + "' is not declared under /settings");
    check_references(d->base_url, settings, "/base_url", Scope::settings);
    for (const auto& [k, v] : d->headers) check_references(v, settings, "/headers/" + k, Scope::settings);

    if (auto r = doc.FindMember("rate_limit"); r != doc.MemberEnd()) {
        d->requests_per_second = r->value["requests_per_second"].GetDouble();
        d->burst = static_cast<int>(num(r->value, "burst", 1));
    }
    if (auto t = doc.FindMember("timeouts"); t != doc.MemberEnd())
        d->timeout_ms = static_cast<uint32_t>(num(t->value, "request_ms", d->timeout_ms));
    if (auto r = doc.FindMember("retry"); r != doc.MemberEnd()) {
        d->max_attempts = static_cast<int>(num(r->value, "max_attempts", d->max_attempts));
        d->initial_backoff_ms = static_cast<int>(num(r->value, "initial_backoff_ms", d->initial_backoff_ms));
        d->max_backoff_ms = static_cast<int>(num(r->value, "max_backoff_ms", d->max_backoff_ms));
    }

    std::set<std::string> names;
    const auto& auths = doc["auth_methods"].GetArray();
    for (rapidjson::SizeType i = 0; i < auths.Size(); ++i) {
        const std::string at = "/auth_methods/" + std::to_string(i);
        AuthMethod m = parse_auth(auths[i], at, settings);
        if (!names.insert(m.name).second) refuse(at + "/name", "auth method '" + m.name + "' is listed twice");
        for (const auto& f : m.fields())
            if (settings.count(f))
                refuse("/settings/" + f, "'" + f + "' is a credential field of auth method '" + m.name +
                                             "'; do not declare it as a setting");
        d->auth_methods.push_back(std::move(m));
    }
    names.clear();
    const auto& endpoints = doc["endpoints"].GetArray();
    for (rapidjson::SizeType i = 0; i < endpoints.Size(); ++i) {
        const std::string at = "/endpoints/" + std::to_string(i);
        Endpoint e = parse_endpoint(endpoints[i], at, settings);
        if (!names.insert(e.name).second) refuse(at + "/name", "endpoint '" + e.name + "' is listed twice");
        d->endpoints.push_back(std::move(e));
    }
    // A credential placed in the body needs a body in every request it goes with.
    for (size_t m = 0; m < d->auth_methods.size(); ++m)
        for (const auto& key : d->auth_methods[m].keys)
            for (const auto& e : d->endpoints)
                if (key.in == Place::body && (e.method == "GET" || e.method == "HEAD"))
                    refuse("/auth_methods/" + std::to_string(m), "puts '" + key.param + "' in the body, but endpoint " +
                                                                      e.name + " is a " + e.method +
                                                                      " without one; put it in the query or a header");
    d->test_endpoint = str(doc, "test_endpoint");
    if (!d->test_endpoint.empty()) {
        const Endpoint* t = d->find(d->test_endpoint);
        if (!t || t->send) refuse("/test_endpoint", "'" + d->test_endpoint + "' is not a receive endpoint of this manifest");
    } else {
        for (const auto& e : d->endpoints)
            if (!e.send) {
                d->test_endpoint = e.name;
                break;
            }
    }
    d->manifest_ = connector_manifest(*d, doc);
    return d;
}

}  // namespace junction::rest
