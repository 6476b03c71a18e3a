// junction-plugin-check FILE.so [--config JSON] [--invoke OP[:REQUEST]]... : the connector
// author's conformance checker. It inspects the file (exports, GNU-unique symbols, ABI tag),
// loads and negotiates it, validates the manifest and its config schema and, given a config,
// runs create, test_connection, the operations named with --invoke and destroy, checking
// what comes back against the data contract (pages, cursor order, one result per record).
#include "conformance_report.hpp"

#include <junction/core/bridge/connector.hpp>
#include <junction/core/loading/elf_symbols.hpp>
#include <junction/core/common/error.hpp>
#include <junction/core/common/log.hpp>
#include <junction/core/registry/package_file.hpp>

#include <boost/program_options.hpp>
#include <junction/core/common/json.hpp>
#include <junction/core/flows/record_batch.hpp>
#include <junction/core/flows/spec.hpp>
#include <junction/core/flows/time_values.hpp>
#include <rapidjson/document.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

namespace fs = std::filesystem;
namespace po = boost::program_options;
using namespace junction::core;
using junction::plugin_check::ConformanceReport;

namespace {

// Symbols every shared object carries; not the author's exports.
const std::set<std::string> kLinkerSymbols = {"_init", "_fini", "_edata", "_end", "__bss_start"};

void check_exports(const fs::path& file, ConformanceReport& report) {
    const ElfExports exports = read_elf_exports(file);
    std::string extra;
    size_t extra_count = 0;
    for (const auto& s : exports.symbols) {
        if (s.name == JN_ENTRY_SYMBOL || s.name == JN_TAG_SYMBOL || kLinkerSymbols.count(s.name))
            continue;
        if (++extra_count <= 8) extra += (extra.empty() ? "" : ", ") + s.name;
    }
    if (extra_count == 0) {
        report.pass("exports only jn_plugin_negotiate and jn_abi_tag");
    } else {
        report.fail("exports " + std::to_string(extra_count) + " other symbol(s) (" + extra +
                    (extra_count > 8 ? ", ..." : "") +
                    "); build with junction_add_connector, which hides everything else");
    }
    std::string unique;
    for (const auto& s : exports.symbols)
        if (s.is_gnu_unique) unique += (unique.empty() ? "" : ", ") + s.name;
    if (unique.empty())
        report.pass("no GNU-unique symbols (the library can be unloaded)");
    else
        report.fail("GNU-unique symbols " + unique +
                    " keep the library loaded forever; compile with -fno-gnu-unique");
}

// Checks one emitted page: a JSON array of objects.
std::string page_problem(std::string_view page, size_t& records) {
    rapidjson::Document doc;
    try {
        doc = parse_json_text(page, "a page", JsonSize::page);
    } catch (const Error& e) {
        return e.message();
    }
    if (!doc.IsArray()) return "a page is not a JSON array";
    for (const auto& r : doc.GetArray())
        if (!r.IsObject()) return "a page holds a record that is not a JSON object";
    records += doc.Size();
    return {};
}

// One --invoke: "operation" or "operation:{request json}".
struct InvokeSpec {
    std::string operation;
    std::string request = "{}";
};

InvokeSpec parse_invoke(const std::string& arg) {
    const size_t colon = arg.find(':');
    if (colon == std::string::npos) return {arg};
    return {arg.substr(0, colon), arg.substr(colon + 1)};
}

// The data contract of a send (docs/plugin-abi.md): one result page, one result per record
// of the request, each with its record's index once and a status "ok" or "rejected"; a
// passed-on record is an object. Returns what is wrong, or "".
std::string send_results_problem(const std::vector<std::string>& pages, size_t records) {
    if (pages.size() != 1)
        return "a send must emit exactly one result page; it emitted " + std::to_string(pages.size()) +
               " (use sdk::SendResults)";
    rapidjson::Document results;
    try {
        results = parse_json_text(pages[0], "the result page", JsonSize::page);
    } catch (const Error& e) {
        return e.message();
    }
    if (!results.IsArray()) return "the result page is not a JSON array";
    std::vector<bool> seen(records, false);
    for (rapidjson::SizeType i = 0; i < results.Size(); ++i) {
        const auto& r = results[i];
        const std::string where = "result " + std::to_string(i) + " ";
        if (!r.IsObject()) return where + "is not a JSON object";
        const auto index = r.FindMember("index");
        if (index == r.MemberEnd() || !index->value.IsUint64())
            return where + "has no \"index\" (the position of its record in the request, from 0)";
        const uint64_t at = index->value.GetUint64();
        if (at >= records)
            return where + "has index " + std::to_string(at) + ", but the request held " + std::to_string(records) +
                   " record(s)";
        if (seen[at]) return where + "repeats index " + std::to_string(at) + ": each record gets one result";
        seen[at] = true;
        const auto status = r.FindMember("status");
        const std::string value = status != r.MemberEnd() && status->value.IsString() ? status->value.GetString() : "";
        if (value != "ok" && value != "rejected")
            return where + "has status " + (value.empty() ? "none" : "\"" + value + "\"") +
                   "; it must be \"ok\" or \"rejected\"";
        if (const auto passed = r.FindMember("record"); passed != r.MemberEnd() && !passed->value.IsObject())
            return where + "passes on a \"record\" that is not a JSON object";
    }
    for (size_t i = 0; i < records; ++i)
        if (!seen[i]) return "record " + std::to_string(i) + " of the request has no result";
    return {};
}

void run_invoke(ConnectorInstance& instance, const Operation* op, const InvokeSpec& spec, size_t show,
                ConformanceReport& report) {
    const bool send = op && op->direction == Direction::send;
    const std::string what = "invoke '" + spec.operation + "' " + spec.request;
    size_t request_records = 0;
    if (send) {
        try {
            const auto request = parse_json_text(spec.request, "the request");
            const auto records = request.IsObject() ? request.FindMember("records") : request.MemberEnd();
            if (!request.IsObject() || records == request.MemberEnd() || !records->value.IsArray()) {
                report.fail(what + ": a send takes {\"records\": [...]}; give some to check its results");
                return;
            }
            request_records = records->value.Size();
        } catch (const Error& e) {
            report.fail(what + ": " + e.message());
            return;
        }
    }
    // A receive with a cursor_field must emit oldest-first by it, compared as the host does.
    std::optional<flows::Pointer> cursor;
    if (!send && op && !op->cursor_field.empty()) cursor = flows::parse_pointer(op->cursor_field);
    std::string newest, cursor_problem;
    size_t pages = 0, records = 0, shown = 0, without_cursor = 0;
    std::vector<std::string> result_pages;
    std::string problem;
    std::atomic<bool> cancel{false};
    try {
        instance.invoke(spec.operation, spec.request, [&](std::string_view page) {
            ++pages;
            if (send) {
                result_pages.emplace_back(page);
                return;
            }
            const size_t before = records;
            if (problem.empty()) problem = page_problem(page, records);
            if (!problem.empty()) return;
            const auto doc = parse_json_text(page, "a page", JsonSize::page);
            for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
                if (shown < show) {
                    report.show(spec.operation, flows::to_json(doc[i]));
                    ++shown;
                }
                if (!cursor || !cursor_problem.empty()) continue;
                const rapidjson::Value* v = cursor->Get(doc[i]);
                const std::string c = v ? flows::cursor_text(*v) : std::string();
                if (c.empty()) {
                    ++without_cursor;
                    continue;
                }
                if (!newest.empty() && flows::compare_cursor(c, newest) < 0)
                    cursor_problem = "record " + std::to_string(before + i) + " has " + op->cursor_field + " " + c +
                                     ", older than " + newest + " before it: a receive with a cursor_field must emit "
                                     "its records oldest-first by it (the host resumes after the newest it saw)";
                else
                    newest = c;
            }
            if (pages >= 3) cancel = true;  // enough to judge; checks cancellation too
        }, CallOptions{&cancel, {}});
    } catch (const Error& e) {
        if (!(cancel && e.plugin_status() == JN_ERR_CANCELLED)) {
            report.fail(what + ": " + e.message());
            return;
        }
    }
    if (send) {
        if (const std::string wrong = send_results_problem(result_pages, request_records); !wrong.empty()) {
            report.fail(what + ": " + wrong);
            return;
        }
        if (show > 0 && !result_pages.empty()) report.show(spec.operation, result_pages[0]);
        report.pass(what + " gave one valid result for each of its " + std::to_string(request_records) + " record(s)");
        return;
    }
    if (!problem.empty()) {
        report.fail(what + ": " + problem);
        return;
    }
    if (!cursor_problem.empty()) {
        report.fail(what + ": " + cursor_problem);
        return;
    }
    if (cursor && without_cursor > 0)
        report.warn(what + ": " + std::to_string(without_cursor) + " record(s) without " + op->cursor_field +
                    " (a flow cannot resume after them)");
    report.pass(what + " emitted " + std::to_string(pages) + " page(s), " + std::to_string(records) + " record(s)" +
                (cursor ? " in " + op->cursor_field + " order" : "") + (cancel ? " and stopped when cancelled" : ""));
}

