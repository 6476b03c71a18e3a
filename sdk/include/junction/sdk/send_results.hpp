// The one result page a send emits (docs/plugin-abi.md): one result per record of the
// request, by its index, "ok" or "rejected". A rejected record fails alone (a flow sends it
// to its catch path); throwing fails every record of the call, so a send that fails part
// way reports what it already delivered as "ok" and the rest as rejected instead.
//
//   sdk::SendResults results(records.size());
//   for (size_t i = 0; i < records.size(); ++i) {
//       const auto r = sdk::send_with_retries(call, create(records[i]));
//       if (r.status < 300) results.ok(i, r.body);   // the created object goes on to the next shape
//       else results.rejected(i, r);
//   }
//   results.emit(call);
#pragma once

#include <junction/sdk/host.hpp>
#include <junction/sdk/http_status.hpp>
#include <junction/sdk/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace junction::sdk {

class SendResults {
public:
    explicit SendResults(size_t records) : results_(records) {}

    // Delivered. `passed_on`: a JSON object the flow passes on instead of the record as
    // sent (the created object with its id); empty, or not a JSON object (an API's odd
    // answer must not fail a record it already created): the record itself.
    void ok(size_t index, std::string_view passed_on = {}) {
        Result& r = at(index);
        r.set = true;
        r.json = R"({"index":)" + std::to_string(index) + R"(,"status":"ok")";
        if (!passed_on.empty()) {
            JsonDocument doc;
            if (!junction::json::read(passed_on, doc, {}) && doc.IsObject()) r.json += R"(,"record":)" + to_json(doc);
        }
        r.json += "}";
    }
    // Not delivered, for `why` (shown to the user); `http_status` when the API answered.
    void rejected(size_t index, std::string_view why, int http_status = 0) {
        Result& r = at(index);
        r.set = true;
        r.json = R"({"index":)" + std::to_string(index) + R"(,"status":"rejected")" +
                 (http_status > 0 ? R"(,"http_status":)" + std::to_string(http_status) : std::string()) +
                 R"(,"error":)" + json_quote(why) + "}";
    }
    // Not delivered: the API's answer says why.
    void rejected(size_t index, const HttpResponse& response) {
        rejected(index, api_message(response.body), response.status);
    }
    // Every record without a result yet is rejected for `why` (a send that stops part way).
    void reject_the_rest(std::string_view why) {
        for (size_t i = 0; i < results_.size(); ++i)
            if (!results_[i].set) rejected(i, why);
    }

    // Emits the page. Throws Error(JN_ERR_INTERNAL) naming the first record with no result:
    // the host needs one for each.
    void emit(const Call& call) const {
        std::string page = "[";
        for (size_t i = 0; i < results_.size(); ++i) {
            if (!results_[i].set)
                throw Error(JN_ERR_INTERNAL, "the send gave no result for record " + std::to_string(i) +
                                                 " (every record needs ok or rejected)");
            if (i > 0) page.push_back(',');
            page += results_[i].json;
        }
        page.push_back(']');
        call.emit(page);
    }

private:
    struct Result {
        bool set = false;
        std::string json;
    };
    Result& at(size_t index) {
        if (index >= results_.size())
            throw Error(JN_ERR_INTERNAL, "result for record " + std::to_string(index) + " of a send of " +
                                             std::to_string(results_.size()));
        return results_[index];
    }
    std::vector<Result> results_;
};

}  // namespace junction::sdk
