// The findings of one conformance check, printed in plain words as they come, with the
// --config's secret values replaced by "***" (a failing plugin may quote them).
#pragma once

#include <junction/core/secrets/redactor.hpp>

#include <iostream>
#include <string>

namespace junction::plugin_check {

class ConformanceReport {
public:
    void pass(const std::string& what) { line("PASS", what); }
    void warn(const std::string& what) { line("WARN", what); ++warnings_; }
    void fail(const std::string& what) { line("FAIL", what); ++failures_; }
    void note(const std::string& what) { line("    ", what); }

    // From now on, what `redactor` knows is not printed.
    void redact_with(core::Redactor redactor) { redactor_ = std::move(redactor); }

    int failures() const { return failures_; }
    int warnings() const { return warnings_; }

    // Prints the closing line; returns the process exit code (0 only without failures).
    int finish(const std::string& file) const;

private:
    void line(const char* tag, const std::string& what) { std::cout << tag << "  " << redactor_.apply(what) << "\n"; }
    core::Redactor redactor_;
    int failures_ = 0;
    int warnings_ = 0;
};

}  // namespace junction::plugin_check