void exercise(const ConnectorVersion& version, const std::string& config,
              const std::vector<InvokeSpec>& invokes, size_t show, ConformanceReport& report) {
    MemoryInstanceState state;
    std::unique_ptr<ConnectorInstance> instance;
    try {
        instance = version.create_instance({"plugin-check", config, &state, {}, {}});
        report.pass("instance_create accepted the config");
    } catch (const Error& e) {
        report.fail("instance_create: " + e.message());
        return;
    }
    try {
        const std::string detail = instance->test_connection();
        report.pass("test_connection succeeded" + (detail.empty() ? "" : ": " + detail));
    } catch (const Error& e) {
        report.fail("test_connection: " + e.message());
    }
    for (const auto& spec : invokes) {
        const Operation* op = version.manifest().find_operation(spec.operation);
        if (!op) report.warn("'" + spec.operation + "' is not an operation of the manifest; invoked anyway");
        run_invoke(*instance, op, spec, show, report);
    }
    if (invokes.empty())
        report.note("no --invoke given: no operation was run (they may read or write real data)");
    instance.reset();
    report.pass("instance_destroy returned");
}

// The values of the config's secret fields (writeOnly in the manifest). A config that is
// not JSON has none to find; instance_create then says what is wrong with it.
Redactor config_secrets(const std::string& config, const Manifest& m) {
    Redactor redactor;
    try {
        redactor.add_config(parse_json_text(config, "the config"), m.secret_fields);
    } catch (const Error&) {
    }
    return redactor;
}

