// The argv of ansible-runner's helper queries (arunner/commands.hpp), built and checked as its
// DocConfig, InventoryConfig and AnsibleCfgConfig build and check them (SPEC §3.10), with the
// executable's bare name first; the messages are ansible-runner's ConfigurationError texts.

#include <initializer_list>

#include "arunner/commands.hpp"

namespace arunner {
namespace {

/// Python's truth of an optional string argument: None and "" are both "not given".
bool given(const std::optional<std::string>& value) {
    return value && !value->empty();
}

bool one_of(const std::string& value, std::initializer_list<const char*> choices) {
    for (const char* choice : choices) {
        if (value == choice) {
            return true;
        }
    }
    return false;
}

std::string listed(std::initializer_list<const char*> choices) {
    std::string text;
    for (const char* choice : choices) {
        text += (text.empty() ? "" : ", ") + std::string(choice);
    }
    return text;
}

/// ansible-runner's check of a response_format: unset or empty passes.
Status check_format(const std::optional<std::string>& format,
                    std::initializer_list<const char*> choices) {
    if (given(format) && !one_of(*format, choices)) {
        return Error{"Invalid response_format " + *format + ", valid value is one of either " +
                     listed(choices)};
    }
    return {};
}

Status check_action(const std::string& action, std::initializer_list<const char*> choices) {
    if (!one_of(action, choices)) {
        return Error{"Invalid action " + action + ", valid value is one of either " +
                     listed(choices)};
    }
    return {};
}

void add_option(std::vector<std::string>& argv, const char* flag,
                const std::optional<std::string>& value) {
    if (given(value)) {
        argv.push_back(flag);
        argv.push_back(*value);
    }
}

}  // namespace

Result<std::vector<std::string>> plugin_docs_command(const PluginDocsQuery& query) {
    ARUNNER_TRY(check_format(query.response_format, {"json", "human"}));
    std::vector<std::string> argv = {"ansible-doc"};
    if (query.response_format == "json") {
        argv.push_back("-j");
    }
    if (query.snippet) {
        argv.push_back("-s");
    }
    add_option(argv, "-t", query.plugin_type);
    add_option(argv, "--playbook-dir", query.playbook_dir);
    add_option(argv, "-M", query.module_path);
    argv.insert(argv.end(), query.plugin_names.begin(), query.plugin_names.end());
    return argv;
}

Result<std::vector<std::string>> plugin_list_command(const PluginListQuery& query) {
    ARUNNER_TRY(check_format(query.response_format, {"json", "human"}));
    std::vector<std::string> argv = {"ansible-doc", query.list_files ? "-F" : "-l"};
    if (query.response_format == "json") {
        argv.push_back("-j");
    }
    add_option(argv, "-t", query.plugin_type);
    add_option(argv, "--playbook-dir", query.playbook_dir);
    add_option(argv, "-M", query.module_path);
    return argv;
}

Result<std::vector<std::string>> inventory_command(const InventoryQuery& query) {
    ARUNNER_TRY(check_action(query.action, {"graph", "host", "list"}));
    ARUNNER_TRY(check_format(query.response_format, {"json", "yaml", "toml"}));
    if (query.action == "host" && !query.host) {
        return Error{"Value of host parameter is required when action in 'host'"};
    }
    if (query.action == "graph" && given(query.response_format) &&
        *query.response_format != "json") {
        return Error{"'graph' action supports only 'json' response format"};
    }
    std::vector<std::string> argv = {"ansible-inventory", "--" + query.action};
    if (query.action == "host") {
        argv.push_back(*query.host);
    }
    for (const auto& inventory : query.inventories) {
        argv.push_back("-i");
        argv.push_back(inventory);
    }
    if (query.response_format == "yaml" || query.response_format == "toml") {
        argv.push_back("--" + *query.response_format);
    }
    add_option(argv, "--playbook-dir", query.playbook_dir);
    add_option(argv, "--vault-id", query.vault_ids);
    add_option(argv, "--vault-password-file", query.vault_password_file);
    add_option(argv, "--output", query.output_file);
    if (query.export_) {
        argv.push_back("--export");
    }
    return argv;
}

Result<std::vector<std::string>> config_command(const ConfigQuery& query) {
    ARUNNER_TRY(check_action(query.action, {"list", "dump", "view"}));
    if (query.action != "dump" && query.only_changed) {
        return Error{"only_changed is applicable for action 'dump'"};
    }
    std::vector<std::string> argv = {"ansible-config", query.action};
    add_option(argv, "-c", query.config_file);
    if (query.only_changed) {
        argv.push_back("--only-changed");
    }
    return argv;
}

Result<std::vector<std::string>> role_list_command(const RoleListQuery& query) {
    std::vector<std::string> argv = {"ansible-doc", "-t", "role", "-l", "-j"};
    add_option(argv, "--playbook-dir", query.playbook_dir);
    if (given(query.collection)) {
        argv.push_back(*query.collection);
    }
    return argv;
}

Result<std::vector<std::string>> role_argspec_command(const RoleArgspecQuery& query) {
    std::vector<std::string> argv = {"ansible-doc", "-t", "role", "-j"};
    add_option(argv, "--playbook-dir", query.playbook_dir);
    argv.push_back(given(query.collection) ? *query.collection + "." + query.role : query.role);
    return argv;
}

RunOptions query_options() {
    RunOptions options;
    options.runner_mode = RunnerMode::subprocess;
    return options;
}

}  // namespace arunner
