// junction flows save FILE | list | show NAME | delete NAME | enable NAME | disable NAME
//                | run NAME [--payload FILE] [--wait] | rotate-webhook NAME
// junction runs list [--flow NAME] [--status S] | show ID | log ID | failures ID
//               | cancel ID | retry ID [--from-start] | wait ID
#include "commands.hpp"

#include <text_table.hpp>

#include <junction/core/common/json.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

namespace junction::cli {

namespace {

void flows_usage(std::ostream& out) {
    out << "Usage: junction flows <command>\n\n"
           "  save FILE                     create a flow from a JSON document, or save its next version\n"
           "  list [--limit N] [--after NAME]\n"
           "                                flows, their trigger and version (100 a page)\n"
           "  show NAME                     a flow's document and trigger\n"
           "  delete NAME                   delete a flow and its runs (refused while a run is open)\n"
           "  enable NAME | disable NAME    whether schedule and webhook triggers fire\n"
           "  run NAME [--payload FILE] [--wait]\n"
           "                                start a run now; --wait follows it to the end\n"
           "  rotate-webhook NAME           a new secret webhook URL (the old one stops working)\n";
}

void runs_usage(std::ostream& out) {
    out << "Usage: junction runs <command>\n\n"
           "  list [--flow NAME] [--status S]  recent runs, newest first\n"
           "  show ID                          status, counts per shape, progress\n"
           "  wait ID                          until the run ends; exit 0 when it completed\n"
           "  log ID                           the run's log\n"
           "  failures ID                      the records that failed, with the reason\n"
           "  cancel ID                        stop a queued or running run\n"
           "  retry ID [--from-start]          run the same flow version again, resuming from the run's\n"
           "                                   last checkpoint (--from-start: read everything again)\n";
}

std::string str(const rapidjson::Value& v, const char* key) {
    return v.HasMember(key) && v[key].IsString() ? v[key].GetString() : "";
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void print_run(const rapidjson::Value& r) {
    std::cout << "run:      " << str(r, "id") << "\n"
              << "flow:     " << str(r, "flow_name") << " (version " << r["flow_version"].GetInt64() << ")\n"
              << "trigger:  " << str(r, "trigger") << (str(r, "retry_of").empty() ? "" : " of " + str(r, "retry_of")) << "\n"
              << "status:   " << str(r, "status") << (r["resumed"].GetBool() ? " (resumed after a restart)" : "") << "\n";
    if (!str(r, "error").empty()) std::cout << "error:    " << str(r, "error") << "\n";
    const int64_t started = r["started_ms"].GetInt64(), ended = r["ended_ms"].GetInt64();
    if (ended) std::cout << "duration: " << (ended - started) << " ms\n";
    host::TextTable t({"SHAPE", "IN", "OUT", "FAILED"});
    for (const auto& m : r["counts"].GetObject())
        t.add_row({m.name.GetString(), std::to_string(m.value["in"].GetInt64()), std::to_string(m.value["out"].GetInt64()),
                   std::to_string(m.value["failed"].GetInt64())});
    t.print(std::cout);
}

bool is_open(const std::string& status) { return status == "queued" || status == "running"; }

// Polls the run until it ends; exit 0 only when it completed without failures.
int wait_for(Context& ctx, const std::string& id) {
    for (;;) {
        const ApiResponse r = ctx.api.get("/v1/runs/" + url_encode(id));
        if (r.status != 200) return print_api_error(r);
        rapidjson::Document d;
        d = core::parse_json_text(r.body, "the daemon's answer");
        if (!is_open(d["status"].GetString())) {
            if (ctx.format == Format::json) std::cout << r.body << "\n";
            else print_run(d);
            return std::string(d["status"].GetString()) == "completed" ? 0 : 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
}

}  // namespace

int run_flows(Context& ctx, const std::vector<std::string>& args) {
    if (auto code = help_requested(args, flows_usage)) return *code;
    const std::string& command = args[0];
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (command == "list") {
        std::string query;
        for (size_t i = 0; i < rest.size(); i += 2) {
            if ((rest[i] != "--limit" && rest[i] != "--after") || i + 1 >= rest.size()) {
                flows_usage(std::cerr);
                return 2;
            }
            query += (query.empty() ? "?" : "&") + rest[i].substr(2) + "=" + url_encode(rest[i + 1]);
        }
        return show_result(ctx, ctx.api.get("/v1/flows" + query), 200, [](const auto& doc) {
            host::TextTable t({"NAME", "VERSION", "TRIGGER", "ENABLED", "ID"});
            for (const auto& f : doc["items"].GetArray()) {
                std::string trigger = str(f["trigger"], "type");
                if (trigger == "schedule") trigger += " " + str(f["trigger"], "cron") + " " + str(f["trigger"], "time_zone");
                t.add_row({str(f, "name"), std::to_string(f["version"].GetInt64()), trigger,
                           f["enabled"].GetBool() ? "yes" : "no", str(f, "id")});
            }
            t.print(std::cout);
            const std::string next = str(doc, "next_after");
            if (!next.empty()) std::cout << "\nmore: junction flows list --after " << next << "\n";
        });
    }
    if (command == "save" && rest.size() == 1) {
        const ApiResponse r = ctx.api.post("/v1/flows", read_file(rest[0]));
        return show_result(ctx, r, r.status == 201 ? 201 : 200, [](const auto& d) {
            std::cout << "saved flow " << str(d, "name") << " version " << d["version"].GetInt64() << " (" << str(d, "id") << ")\n";
            if (d.HasMember("webhook_url_path"))
                std::cout << "webhook: POST " << str(d, "webhook_url_path") << "\n"
                          << "         (the secret in this path is shown once; keep it)\n";
        });
    }
    if (rest.size() == 1 && (command == "show" || command == "delete" || command == "enable" || command == "disable" ||
                             command == "rotate-webhook")) {
        const std::string path = "/v1/flows/" + url_encode(rest[0]);
        if (command == "show") return show_result(ctx, ctx.api.get(path), 200, [](const auto& d) {
                std::cout << "flow:    " << str(d, "name") << " (" << str(d, "id") << ")\nversion: " << d["version"].GetInt64()
                          << "\ntrigger: " << str(d["trigger"], "type") << " " << str(d["trigger"], "cron") << "\nenabled: "
                          << (d["enabled"].GetBool() ? "yes" : "no") << "\ndocument:\n";
                rapidjson::StringBuffer b;
                rapidjson::Writer<rapidjson::StringBuffer> w(b);
                d["document"].Accept(w);
                std::cout << b.GetString() << "\n";
            });
        if (command == "delete") {
            const ApiResponse r = ctx.api.del(path);
            if (r.status != 204) return print_api_error(r);
            std::cout << "deleted flow " << rest[0] << "\n";
            return 0;
        }
        if (command == "rotate-webhook")
            return show_result(ctx, ctx.api.post(path + "/webhook/rotate", "{}"), 200, [](const auto& d) {
                std::cout << "webhook: POST " << str(d, "webhook_url_path") << "\n";
            });
        return show_result(ctx, ctx.api.post(path + "/" + command, "{}"), 200, [&](const auto&) {
            std::cout << rest[0] << ": " << command << "d\n";
        });
    }
    if (command == "run" && !rest.empty()) {
        std::string body;
        bool wait = false;
        for (size_t i = 1; i < rest.size(); ++i) {
            if (rest[i] == "--wait") wait = true;
            else if (rest[i] == "--payload" && i + 1 < rest.size()) body = R"({"payload":)" + read_file(rest[++i]) + "}";
            else {
                std::cerr << "junction flows run: unknown option " << rest[i] << "\n";
                return 2;
            }
        }
        const ApiResponse r = ctx.api.post("/v1/flows/" + url_encode(rest[0]) + "/runs", body);
        if (r.status != 202) return print_api_error(r);
        rapidjson::Document d;
        d = core::parse_json_text(r.body, "the daemon's answer");
        if (wait) return wait_for(ctx, d["id"].GetString());
        if (ctx.format == Format::json) std::cout << r.body << "\n";
        else std::cout << "started run " << d["id"].GetString() << " (junction runs show " << d["id"].GetString() << ")\n";
        return 0;
    }
    flows_usage(std::cerr);
    return 2;
}

int run_runs(Context& ctx, const std::vector<std::string>& args) {
    if (auto code = help_requested(args, runs_usage)) return *code;
    const std::string& command = args[0];
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (command == "list") {
        std::string query;
        for (size_t i = 0; i + 1 < rest.size(); i += 2) {
            if (rest[i] != "--flow" && rest[i] != "--status") {
                runs_usage(std::cerr);
                return 2;
            }
            query += (query.empty() ? "?" : "&") + rest[i].substr(2) + "=" + url_encode(rest[i + 1]);
        }
        return show_result(ctx, ctx.api.get("/v1/runs" + query), 200, [](const auto& doc) {
            host::TextTable t({"RUN", "FLOW", "VERSION", "TRIGGER", "STATUS", "DURATION"});
            for (const auto& r : doc["items"].GetArray()) {
                const int64_t ended = r["ended_ms"].GetInt64();
                t.add_row({str(r, "id"), str(r, "flow_name"), std::to_string(r["flow_version"].GetInt64()), str(r, "trigger"),
                           str(r, "status"), ended ? std::to_string(ended - r["started_ms"].GetInt64()) + " ms" : "-"});
            }
            t.print(std::cout);
        });
    }
    if (command == "retry") return retry_run(ctx, rest);
    if (rest.size() != 1) {
        runs_usage(std::cerr);
        return 2;
    }
    const std::string path = "/v1/runs/" + url_encode(rest[0]);
    if (command == "show") return show_result(ctx, ctx.api.get(path), 200, [](const auto& d) { print_run(d); });
    if (command == "wait") return wait_for(ctx, rest[0]);
    if (command == "log")
        return show_result(ctx, ctx.api.get(path + "/log?limit=10000"), 200, [](const auto& d) {
            for (const auto& l : d["items"].GetArray()) print_run_log_line(l);
        });
    if (command == "failures")
        return show_result(ctx, ctx.api.get(path + "/failures?limit=1000"), 200, [](const auto& d) {
            for (const auto& f : d["items"].GetArray()) {
                rapidjson::StringBuffer b;
                rapidjson::Writer<rapidjson::StringBuffer> w(b);
                f["record"].Accept(w);
                std::cout << str(f, "shape") << ": " << str(f, "reason") << "\n  " << b.GetString() << "\n";
            }
        });
    if (command == "cancel")
        return show_result(ctx, ctx.api.post(path + "/cancel", "{}"), 202,
                           [&](const auto& d) { std::cout << "cancelling run " << str(d, "id") << "\n"; });
    runs_usage(std::cerr);
    return 2;
}

}  // namespace junction::cli
