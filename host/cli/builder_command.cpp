// junction builder test MANIFEST --endpoint NAME --config FILE: runs one endpoint of a
// REST manifest on this machine, with no daemon, and shows every request it made
// (credentials as ***) and the first records, so a manifest can be built step by step.
#include "commands.hpp"
#include "shipped_plugins.hpp"

#include <junction/core/bridge/connector.hpp>
#include <junction/core/common/error.hpp>
#include <junction/core/registry/package_file.hpp>

#include <boost/program_options.hpp>
#include <junction/core/common/json.hpp>
#include <rapidjson/prettywriter.h>

#include <unistd.h>

#include <fstream>
#include <iostream>

namespace junction::cli {

namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;

void builder_usage(std::ostream& out) {
    out << "Usage: junction builder test MANIFEST --endpoint NAME --config FILE [options]\n\n"
           "Runs one endpoint of a REST connector manifest (*.connector.json) here, without the\n"
           "daemon, and prints the requests it made (credentials shown as ***) and the first records.\n\n"
           "  --endpoint NAME    the endpoint to run\n"
           "  --config FILE      the instance config: settings and credentials, one JSON object\n"
           "  --request JSON     the receive request, e.g. '{\"since\":\"2026-01-01T00:00:00Z\"}'\n"
           "  --records FILE     for a send endpoint: a JSON array of the records to send\n"
           "  --pages N          pages to read (default 1, 0 = all)\n"
           "  --show N           records to print (default 3)\n"
           "  --engine FILE      the REST engine library (default: rest.so shipped with Junction)\n";
}

std::string read_file(const fs::path& file, const char* what) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw core::Error(core::Errc::not_found, std::string("cannot read the ") + what, file.string());
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

// Replaces every credential this run knows of with ***.
class Redactor {
public:
    Redactor(const core::Manifest& m, const rapidjson::Document& config) {
        for (const auto& field : m.secret_fields) {
            auto it = config.FindMember(field.c_str());
            if (it != config.MemberEnd() && it->value.IsString() && it->value.GetStringLength() >= 3) {
                secrets_.emplace_back(it->value.GetString());
                secrets_.push_back(url_encode(it->value.GetString()));
            }
        }
    }
    std::string text(std::string s) const {
        for (const auto& secret : secrets_)
            for (size_t at; !secret.empty() && (at = s.find(secret)) != std::string::npos;) s.replace(at, secret.size(), "***");
        return s;
    }
    std::string header(const std::string& name, const std::string& value) const {
        std::string lower = name;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (lower == "authorization" || lower == "proxy-authorization" || lower == "cookie") {
            const size_t space = value.find(' ');
            return (space == std::string::npos ? "" : value.substr(0, space + 1)) + "***";
        }
        return text(value);
    }
    // OAuth token requests: the form fields that carry secrets or signed assertions.
    std::string body(const std::string& b) const {
        std::string out;
        size_t from = 0;
        if (b.find('=') == std::string::npos || b.find('{') == 0) return text(b);
        while (from <= b.size()) {
            const size_t amp = b.find('&', from);
            std::string pair = b.substr(from, amp == std::string::npos ? std::string::npos : amp - from);
            const std::string key = pair.substr(0, pair.find('='));
            for (const char* s : {"client_secret", "client_assertion", "refresh_token", "password", "assertion", "code"})
                if (key == s) pair = key + "=***";
            out += (out.empty() ? "" : "&") + pair;
            if (amp == std::string::npos) break;
            from = amp + 1;
        }
        return text(out);
    }

private:
    std::vector<std::string> secrets_;
};

std::string pretty(const rapidjson::Value& v) {
    rapidjson::StringBuffer b;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(b);
    w.SetIndent(' ', 2);
    v.Accept(w);
    return b.GetString();
}

std::string size_text(size_t bytes) {
    char buf[32];
    if (bytes < 10 * 1024) std::snprintf(buf, sizeof buf, "%zu B", bytes);
    else std::snprintf(buf, sizeof buf, "%.1f KiB", bytes / 1024.0);
    return buf;
}

int run_test(const std::vector<std::string>& args) {
    po::options_description o;
    std::string endpoint, config_file, request = "{}", records_file, engine;
    int pages = 1, show = 3;
    o.add_options()("manifest", po::value<std::string>())("endpoint", po::value(&endpoint))(
        "config", po::value(&config_file))("request", po::value(&request))("records", po::value(&records_file))(
        "pages", po::value(&pages))("show", po::value(&show))("engine", po::value(&engine));
    po::positional_options_description positional;
    positional.add("manifest", 1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(o).positional(positional).run(), vm);
        po::notify(vm);
    } catch (const std::exception& e) {
        std::cerr << "junction builder test: " << e.what() << "\n";
        return 2;
    }
    if (!vm.count("manifest") || endpoint.empty() || config_file.empty()) {
        builder_usage(std::cerr);
        return 2;
    }
    const fs::path manifest_file = vm["manifest"].as<std::string>();

