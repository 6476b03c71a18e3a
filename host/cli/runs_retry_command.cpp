// junction runs retry ID [--from-start]: a new run of the same flow version. By default it
// resumes from the retried run's last checkpoint (the pages it delivered are not sent
// again); --from-start reads everything again. The answer says which it did.
#include "commands.hpp"

namespace junction::cli {

namespace {

// "after page 3 / cursor 2024-01-05" per receive shape, from the new run's progress; empty
// when no page was checkpointed (the retry starts from the start).
std::string where_it_resumes(const rapidjson::Value& run) {
    std::string where;
    if (!run.HasMember("progress") || !run["progress"].IsObject()) return where;
    const auto& progress = run["progress"];
    if (!progress.HasMember("receives") || !progress["receives"].IsObject()) return where;
    for (const auto& m : progress["receives"].GetObject()) {
        const int64_t pages = m.value["pages"].GetInt64();
        const std::string cursor = m.value["cursor"].GetString();
        if (pages == 0 && cursor.empty()) continue;
        where += std::string(where.empty() ? "" : "; ") + m.name.GetString() + " after page " + std::to_string(pages) +
                 (cursor.empty() ? "" : " / cursor " + cursor);
    }
    return where;
}

}  // namespace

int retry_run(Context& ctx, const std::vector<std::string>& args) {
    const bool from_start = args.size() == 2 && args[1] == "--from-start";
    if (args.empty() || args.size() > 2 || (args.size() == 2 && !from_start)) {
        std::cerr << "Usage: junction runs retry ID [--from-start]\n";
        return 2;
    }
    const std::string path = "/v1/runs/" + url_encode(args[0]) + "/retry" + (from_start ? "?from=start" : "");
    return show_result(ctx, ctx.api.post(path, "{}"), 202, [&](const auto& run) {
        const std::string where = where_it_resumes(run);
        std::cout << "started run " << run["id"].GetString() << ", a retry of " << args[0] << ", "
                  << (where.empty() ? std::string("from the start")
                                    : "resuming from the checkpoint (" + where + ")")
                  << "\n";
    });
}

}  // namespace junction::cli
