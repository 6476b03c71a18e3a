#include "flow_regex.hpp"

namespace junction::core::flows {

namespace {
constexpr int64_t kRegexMaxMemory = 4 << 20;
}

std::unique_ptr<const RE2> flow_regex(const Spec& spec, const char* key, bool required) {
    const Json* value = spec.member(key);
    if (!value) {
        if (required) spec.problem(key, "is required: a regular expression");
        return nullptr;
    }
    if (!value->IsString()) {
        spec.problem(key, "must be a regular expression (a string)");
        return nullptr;
    }
    std::string error;
    auto re = compile_flow_regex(std::string_view(value->GetString(), value->GetStringLength()), error);
    if (!re) spec.problem(key, "is not a regular expression RE2 accepts: " + error);
    return re;
}

std::unique_ptr<const RE2> compile_flow_regex(std::string_view pattern, std::string& error) {
    RE2::Options options;
    options.set_max_mem(kRegexMaxMemory);
    options.set_log_errors(false);  // the error goes to the caller instead
    auto re = std::make_unique<const RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
    if (re->ok()) return re;
    error = re->error() + " (RE2 has no backreferences or lookaround; see docs/flows.md)";
    return nullptr;
}

}  // namespace junction::core::flows
