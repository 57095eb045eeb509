// `arunner doc`, `inventory`, `config` and `roles`: ansible-runner's helper queries
// (get_plugin_docs … get_role_argspec) on the command line. Each prints the response on stdout
// (parsed JSON pretty-printed with a 4-space indent, text as it came) and the tool's stderr on
// stderr; the exit code is the tool's rc, 1 when the query cannot run or finds nothing, 2 for a
// usage error (a bad action or format among them).

#include <cstdio>
#include <functional>
#include <variant>

#include "arunner/commands.hpp"
#include "arunner/version.hpp"
#include "cli/command_flags.hpp"
#include "cli/query_subcommands.hpp"
#include "util/text.hpp"

namespace arunner::cli {
namespace {

std::optional<std::string> non_empty(const std::string& s) {
    return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

/// Parses `args`; the exit code to leave with (help, version, usage error) or nullopt.
std::optional<int> parse(CommandLine& line, const std::vector<std::string>& args,
                         const CommandJobFlags& job) {
    if (auto exit_code = line.parse(args, true)) {
        return exit_code;
    }
    if (job.common.version) {
        std::printf("%s\n", arunner::version());
        return 0;
    }
    return std::nullopt;
}

/// A builder's Error (bad action, format, missing host) is a usage error; else nullopt.
std::optional<int> check_built(const CommandLine& line,
                               const Result<std::vector<std::string>>& built) {
    if (!built) {
        return line.usage_error(built.error().message);
    }
    return std::nullopt;
}

void print_response(const QueryResult& result) {
    if (result.response.is_string()) {
        const auto& text = result.response.get_ref<const std::string&>();
        std::fwrite(text.data(), 1, text.size(), stdout);
    } else if (!result.response.is_null()) {
        std::string text = result.response.dump(4, ' ', false, Json::error_handler_t::replace);
        std::printf("%s\n", text.c_str());
    }
    std::fflush(stdout);
    std::fwrite(result.err.data(), 1, result.err.size(), stderr);
    std::fflush(stderr);
}

/// The exit code of a finished query: its rc, 1 when it ended in an error or without one.
int exit_code_of(const char* prog, const QueryResult& result) {
    if (result.command.status == JobStatus::error) {
        std::fprintf(stderr, "%s: %s\n", prog,
                     util::printable(result.command.error_message).c_str());
        return 1;
    }
    return result.command.rc.value_or(1);
}

/// Runs a query whose command `built` checked: prints its response; its exit code.
template <typename Query, typename Run>
int run_query(const char* prog, const CommandLine& line, const CommandJobFlags& job,
              const Query& query, Run run, const std::function<int(const QueryResult&)>& check) {
    auto options = command_job_options(line, job, query_options(), RunnerMode::subprocess);
    if (auto* exit_code = std::get_if<int>(&options)) {
        return *exit_code;
    }
    RunOptions& run_options = std::get<RunOptions>(options);
    run_options.console_fd = -1;  // the response is printed, not the job's echo
    auto result = run(query, run_options, RunCallbacks{});
    if (!result) {
        std::fprintf(stderr, "%s: %s\n", prog, util::printable(result.error().message).c_str());
        return 1;
    }
    print_response(*result);
    int code = exit_code_of(prog, *result);
    if (code == 0 && check) {
        return check(*result);
    }
    return code;
}

// --- doc --------------------------------------------------------------------------------------

const char* const kDocProg = "arunner doc";

int doc(const std::vector<std::string>& args) {
    CommandLine line(kDocProg,
                     "Show the documentation of Ansible plugins, or list them (ansible-doc, as "
                     "ansible-runner's get_plugin_docs and get_plugin_list).");
    CommandJobFlags job;
    std::vector<std::string> names;
    std::string type, playbook_dir, module_path, format;
    bool snippet = false, list = false, list_files = false;
    CLI::App& app = line.app();
    app.add_option("names", names, "the plugins to document")->option_text("[NAMES ...]");
    app.add_option("-t,--type", type,
                   "the plugins' type: module (default), become, cache, callback, cliconf, "
                   "connection, filter, httpapi, inventory, lookup, netconf, shell, strategy, "
                   "test, vars, role, keyword");
    app.add_flag("-s,--snippet", snippet, "show a playbook snippet instead of the documentation");
    auto* list_flag = app.add_flag("-l,--list", list, "list the plugins of the type");
    auto* files_flag = app.add_flag("-F,--list-files", list_files,
                                    "list the plugins of the type with their files");
    list_flag->excludes(files_flag);
    app.add_option("--playbook-dir", playbook_dir,
                   "a playbook directory whose collections/, library/ and roles/ are searched");
    app.add_option("-M,--module-path", module_path, "more module directories (colon-separated)");
    app.add_option("--format", format,
                   "json: ansible-doc -j, printed parsed and indented; human: ansible-doc's text "
                   "(default)")
        ->check(CLI::IsMember({"json", "human"}))
        ->option_text("{json,human}");
    add_command_job_flags(line, job, true);
    if (auto exit_code = parse(line, args, job)) {
        return *exit_code;
    }
    if (list || list_files) {
        if (!names.empty() || snippet) {
            return line.usage_error(std::string("argument ") +
                                    (list ? "-l/--list" : "-F/--list-files") +
                                    ": not allowed with plugin names or -s/--snippet");
        }
        PluginListQuery query;
        query.list_files = list_files;
        query.response_format = non_empty(format);
        query.plugin_type = non_empty(type);
        query.playbook_dir = non_empty(playbook_dir);
        query.module_path = non_empty(module_path);
        if (auto exit_code = check_built(line, plugin_list_command(query))) {
            return *exit_code;
        }
        return run_query(kDocProg, line, job, query, get_plugin_list, {});
    }
    if (names.empty()) {
        return line.usage_error("the following arguments are required: NAMES (or -l/--list)");
    }
    PluginDocsQuery query;
    query.plugin_names = names;
    query.plugin_type = non_empty(type);
    query.response_format = non_empty(format);
    query.snippet = snippet;
    query.playbook_dir = non_empty(playbook_dir);
    query.module_path = non_empty(module_path);
    if (auto exit_code = check_built(line, plugin_docs_command(query))) {
        return *exit_code;
    }
    // ansible-doc only warns about a plugin it cannot find (rc 0): arunner says so and fails.
    auto found_all = [&names](const QueryResult& result) {
        std::string missing;
        if (result.response.is_object()) {
            for (const auto& name : names) {
                if (!result.response.contains(name)) {
                    missing += (missing.empty() ? "" : ", ") + name;
                }
            }
        } else if (result.response.is_null()) {
            for (const auto& name : names) {
                missing += (missing.empty() ? "" : ", ") + name;
            }
        }
        if (missing.empty()) {
            return 0;
        }
        std::fprintf(stderr, "%s: no documentation found for %s\n", kDocProg, missing.c_str());
        return 1;
    };
    return run_query(kDocProg, line, job, query, get_plugin_docs, found_all);
}

// --- inventory --------------------------------------------------------------------------------

const char* const kInventoryProg = "arunner inventory";

int inventory(const std::vector<std::string>& args) {
    CommandLine line(kInventoryProg,
                     "Show an inventory as Ansible reads it (ansible-inventory, as "
                     "ansible-runner's get_inventory).");
    CommandJobFlags job;
    InventoryQuery query;
    bool list = false, graph = false, export_ = false;
    std::string host, format, playbook_dir, vault_id, vault_password_file, output;
    CLI::App& app = line.app();
    auto* list_flag = app.add_flag("--list", list, "every group and host with its variables");
    auto* host_option = app.add_option("--host", host, "one host's variables");
    auto* graph_flag = app.add_flag("--graph", graph, "the tree of groups and hosts");
    list_flag->excludes(host_option)->excludes(graph_flag);
    host_option->excludes(graph_flag);
    app.add_option("-i,--inventory", query.inventories,
                   "an inventory path or comma-separated host list; may be given more than once")
        ->allow_extra_args(false)
        ->option_text("INVENTORY");
    app.add_option("--format", format,
                   "json: parsed and printed indented; yaml or toml: as the tool prints them "
                   "(default: the tool's JSON text)")
        ->check(CLI::IsMember({"json", "yaml", "toml"}))
        ->option_text("{json,yaml,toml}");
    app.add_option("--playbook-dir", playbook_dir,
                   "the playbook directory relative paths (group_vars/, host_vars/) are found in");
    app.add_option("--vault-id", vault_id, "the vault identity to use");
    app.add_option("--vault-password-file", vault_password_file, "the vault password file");
    app.add_option("--output", output, "write the inventory to this file instead");
    app.add_flag("--export", export_, "--list optimized for export, not as Ansible processed it");
    add_command_job_flags(line, job, true);
    if (auto exit_code = parse(line, args, job)) {
        return *exit_code;
    }
    if (!list && !graph && host_option->count() == 0) {
        return line.usage_error("one of the arguments --list --host --graph is required");
    }
    query.action = list ? "list" : graph ? "graph" : "host";
    if (host_option->count() > 0) {
        query.host = host;
    }
    query.response_format = non_empty(format);
    query.playbook_dir = non_empty(playbook_dir);
    query.vault_ids = non_empty(vault_id);
    query.vault_password_file = non_empty(vault_password_file);
    query.output_file = non_empty(output);
    query.export_ = export_;
    if (auto exit_code = check_built(line, inventory_command(query))) {
        return *exit_code;
    }
    if (query.action == "graph") {
        // The graph is text whatever the format; ansible-runner's json for it fails to parse.
        query.response_format.reset();
    }
    return run_query(kInventoryProg, line, job, query, get_inventory, {});
}

// --- config -----------------------------------------------------------------------------------

const char* const kConfigProg = "arunner config";

int config(const std::vector<std::string>& args) {
    CommandLine line(kConfigProg,
                     "Show Ansible's configuration (ansible-config, as ansible-runner's "
                     "get_ansible_config).");
    CommandJobFlags job;
    ConfigQuery query;
    std::string config_file;
    CLI::App& app = line.app();
    app.add_option("action", query.action,
                   "list: every setting and its documentation; dump: the settings in effect; "
                   "view: the configuration file")
        ->option_text("{list,dump,view}");
    app.add_option("-c,--config", config_file,
                   "the configuration file (default: Ansible's search)");
    app.add_flag("--only-changed", query.only_changed,
                 "dump only the settings that differ from their defaults");
    add_command_job_flags(line, job, true);
    if (auto exit_code = parse(line, args, job)) {
        return *exit_code;
    }
    if (query.action.empty()) {
        return line.usage_error("the following arguments are required: action");
    }
    query.config_file = non_empty(config_file);
    if (auto exit_code = check_built(line, config_command(query))) {
        return *exit_code;
    }
    return run_query(kConfigProg, line, job, query, get_ansible_config, {});
}

// --- roles ------------------------------------------------------------------------------------

const char* const kRolesProg = "arunner roles";

int roles(const std::vector<std::string>& args) {
    CommandLine line(kRolesProg,
                     "List the roles that have an argument specification, or show one role's "
                     "(ansible-doc -t role, as ansible-runner's get_role_list and "
                     "get_role_argspec).");
    CommandJobFlags job;
    bool list = false;
    std::string argspec, collection, playbook_dir;
    CLI::App& app = line.app();
    auto* list_flag = app.add_flag("--list", list, "list the roles (default)");
    auto* argspec_option =
        app.add_option("--argspec", argspec, "show this role's argument specification")
            ->option_text("ROLE");
    list_flag->excludes(argspec_option);
    app.add_option("--collection", collection, "the roles of this collection (namespace.name)");
    app.add_option("--playbook-dir", playbook_dir,
                   "a playbook directory whose roles/ and collections/ are searched");
    add_command_job_flags(line, job, true);
    if (auto exit_code = parse(line, args, job)) {
        return *exit_code;
    }
    if (argspec_option->count() > 0) {
        RoleArgspecQuery query;
        query.role = argspec;
        query.collection = non_empty(collection);
        query.playbook_dir = non_empty(playbook_dir);
        // ansible-doc answers {} (rc 0) for a role it cannot find: arunner says so and fails.
        auto found = [&argspec](const QueryResult& result) {
            if (result.response.is_object() && !result.response.empty()) {
                return 0;
            }
            std::fprintf(stderr, "%s: no role %s with an argument specification was found\n",
                         kRolesProg, argspec.c_str());
            return 1;
        };
        return run_query(kRolesProg, line, job, query, get_role_argspec, found);
    }
    RoleListQuery query;
    query.collection = non_empty(collection);
    query.playbook_dir = non_empty(playbook_dir);
    return run_query(kRolesProg, line, job, query, get_role_list, {});
}

}  // namespace

int doc_subcommand(const std::vector<std::string>& args) {
    return doc(args);
}
int inventory_subcommand(const std::vector<std::string>& args) {
    return inventory(args);
}
int config_subcommand(const std::vector<std::string>& args) {
    return config(args);
}
int roles_subcommand(const std::vector<std::string>& args) {
    return roles(args);
}

}  // namespace arunner::cli
