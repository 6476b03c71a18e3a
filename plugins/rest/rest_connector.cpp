// The REST engine: runs connectors defined by REST manifests (ABI 1.2 engine). One object
// of RestConnector is one instance of one manifest connector.
#include "client.hpp"
#include "definition.hpp"
#include "page_scanner.hpp"
#include "pagination.hpp"
#include "templates.hpp"

#include <rapidjson/pointer.h>

#include <junction/sdk/connector.hpp>

#include <algorithm>
#include <strings.h>
#include <unordered_map>

namespace junction::rest {

namespace {

// The first auth method whose fields the config holds (the host has checked that the
// chosen method's fields are present).
const AuthMethod* pick_auth(const Definition& d, const sdk::Json& config) {
    for (const auto& m : d.auth_methods) {
        const auto fields = m.fields();
        if (std::all_of(fields.begin(), fields.end(), [&](const std::string& f) { return config.HasMember(f.c_str()); }))
            return &m;
    }
    throw sdk::config_error("the instance config holds the fields of none of " + d.name + "'s auth methods");
}

std::string request_text(const sdk::Json& request, const char* key) {
    auto it = request.FindMember(key);
    if (it == request.MemberEnd()) return {};
    if (it->value.IsString()) return it->value.GetString();
    if (it->value.IsNumber()) return sdk::to_json(it->value);
    throw sdk::request_error(std::string("'") + key + "' must be a string or a number");
}

}  // namespace

class RestConnector final : public sdk::Connector {
public:
    static std::string_view manifest() {
        return R"({"kind": "engine", "name": "rest", "version": "1.0.0",
                   "display_name": "REST connector builder",
                   "description": "Runs connectors declared as REST manifests (*.connector.json): auth, endpoints, pagination, retries and rate limits, with no code."})";
    }

    static std::unique_ptr<sdk::Definition> open_definition(std::string_view json) { return parse_definition(json); }

    explicit RestConnector(sdk::InstanceContext ctx)
        : Connector(std::move(ctx)),
          def_(static_cast<const Definition&>(*definition())),
          auth_(pick_auth(def_, config().json())),
          client_(def_, auth_, config().json(), host()) {}

    void test_connection(sdk::Call& call) override {
        if (def_.test_endpoint.empty()) {
            client_.authenticate(call);
            call.emit(R"({"checked":"credentials"})");
            return;
        }
        const Endpoint& e = *def_.find(def_.test_endpoint);
        size_t records = 0;
        receive(e, sdk::JsonDocument(rapidjson::kObjectType), call, 1, [&](size_t n) { records += n; });
        call.emit(R"({"endpoint":")" + e.name + R"(","records_on_first_page":)" + std::to_string(records) + "}");
    }

    void invoke(std::string_view operation, const sdk::Json& request, sdk::Call& call) override {
        const Endpoint* e = def_.find(operation);
        if (!e) throw sdk::Error(JN_ERR_NOT_FOUND, "no endpoint '" + std::string(operation) + "' in " + def_.name);
        if (e->send) return send(*e, request, call);
        const auto max_pages = request.HasMember("max_pages") && request["max_pages"].IsInt64()
                                   ? request["max_pages"].GetInt64()
                                   : 0;
        receive(*e, request, call, max_pages, [&](size_t) {});
    }

