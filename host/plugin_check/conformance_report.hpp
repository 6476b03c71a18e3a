// The findings of one conformance check: printed in plain words as they come, or, with
// --output json, gathered into one JSON report at the end (for CI). Either way the
// --config's secret values are replaced by "***" (a failing plugin may quote them).
#pragma once

#include <junction/core/secrets/redactor.hpp>

#include <iostream>
#include <string>
#include <utility>
#include <vector>

namespace junction::plugin_check {

class ConformanceReport {
public:
    explicit ConformanceReport(bool json = false) : json_(json) {}

    void pass(const std::string& what) { line("pass", "PASS", what); }
    void warn(const std::string& what) {
        line("warn", "WARN", what);
        ++warnings_;
    }
    void fail(const std::string& what) {
        line("fail", "FAIL", what);
        ++failures_;
    }
    void note(const std::string& what) { line("note", "    ", what); }
    // Records an operation emitted, as JSON text (--show), under the operation's name.
    void show(const std::string& operation, const std::string& record_json);

    // From now on, what `redactor` knows is not printed.
    void redact_with(core::Redactor redactor) { redactor_ = std::move(redactor); }

    int failures() const { return failures_; }
    int warnings() const { return warnings_; }

    // Prints the closing line (or the JSON report); returns the process exit code (0 only
    // without failures).
    int finish(const std::string& file) const;

private:
    void line(const char* kind, const char* tag, const std::string& what);

    bool json_;
    core::Redactor redactor_;
    int failures_ = 0;
    int warnings_ = 0;
    std::vector<std::pair<std::string, std::string>> checks_;  // kind, what (JSON report)
    std::vector<std::pair<std::string, std::string>> shown_;   // operation, record JSON
};

}  // namespace junction::plugin_check
