// junction instances add|list|show|update|delete|test. Credentials are taken from a prompt
// (--secret FIELD) or a file (--secret-file FIELD=PATH), never from the command line, so
// they stay out of shell history and the process list.
#include "commands.hpp"
#include "secret_input.hpp"

#include <junction/core/instances/instance_service.hpp>
#include <junction/core/bridge/manifest.hpp>

#include <boost/program_options.hpp>
#include <junction/core/common/error.hpp>
#include <junction/core/common/json.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <iostream>

namespace junction::cli {

namespace po = boost::program_options;

namespace {

void usage(std::ostream& out) {
    out << "Usage: junction instances <command>\n\n"
           "  add CONNECTOR --name NAME [--auth METHOD] [--set FIELD=VALUE]... [--secret FIELD]...\n"
           "      [--secret-file FIELD=PATH]... [--pin VERSION]\n"
           "  list [--connector NAME] [--limit N] [--after NAME]\n"
           "  show NAME\n"
           "  update NAME [--rename NEW] [--auth METHOD] [--set FIELD=VALUE]... [--unset FIELD]...\n"
           "      [--secret FIELD]... [--secret-file FIELD=PATH]... [--pin VERSION | --unpin]\n"
           "  delete NAME\n"
           "  test NAME                     run the connector's connection test\n\n"
           "--set VALUE is JSON when it parses as a number, true, false, null, an object or an\n"
           "array, and a string otherwise. Credential fields must use --secret or --secret-file.\n";
}

// --set, --secret and --secret-file collected into one config object.
struct ConfigArgs {
    std::vector<std::string> set, secret, secret_file, unset;
};

void add_config_options(po::options_description& opts, ConfigArgs& c) {
    opts.add_options()("set", po::value(&c.set)->composing(), "FIELD=VALUE")(
        "secret", po::value(&c.secret)->composing(), "FIELD: prompt for its value")(
        "secret-file", po::value(&c.secret_file)->composing(), "FIELD=PATH: read the value from a file");
}

std::pair<std::string, std::string> split_assignment(const std::string& text, const char* option) {
    const size_t eq = text.find('=');
    if (eq == std::string::npos || eq == 0)
        throw std::runtime_error(std::string("--") + option + " takes FIELD=VALUE, got '" +
                                 text.substr(0, text.find('=')) + "'");
    return {text.substr(0, eq), text.substr(eq + 1)};
}

// The manifest of a connector, to know which fields are credentials.
core::Manifest fetch_manifest(Context& ctx, const std::string& connector) {
    const ApiResponse r = ctx.api.get("/v1/connectors/" + url_encode(connector));
    if (r.status != 200) {
        print_api_error(r);
        throw std::runtime_error("cannot read connector " + connector);
    }
    rapidjson::Document doc;
    doc = core::parse_json_text(r.body, "the daemon's answer");
    return core::parse_manifest(core::write_json(doc["manifest"]));
}

std::string build_config(const ConfigArgs& c, const core::Manifest& manifest) {
    rapidjson::Document config(rapidjson::kObjectType);
    auto& a = config.GetAllocator();
    auto put = [&](const std::string& field, rapidjson::Value value) {
        config.RemoveMember(field.c_str());
        config.AddMember(rapidjson::Value(field.c_str(), a), value, a);
    };
    for (const auto& s : c.set) {
        auto [field, text] = split_assignment(s, "set");
        if (core::is_secret_field(manifest, field))
            throw std::runtime_error("'" + field + "' is a credential: use --secret " + field +
                                     " (prompt) or --secret-file " + field +
                                     "=PATH, so it stays out of your shell history");
        rapidjson::Document parsed;
        bool is_json = false;
        try {
            parsed = core::parse_json_text(text, "--set " + field);
            is_json = !parsed.IsString();
        } catch (const core::Error&) {
            // not JSON: the text itself is the value
        }
        put(field, is_json ? rapidjson::Value(parsed, a) : rapidjson::Value(text.c_str(), a));
    }
    for (const auto& field : c.secret) put(field, rapidjson::Value(read_secret(field).c_str(), a));
    for (const auto& s : c.secret_file) {
        auto [field, path] = split_assignment(s, "secret-file");
        put(field, rapidjson::Value(read_secret_file(path).c_str(), a));
    }
    for (const auto& field : c.unset) put(field, rapidjson::Value(rapidjson::kNullType));
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    config.Accept(w);
    return b.GetString();
}

po::variables_map parse(const std::vector<std::string>& args, const po::options_description& opts,
                        const char* positional) {
    po::positional_options_description pos;
    if (positional) pos.add(positional, 1);
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
    po::notify(vm);
    return vm;
}

std::string opt(const po::variables_map& vm, const char* key) {
    return vm.count(key) ? vm[key].as<std::string>() : "";
}

int add(Context& ctx, const std::vector<std::string>& args) {
    ConfigArgs c;
    po::options_description opts("Options");
    opts.add_options()("connector", po::value<std::string>()->required(), "connector name")(
        "name", po::value<std::string>()->required(), "instance name")(
        "auth", po::value<std::string>(), "auth method")("pin", po::value<std::string>(), "version pin");
    add_config_options(opts, c);
    const auto vm = parse(args, opts, "connector");
    const core::Manifest manifest = fetch_manifest(ctx, opt(vm, "connector"));
    std::string body = R"({"connector":)" + json_quote(opt(vm, "connector")) +
                       R"(,"name":)" + json_quote(opt(vm, "name")) +
                       R"(,"config":)" + build_config(c, manifest);
    if (vm.count("auth")) body += R"(,"auth_method":)" + json_quote(opt(vm, "auth"));
    if (vm.count("pin")) body += R"(,"version_pin":)" + json_quote(opt(vm, "pin"));
    return show_result(ctx, ctx.api.post("/v1/instances", body + "}"), 201,
                       [](const auto& doc) { print_instance(doc); });
}

int update(Context& ctx, const std::vector<std::string>& args) {
    ConfigArgs c;
    po::options_description opts("Options");
    opts.add_options()("instance", po::value<std::string>()->required(), "instance name")(
        "rename", po::value<std::string>(), "new name")("auth", po::value<std::string>(), "auth method")(
        "pin", po::value<std::string>(), "version pin")("unpin", "remove the version pin")(
        "unset", po::value(&c.unset)->composing(), "FIELD to remove");
    add_config_options(opts, c);
    const auto vm = parse(args, opts, "instance");
    const std::string name = opt(vm, "instance");
    const ApiResponse current = ctx.api.get("/v1/instances/" + url_encode(name));
    if (current.status != 200) return print_api_error(current);
    rapidjson::Document doc;
    doc = core::parse_json_text(current.body, "the daemon's answer");
    const core::Manifest manifest = fetch_manifest(ctx, doc["connector"].GetString());
    std::string body = R"({"config":)" + build_config(c, manifest);
    if (vm.count("rename")) body += R"(,"name":)" + json_quote(opt(vm, "rename"));
    if (vm.count("auth")) body += R"(,"auth_method":)" + json_quote(opt(vm, "auth"));
    if (vm.count("pin")) body += R"(,"version_pin":)" + json_quote(opt(vm, "pin"));
    if (vm.count("unpin")) body += R"(,"version_pin":"")";
    return show_result(ctx, ctx.api.patch("/v1/instances/" + url_encode(name), body + "}"), 200,
                       [](const auto& d) { print_instance(d); });
}

int list(Context& ctx, const std::vector<std::string>& args) {
    po::options_description opts("Options");
    opts.add_options()("connector", po::value<std::string>(), "only this connector's instances")(
        "limit", po::value<std::string>(), "page size (1-1000, default 100)")(
        "after", po::value<std::string>(), "start after this name (paging)");
    const auto vm = parse(args, opts, nullptr);
    std::string query;
    for (const char* key : {"connector", "limit", "after"})
        if (vm.count(key)) query += (query.empty() ? "?" : "&") + std::string(key) + "=" + url_encode(opt(vm, key));
    return show_result(ctx, ctx.api.get("/v1/instances" + query), 200, [](const auto& doc) {
        print_instance_table(doc["items"]);
        const std::string next = doc["next_after"].GetString();
        if (!next.empty()) std::cout << "\nmore: junction instances list --after " << next << "\n";
    });
}

}  // namespace

std::string json_quote(const std::string& text) {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    w.String(text.c_str(), static_cast<rapidjson::SizeType>(text.size()));
    return b.GetString();
}

int run_instances(Context& ctx, const std::vector<std::string>& args) {
    if (auto code = help_requested(args, usage)) return *code;
    const std::string& command = args[0];
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (!rest.empty() && (rest[0] == "--help" || rest[0] == "-h")) {
        usage(std::cout);
        return 0;
    }
    try {
        if (command == "add") return add(ctx, rest);
        if (command == "update") return update(ctx, rest);
        if (command == "list") return list(ctx, rest);
        if ((command == "show" || command == "delete" || command == "test") && rest.size() == 1) {
            const std::string path = "/v1/instances/" + url_encode(rest[0]);
            if (command == "show")
                return show_result(ctx, ctx.api.get(path), 200, [](const auto& d) { print_instance(d); });
            if (command == "test") {
                // Exit 1 when the test fails, so scripts can act on it.
                bool ok = false;
                const int code = show_result(ctx, ctx.api.post(path + "/test", "{}"), 200, [&](const auto& d) {
                    ok = std::string(d["status"].GetString()) == "ok";
                    std::cout << d["name"].GetString() << ": " << d["status"].GetString()
                              << (d["status_detail"].GetStringLength() ? std::string(": ") + d["status_detail"].GetString() : "")
                              << "\n";
                });
                if (code != 0 || ctx.format == Format::json) return code;
                return ok ? 0 : 1;
            }
            const ApiResponse r = ctx.api.del(path);
            if (r.status != 204) return print_api_error(r);
            if (ctx.format == Format::table) std::cout << "deleted " << rest[0] << "\n";
            return 0;
        }
    } catch (const po::error& e) {
        std::cerr << "junction instances " << command << ": " << e.what() << "\n";
        return 2;
    }
    std::cerr << "junction instances: unknown command or arguments\n\n";
    usage(std::cerr);
    return 2;
}

}  // namespace junction::cli