private:
    std::string url_for(const Endpoint& e, const TemplateValues& values) const {
        return render(def_.base_url, values) + render(e.path, values, Escape::url_component);
    }

    void add_headers(sdk::HttpRequest& http, const Endpoint& e, const TemplateValues& values) const {
        for (const auto& [k, v] : def_.headers) http.headers.emplace_back(k, render(v, values));
        for (const auto& [k, v] : e.headers) {
            try {
                http.headers.emplace_back(k, render(v, values));
            } catch (const Unset&) {  // {{page.cursor}} on the first page: no header
            }
        }
    }

    template <class OnPage>
    void receive(const Endpoint& e, const sdk::Json& request, sdk::Call& call, int64_t max_pages, OnPage&& on_page) {
        const TemplateValues values{&config().json(), nullptr};
        // {{request.since}} and {{page.x}}: a value this request does not have leaves its
        // query parameter or header out, and is null in a body.
        const std::string since = request_text(request, "since");
        sdk::JsonDocument request_values(rapidjson::kObjectType), page_values;
        if (!since.empty())
            request_values.AddMember("since", sdk::Json(since.c_str(), request_values.GetAllocator()),
                                     request_values.GetAllocator());
        Pager pager(e.pagination, origin_of(render(def_.base_url, values)));
        page_values = pager.values();
        const TemplateValues paged{&config().json(), nullptr, nullptr, &request_values, &page_values};
        PageRequest page;
        auto place = [&] {  // the endpoint's templates, for this page
            try {
                page.url = url_for(e, paged);
            } catch (const Unset& unset) {
                throw sdk::request_error("endpoint " + e.name + "'s path needs {{" + unset.what() + "}}, which this read does not have");
            }
            for (const auto& [k, v] : e.query) {
                try {
                    page.set(k, render(v, paged));
                } catch (const Unset&) {
                    page.remove(k);
                }
            }
            // The caller's filters and since come after the endpoint's own query, on every page.
            if (auto f = request.FindMember("filters"); f != request.MemberEnd()) {
                if (!f->value.IsObject()) throw sdk::request_error("'filters' must be an object");
                for (const auto& m : f->value.GetObject()) {
                    const std::string name = m.name.GetString();
                    if (std::find(e.filters.begin(), e.filters.end(), name) == e.filters.end())
                        throw sdk::request_error("endpoint " + e.name + " offers no filter '" + name + "'");
                    page.set(name, m.value.IsString() ? m.value.GetString() : sdk::to_json(m.value));
                }
            }
            if (!since.empty() && !e.cursor_param.empty()) page.set(e.cursor_param, since);
            if (e.body) page.body = std::make_shared<sdk::JsonDocument>(render_body(*e.body, paged));
        };
        if (!since.empty() && e.cursor_param.empty() && !e.since_template)
            throw sdk::request_error("endpoint " + e.name + " is not incremental");
        place();
        pager.first(page);

        const std::string what = e.method + " " + e.path;
        AnswerPolicy policy;
        policy.rules = &e.response_rules;
        policy.ends = [&](const sdk::HttpResponse& r) { return pager.is_end(r); };
        auto fetch = [&](const PageRequest& next) {
            sdk::HttpRequest http;
            http.method = e.method;
            http.url = next.full_url();
            add_headers(http, e, paged);
            if (next.body) {
                http.body = sdk::to_json(*next.body);
                if (!has_header(http, "Content-Type")) http.headers.emplace_back("Content-Type", "application/json");
            }
            if (!has_header(http, "Accept")) http.headers.emplace_back("Accept", "application/json");
            return client_.send(std::move(http), what, call, policy);
        };
        sdk::HttpResponse response = fetch(page);
        PageScanner scanner;
        for (int64_t n = 1;; ++n) {
            if (response.status < 200 || response.status > 299) break;  // an end_on answer: no more pages
            // One pass over the body: the records' bytes are emitted as they came.
            const PageScan scan =
                scanner.scan(response.body, e.records, pager.pointers(), e.record_filter ? &*e.record_filter : nullptr);
            if (!scan.valid)
                throw sdk::Error(JN_ERR_TRANSIENT, what + " answered something that is not JSON (" + scan.error + ")");
            if (!scan.records_found || !scan.records_is_array)
                throw sdk::Error(JN_ERR_INVALID_REQUEST, what + " answered without an array of records at '" +
                                                             e.records + "'; check the endpoint's 'records' pointer");
            if (scan.record_count > 0) call.emit(scan.records_text());
            on_page(scan.record_count);
            if (call.cancelled()) throw sdk::Error(JN_ERR_CANCELLED, "cancelled between pages");
            if (max_pages > 0 && n >= max_pages) return;  // a sample: not the whole read
            if (!pager.next(page, response, scan)) break;
            if (e.page_templates) {
                page_values = pager.values();
                place();
            }
            response = fetch(page);
        }
        pager.check_complete(what);
    }

    void send(const Endpoint& e, const sdk::Json& request, sdk::Call& call) {
        auto it = request.FindMember("records");
        if (it == request.MemberEnd() || !it->value.IsArray())
            throw sdk::request_error("a send needs {\"records\": [...]}");
        const std::string what = e.method + " " + e.path;
        // Every record's request first, then all of them together (one crossing for an
        // isolated connector). A record the templates cannot render is that record's
        // failure alone.
        const auto& records = it->value.GetArray();
        std::vector<sdk::HttpRequest> requests;
        std::vector<size_t> sent_as(records.Size(), SIZE_MAX);  // record -> its request
        std::vector<std::string> unrenderable(records.Size());
        for (rapidjson::SizeType index = 0; index < records.Size(); ++index) {
            const auto& record = records[index];
            const TemplateValues values{&config().json(), &record};
            try {
                PageRequest target;
                target.url = url_for(e, values);
                for (const auto& [k, v] : e.query) target.set(k, render(v, values, Escape::none));
                sdk::HttpRequest http;
                http.method = e.method;
                http.url = target.full_url();
                add_headers(http, e, values);
                http.body = e.body ? sdk::to_json(render_body(*e.body, values)) : sdk::to_json(record);
                if (!has_header(http, "Content-Type")) http.headers.emplace_back("Content-Type", "application/json");
                sent_as[index] = requests.size();
                requests.push_back(std::move(http));
            } catch (const sdk::Error& err) {
                if (err.status() != JN_ERR_INVALID_REQUEST) throw;
                unrenderable[index] = err.what();
            }
        }
        AnswerPolicy policy;
        policy.rules = &e.response_rules;
        policy.keep_body = e.pass_on == Endpoint::PassOn::input ? 0 : kPassedAnswerMax;
        const auto outcomes = client_.send_all_allowing_rejection(std::move(requests), what, call, policy);
        sdk::JsonDocument results(rapidjson::kArrayType);
        auto& a = results.GetAllocator();
        for (rapidjson::SizeType index = 0; index < records.Size(); ++index) {
            sdk::Json result(rapidjson::kObjectType);
            result.AddMember("index", index, a);
            if (sent_as[index] == SIZE_MAX) {
                result.AddMember("status", "rejected", a);
                result.AddMember("error", sdk::Json(unrenderable[index].c_str(), a), a);
            } else if (const auto& outcome = outcomes[sent_as[index]]; outcome.error) {
                // Credentials, limits and outages fail the whole call (a retry may help).
                if (outcome.error->status() != JN_ERR_INVALID_REQUEST) throw *outcome.error;
                result.AddMember("status", "rejected", a);
                result.AddMember("error", sdk::Json(outcome.error->what(), a), a);
            } else {
                const sdk::HttpResponse& r = outcome.response;
                const bool ok = (r.status >= 200 && r.status <= 299) || outcome.accepted;
                result.AddMember("status", rapidjson::StringRef(ok ? "ok" : "rejected"), a);
                result.AddMember("http_status", r.status, a);
                if (!ok) result.AddMember("error", sdk::Json(client_.scrub(r.body).substr(0, 500).c_str(), a), a);
                // Only a success's answer is the created object (an ignored 4xx's is an error text).
                const bool created = r.status >= 200 && r.status <= 299;
                if (created && e.pass_on != Endpoint::PassOn::input) pass_on(e, records[index], r, result, a);
            }
            results.PushBack(result, a);
        }
        call.emit(sdk::to_json(results));
    }

    // The record a delivered one becomes for the shapes after it (result["record"]): the
    // API's answer as the endpoint's pass_on says. An answer that cannot be read (not JSON,
    // nothing at answer_at, too large) leaves the input as it was, and says so in the log:
    // the record was delivered, so failing it would invite a second delivery.
    void pass_on(const Endpoint& e, const sdk::Json& input, const sdk::HttpResponse& r, sdk::Json& result,
                 sdk::JsonDocument::AllocatorType& a) const {
        const std::string what = e.method + " " + e.path;
        // An answer that echoes a credential passes it on as ***, like any text from the API.
        const std::string body = client_.scrub(r.body);
        if (body.size() >= kPassedAnswerMax) {
            host().warn(what + ": an answer of " + std::to_string(kPassedAnswerMax) + " bytes or more is not passed on");
            return;
        }
        sdk::JsonDocument answer;
        try {
            answer = sdk::parse_json(body, "the answer");
        } catch (const sdk::Error& err) {
            host().warn(what + ": the answer is not passed on: " + err.what());
            return;
        }
        const sdk::Json* picked = &answer;
        if (!e.answer_at.empty()) {
            const rapidjson::Pointer at(e.answer_at.c_str());
            picked = at.IsValid() ? at.Get(answer) : nullptr;
            if (!picked) {
                host().warn(what + ": the answer has nothing at " + e.answer_at + " (answer_at); the record goes on as sent");
                return;
            }
        }
        sdk::Json record;
        if (e.pass_on == Endpoint::PassOn::answer) {
            record.CopyFrom(*picked, a);
        } else {
            record.CopyFrom(input, a);
            if (!record.IsObject()) return;
            if (e.pass_on == Endpoint::PassOn::under) {
                record.RemoveMember(e.pass_on_key.c_str());
                record.AddMember(sdk::Json(e.pass_on_key.c_str(), a), sdk::Json(*picked, a), a);
            } else if (picked->IsObject()) {  // merge: the answer's members win; names hash-indexed
                std::unordered_map<std::string, rapidjson::SizeType> index;
                for (auto it = record.MemberBegin(); it != record.MemberEnd(); ++it)
                    index.emplace(std::string(it->name.GetString(), it->name.GetStringLength()),
                                  static_cast<rapidjson::SizeType>(it - record.MemberBegin()));
                for (const auto& m : picked->GetObject()) {
                    auto [at, added] = index.try_emplace(std::string(m.name.GetString(), m.name.GetStringLength()),
                                                         record.MemberCount());
                    if (added) record.AddMember(sdk::Json(m.name, a), sdk::Json(m.value, a), a);
                    else (record.MemberBegin() + at->second)->value.CopyFrom(m.value, a);
                }
            }
        }
        result.AddMember("record", record, a);
    }

    static constexpr size_t kPassedAnswerMax = 256 << 10;  // a created object, not a page

    const Definition& def_;
    const AuthMethod* auth_;
    Client client_;
};

}  // namespace junction::rest

JUNCTION_CONNECTOR(junction::rest::RestConnector)
