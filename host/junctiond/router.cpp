#include "router.hpp"

namespace junction::daemon {

namespace {

std::vector<std::string_view> segments(std::string_view path) {
    std::vector<std::string_view> out;
    while (!path.empty()) {
        if (path.front() == '/') {
            path.remove_prefix(1);
            continue;
        }
        const size_t slash = path.find('/');
        out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash);
    }
    return out;
}

bool match_pattern(std::string_view pattern, std::string_view path,
                   std::map<std::string, std::string>& params) {
    const auto p = segments(pattern), s = segments(path);
    if (p.size() != s.size()) return false;
    std::map<std::string, std::string> found;
    for (size_t i = 0; i < p.size(); ++i) {
        if (p[i].size() > 2 && p[i].front() == '{' && p[i].back() == '}') {
            if (s[i].empty()) return false;
            found[std::string(p[i].substr(1, p[i].size() - 2))] = std::string(s[i]);
        } else if (p[i] != s[i]) {
            return false;
        }
    }
    params = std::move(found);
    return true;
}

}  // namespace

void Router::add(std::string method, std::string pattern, Handler handler, bool public_route) {
    routes_.push_back({std::move(method), std::move(pattern), std::move(handler), public_route});
}

const Route* Router::match(HttpRequest& request, bool& path_known) const {
    path_known = false;
    for (const auto& r : routes_) {
        std::map<std::string, std::string> params;
        if (!match_pattern(r.pattern, request.path, params)) continue;
        path_known = true;
        if (r.method != request.method) continue;
        request.params = std::move(params);
        return &r;
    }
    return nullptr;
}

}  // namespace junction::daemon