std::string read_config(const std::string& value) {
    if (!value.empty() && value.front() == '@') {
        std::ifstream in(value.substr(1));
        if (!in) throw Error(Errc::not_found, "cannot read config file " + value.substr(1));
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    return value;
}

}  // namespace

int main(int argc, char** argv) {
    po::options_description opts("Usage: junction-plugin-check FILE.so [options]\n\nOptions");
    opts.add_options()("help,h", "show this help")(
        "config", po::value<std::string>(),
        "instance config JSON (or @file.json): also create an instance, run test_connection and "
        "destroy it; no operation runs without --invoke")(
        "invoke", po::value<std::vector<std::string>>()->composing(),
        "with --config: run OPERATION or OPERATION:{request json} (repeatable). A receive's pages are "
        "checked (arrays of objects, oldest-first by its cursor_field); a send's result page is "
        "checked against the request's {\"records\": [...]} (one result per record, index and status "
        "valid). Operations may read or write real data")(
        "show", po::value<size_t>()->default_value(0), "print the first N records each --invoke emitted")(
        "output", po::value<std::string>()->default_value("text"), "text, or json: one report for CI")(
        "definition", po::value<std::string>(),
                        "for an engine: a connector definition (NAME.connector.json) to open with it "
                        "and check like a connector")("file", po::value<std::string>(), "the connector library");
    po::positional_options_description pos;
    pos.add("file", 1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(opts).positional(pos).run(), vm);
    } catch (const std::exception& e) {
        std::cerr << "junction-plugin-check: " << e.what() << "\n" << opts << "\n";
        return 2;
    }
    if (vm.count("help") || !vm.count("file")) {
        std::cout << opts << "\nExit status: 0 conformant, 1 not conformant, 2 usage error.\n";
        return vm.count("help") ? 0 : 2;
    }
    configure_log({LogLevel::warn, false});
    const std::string output = vm["output"].as<std::string>();
    if (output != "text" && output != "json") {
        std::cerr << "junction-plugin-check: --output is text or json, not " << output << "\n";
        return 2;
    }

    const fs::path file = vm["file"].as<std::string>();
    ConformanceReport report(output == "json");
    if (output == "text") std::cout << "Checking " << file.string() << "\n\n";
    try {
        check_exports(file, report);
        auto library = ConnectorVersion::open(file, sha256_file(file));
        report.pass("ABI tag and negotiation: plugin speaks ABI " +
                    std::to_string(library->plugin_abi().major) + "." +
                    std::to_string(library->plugin_abi().minor));
        auto version = library;
        if (library->manifest().is_engine) {
            report.pass("engine: " + library->id() + " runs connectors defined by data");
            if (!vm.count("definition")) {
                report.note("no --definition given: give a NAME.connector.json to check a connector it runs");
                return report.finish(file.filename().string());
            }
            const fs::path definition = vm["definition"].as<std::string>();
            version = ConnectorVersion::open_definition(file, library->name(), definition, sha256_file(definition));
            report.pass("definition " + definition.filename().string() + " opens");
        } else if (vm.count("definition")) {
            report.fail("--definition given, but " + library->id() + " is not an engine");
            return report.finish(file.filename().string());
        }
        const Manifest& m = version->manifest();
        report.pass("manifest is valid: " + m.id() + " \"" + m.display_name + "\", " +
                    std::to_string(m.operations.size()) + " operation(s), " +
                    std::to_string(m.auth_methods.size()) + " auth method(s)");
        for (const auto& op : m.operations)
            report.note(std::string(direction_name(op.direction)) + "  " + op.name);
        if (!m.secret_fields.empty()) {
            std::string s;
            for (const auto& f : m.secret_fields) s += (s.empty() ? "" : ", ") + f;
            report.note("secret fields (writeOnly): " + s);
        }
        std::vector<InvokeSpec> invokes;
        if (vm.count("invoke"))
            for (const auto& arg : vm["invoke"].as<std::vector<std::string>>())
                invokes.push_back(parse_invoke(arg));
        if (vm.count("config")) {
            const std::string config = read_config(vm["config"].as<std::string>());
            report.redact_with(config_secrets(config, m));
            exercise(*version, config, invokes, vm["show"].as<size_t>(), report);
        } else
            report.note("no --config given: instance calls not exercised");
    } catch (const Error& e) {
        report.fail(e.what());
    }
    return report.finish(file.filename().string());
}
