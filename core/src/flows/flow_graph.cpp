#include <junction/core/flows/flow_graph.hpp>

#include <junction/core/common/error.hpp>
#include <junction/core/flows/cron_schedule.hpp>
#include <junction/core/common/json_schema.hpp>
#include <junction/core/flows/retention.hpp>
#include <junction/core/flows/webhook_rate_limit.hpp>
#include <re2/re2.h>

#include <functional>
#include <set>
#include <unordered_map>

namespace junction::core::flows {

namespace {

Trigger read_trigger(const Spec& doc) {
    Trigger t;
    auto spec = doc.child("trigger", true);
    if (!spec) return t;
    spec->allow_only({"type", "cron", "time_zone", "rate_limit"});
    t.type = spec->string("type", true);
    if (t.type == "schedule") {
        t.cron = spec->string("cron", true);
        const std::string zone = spec->string("time_zone");
        if (!zone.empty()) t.time_zone = zone;
        if (!t.cron.empty()) {
            try {
                CronSchedule::parse(t.cron, t.time_zone);
            } catch (const Error& e) {
                spec->problem(e.message());
            }
        }
    } else if (t.type == "manual" || t.type == "webhook") {
        if (spec->member("cron") || spec->member("time_zone"))
            spec->problem("cron and time_zone belong to a schedule trigger");
        if (t.type == "webhook") read_rate_limit(*spec, {});  // only its problems
    } else if (!t.type.empty()) {
        spec->problem("type", "'" + t.type + "' is not a trigger (manual, schedule or webhook)");
    }
    if (t.type != "webhook" && spec->member("rate_limit")) spec->problem("rate_limit", "belongs to a webhook trigger");
    return t;
}

}  // namespace

Trigger read_trigger(std::string_view document) {
    const auto d = parse_json_text(document, "the flow");
    Trigger t;
    if (auto it = d.FindMember("trigger"); it != d.MemberEnd() && it->value.IsObject()) {
        const auto& v = it->value;
        if (v.HasMember("type") && v["type"].IsString()) t.type = v["type"].GetString();
        if (v.HasMember("cron") && v["cron"].IsString()) t.cron = v["cron"].GetString();
        if (v.HasMember("time_zone") && v["time_zone"].IsString()) t.time_zone = v["time_zone"].GetString();
    }
    return t;
}

int64_t next_fire(const flows::Trigger& t, int64_t after_ms) {
    if (t.type != "schedule") return 0;
    try {
        return flows::CronSchedule::parse(t.cron, t.time_zone).next_after(after_ms).value_or(0);
    } catch (const Error&) {
        return 0;
    }
}

int64_t Trigger::next_fire(int64_t after_ms) const {
    if (type != "schedule") return 0;
    try {
        return CronSchedule::parse(cron, time_zone).next_after(after_ms).value_or(0);
    } catch (const Error&) {
        return 0;
    }
}

FlowGraph FlowGraph::build(std::string_view document_json, BuildContext& ctx, const ShapeRegistry& registry) {
    const auto document = parse_json_text(document_json, "the flow");
    Problems problems;
    const Spec doc(document, "", problems);
    FlowGraph g;
    if (!document.IsObject()) throw Error(Errc::invalid_argument, "a flow must be a JSON object");
    doc.allow_only({"name", "description", "trigger", "start", "shapes", "format", "retention"});
    g.name_ = doc.string("name", true);
    static const RE2 name_pattern("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");  // RE2: linear, no recursion
    if (!g.name_.empty() && !RE2::FullMatch(g.name_, name_pattern))
        doc.problem("name", "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
    doc.string("description");
    doc.integer("format", 1, 1);  // the document format; 1 is the only one so far
    g.trigger_ = read_trigger(doc);
    read_retention(doc, {});  // only its problems: the daemon's defaults apply when the pruner reads it

    std::unordered_map<std::string, Shape*> by_id;
    const auto shapes = doc.array("shapes", true);
    if (shapes.empty() && doc.member("shapes")) doc.problem("shapes", "a flow needs at least one shape");
    for (const auto& s : shapes) {
        if (!s.json().IsObject()) {
            s.problem("a shape must be an object with \"id\" and \"type\"");
            continue;
        }
        const std::string id = s.string("id", true);
        const std::string type = s.string("type", true);
        if (id.empty() || type.empty()) continue;
        if (by_id.count(id)) {
            s.problem("id", "'" + id + "' is used by another shape");
            continue;
        }
        const ShapeBuilder* builder = registry.find(type);
        if (!builder) {
            s.problem("type", "'" + type + "' is not a shape (" + registry.names() + ")");
            continue;
        }
        auto shape = (*builder)(s, id, ctx);
        if (!shape) continue;
        by_id[id] = shape.get();
        g.shapes_.push_back(std::move(shape));
    }
    // Link the edges; unknown targets are problems, unless the shape itself failed.
    std::set<std::string> named;
    for (const auto& s : shapes)
        if (const Json* id = s.member("id"); id && id->IsString()) named.insert(id->GetString());
    for (auto& shape : g.shapes_) {
        for (Link& link : shape->links()) {
            if (link.target.empty()) continue;
            auto it = by_id.find(link.target);
            if (it != by_id.end()) link.shape = it->second;
            else if (!named.count(link.target))
                problems.push_back("at " + link.path + ": there is no shape '" + link.target + "'");
        }
    }
    const std::string start = doc.string("start");
    if (!start.empty()) {
        auto it = by_id.find(start);
        if (it != by_id.end()) g.start_ = it->second;
        else if (!named.count(start)) doc.problem("start", "there is no shape '" + start + "'");
    } else if (!g.shapes_.empty() && !shapes.empty()) {
        const Json* first = shapes.front().member("id");
        if (first && first->IsString() && by_id.count(first->GetString())) g.start_ = by_id[first->GetString()];
    }

    if (problems.empty() && g.start_) {
        // Depth-first from the start: a cycle is a problem, every shape must be reachable,
        // and the post-order reversed is the order in which shapes finish. Links are
        // visited last to first so that, reversed, a branch's paths come in their order.
        std::unordered_map<const Shape*, int> state;  // 1: on the path, 2: done
        std::vector<Shape*> post;
        std::function<void(Shape*)> visit = [&](Shape* s) {
            state[s] = 1;
            for (auto l = s->links().rbegin(); l != s->links().rend(); ++l) {
                Link& link = *l;
                if (!link.shape) continue;
                if (state[link.shape] == 1)
                    problems.push_back("at " + link.path + ": going to '" + link.target + "' makes a loop; flows run one way");
                else if (state[link.shape] == 0)
                    visit(link.shape);
            }
            state[s] = 2;
            post.push_back(s);
        };
        visit(g.start_);
        g.order_.assign(post.rbegin(), post.rend());
        for (size_t i = 0; i < g.shapes_.size(); ++i)
            if (!state.count(g.shapes_[i].get()))
                problems.push_back("at /shapes/" + std::to_string(i) + ": shape '" + g.shapes_[i]->id() +
                                   "' cannot be reached from the start shape '" + g.start_->id() + "'");
        if (!g.has_source() && g.trigger_.type == "schedule")
            problems.push_back("at /shapes: a scheduled flow needs a receive connection shape to read from "
                               "(manual and webhook runs can bring their own records)");
    }

    if (!problems.empty()) {
        std::string message = "the flow is not valid: " + problems.front();
        if (problems.size() > 1) message += " (and " + std::to_string(problems.size() - 1) + " more)";
        Error e(Errc::invalid_argument, message);
        throw e.with_details(problems);
    }
    return g;
}

}  // namespace junction::core::flows