    std::shared_ptr<core::ConnectorVersion> connector;
    rapidjson::Document config;
    std::string config_text;
    try {
        if (!core::is_definition_package(manifest_file))
            throw core::Error(core::Errc::invalid_argument, "a REST manifest's file name ends with .connector.json",
                              manifest_file.string());
        connector = core::open_package_file(manifest_file, engine.empty() ? host::shipped_plugin("rest.so") : fs::path(engine));
        config_text = read_file(config_file, "config file");
        config = core::parse_json_text(config_text, "the config file");
        if (!config.IsObject()) throw core::Error(core::Errc::invalid_argument, "the config file must hold one JSON object", config_file);
    } catch (const core::Error& e) {
        std::cerr << "junction builder test: " << e.what() << "\n";
        return 2;
    }
    const core::Operation* op = connector->manifest().find_operation(endpoint);
    if (!op) {
        std::cerr << "junction builder test: " << connector->id() << " has no endpoint '" << endpoint << "'; it has:";
        for (const auto& each : connector->manifest().operations) std::cerr << " " << each.name;
        std::cerr << "\n";
        return 2;
    }

    const Redactor redact(connector->manifest(), config);
    core::InstanceSpec spec;
    spec.id = "builder-test";
    spec.config_json = config_text;
    core::MemoryInstanceState state;
    spec.state = &state;
    spec.http.observer = [&](const core::HttpExchange& x) {
        std::cout << "> " << x.method << " " << redact.text(x.url) << "\n";
        for (const auto& [k, v] : x.request_headers) std::cout << "    " << k << ": " << redact.header(k, v) << "\n";
        if (!x.request_body.empty()) std::cout << "    " << redact.body(x.request_body.substr(0, 400)) << "\n";
        if (x.status) std::cout << "< " << x.status << " in " << static_cast<long>(x.millis) << " ms, "
                                << size_text(x.response_bytes) << "\n";
        else std::cout << "< no response after " << static_cast<long>(x.millis) << " ms: " << redact.text(x.error) << "\n";
    };
    std::cout << "builder test: " << connector->id() << " (" << manifest_file.string() << "), endpoint " << endpoint
              << " (" << core::direction_name(op->direction) << ")\n";

    size_t total = 0, page_count = 0;
    int shown = 0;
    try {
        auto instance = connector->create_instance(spec);
        std::string req = request;
        if (op->direction == core::Direction::send) {
            if (records_file.empty()) {
                std::cerr << "junction builder test: " << endpoint << " sends records; give them with --records FILE\n";
                return 2;
            }
            req = R"({"records":)" + read_file(records_file, "records file") + "}";
        } else if (pages > 0) {
            rapidjson::Document r;
            try {
                r = core::parse_json_text(request, "--request");
            } catch (const core::Error& e) {
                std::cerr << "junction builder test: " << e.what() << "\n";
                return 2;
            }
            if (!r.IsObject()) {
                std::cerr << "junction builder test: --request must be a JSON object\n";
                return 2;
            }
            if (!r.HasMember("max_pages")) r.AddMember("max_pages", pages, r.GetAllocator());
            req = pretty(r);
        }
        instance->invoke(endpoint, req, [&](std::string_view page) {
            const rapidjson::Document d = core::parse_json_text(page, "the page", core::JsonSize::page);
            ++page_count;
            if (!d.IsArray()) return;
            total += d.Size();
            for (const auto& record : d.GetArray())
                if (shown < show) {
                    std::cout << (shown == 0 ? (op->direction == core::Direction::send ? "results:\n" : "records:\n") : "")
                              << redact.text(pretty(record)) << "\n";
                    ++shown;
                }
        });
    } catch (const core::Error& e) {
        std::cout << "failed: " << redact.text(e.message()) << "\n";
        return 1;
    }
    std::cout << total << (op->direction == core::Direction::send ? " result(s)" : " record(s)") << " in " << page_count
              << " page(s)" << (total > static_cast<size_t>(shown) ? ", the first " + std::to_string(shown) + " shown" : "")
              << "\n";
    return 0;
}

}  // namespace

int run_builder(const std::vector<std::string>& args) {
    if (auto code = help_requested(args, builder_usage)) return *code;
    if (args[0] != "test") {
        std::cerr << "junction builder: unknown command '" << args[0] << "'\n\n";
        builder_usage(std::cerr);
        return 2;
    }
    if (args.size() > 1 && (args[1] == "--help" || args[1] == "-h")) {
        builder_usage(std::cout);
        return 0;
    }
    return run_test(std::vector<std::string>(args.begin() + 1, args.end()));
}

}  // namespace junction::cli
