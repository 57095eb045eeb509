// The public keyword tables (include/arunner/kwargs.hpp): ansible-runner's run() and command
// keywords read into RunOptions, over the stream's kwargs reader (stream/job_kwargs.hpp), which
// reads the same keys as a worker receives them.

#include "arunner/kwargs.hpp"

#include <filesystem>
#include <string>
#include <unordered_map>

#include "stream/job_kwargs.hpp"
#include "util/files.hpp"
#include "util/python_truth.hpp"

namespace arunner {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

RunKeyword run_keyword(std::string_view name) {
    // ansible-runner 2.3.1: run()'s init_runner and dump_artifacts, RunnerConfig and BaseConfig.
    static const std::unordered_map<std::string_view, RunKeyword> keywords = [] {
        std::unordered_map<std::string_view, RunKeyword> table;
        for (std::string_view name : {"private_data_dir",
                                      "ident",
                                      "playbook",
                                      "module",
                                      "module_args",
                                      "host_pattern",
                                      "inventory",
                                      "roles_path",
                                      "envvars",
                                      "extravars",
                                      "passwords",
                                      "settings",
                                      "ssh_key",
                                      "cmdline",
                                      "limit",
                                      "forks",
                                      "verbosity",
                                      "tags",
                                      "skip_tags",
                                      "binary",
                                      "project_dir",
                                      "artifact_dir",
                                      "rotate_artifacts",
                                      "timeout",
                                      "json_mode",
                                      "quiet",
                                      "suppress_env_files",
                                      "suppress_output_file",
                                      "suppress_ansible_output",
                                      "omit_event_data",
                                      "only_failed_event_data",
                                      "check_job_event_data",
                                      "fact_cache",
                                      "fact_cache_type",
                                      "process_isolation",
                                      "process_isolation_executable",
                                      "container_image",
                                      "container_volume_mounts",
                                      "container_options",
                                      "container_workdir",
                                      "container_auth_data",
                                      "role",
                                      "role_vars",
                                      "hosts",
                                      "role_skip_facts",
                                      "process_isolation_path",
                                      "process_isolation_hide_paths",
                                      "process_isolation_show_paths",
                                      "process_isolation_ro_paths",
                                      "directory_isolation_base_path"}) {
            table.emplace(name, RunKeyword::option);
        }
        for (std::string_view name :
             {"streamer", "_input", "_output", "keepalive_seconds", "only_transmit_kwargs",
              "event_handler", "status_handler", "artifacts_handler", "cancel_callback",
              "finished_callback", "debug", "logfile", "ignore_logging"}) {
            table.emplace(name, RunKeyword::caller);
        }
        // host_cwd matters to run() only in ansible-runner's containers (run_command takes it).
        table.emplace("host_cwd", RunKeyword::not_yet);
        return table;
    }();
    auto it = keywords.find(name);
    return it == keywords.end() ? RunKeyword::unknown : it->second;
}

Result<RunOptions> from_run_kwargs(const Json& kwargs) {
    if (!kwargs.is_object()) {
        return Error{"the keyword arguments must be a mapping"};
    }
    for (const auto& [name, value] : kwargs.items()) {
        switch (run_keyword(name)) {
            case RunKeyword::unknown:
                return Error{"'" + name + "' is not a keyword argument of ansible-runner's run()"};
            case RunKeyword::caller:
                return Error{"'" + name + "' must be handled before the run options are read"};
            case RunKeyword::not_yet:
                if (util::python_truthy(value)) {
                    return Error{"the keyword '" + name +
                                 "' is not supported by arunner yet; nothing was run"};
                }
                break;
            case RunKeyword::option:
                break;
        }
    }
    // No private_data_dir: a temporary one, removed with the Runner. One that does not exist
    // is refused, as ansible-runner's run() refuses it (its CLI creates it).
    fs::path dir;
    auto pdd = kwargs.find("private_data_dir");
    if (pdd != kwargs.end() && !pdd->is_null()) {
        if (!pdd->is_string()) {
            return Error{"private_data_dir must be a path"};
        }
        dir = pdd->get<std::string>();
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) {
            return Error{"private_data_dir path is either invalid or does not exist: " +
                         dir.string()};
        }
        dir = util::absolute_path(dir);
    }
    Json options = kwargs;
    if (auto type = options.find("fact_cache_type");
        type != options.end() && !type->is_null() && *type != "jsonfile") {
        return Error{"fact_cache_type " + type->dump() +
                     " is not supported: arunner keeps facts only in the jsonfile cache"};
    }
    ARUNNER_ASSIGN_OR_RETURN(RunOptions o, stream::from_kwargs(options, dir));
    // RunnerConfig keywords that arunner reads as runner settings (env/settings still wins).
    for (const char* key : {"suppress_output_file", "suppress_ansible_output", "fact_cache"}) {
        auto it = options.find(key);
        if (it != options.end() && !it->is_null() && !o.settings.contains(key)) {
            o.settings[key] = *it;
        }
    }
    if (auto check = options.find("check_job_event_data");
        check != options.end() && !check->is_null() && !check->is_boolean()) {
        return Error{"kwargs: check_job_event_data must be true or false"};
    }
    return o;
}

bool is_command_keyword(std::string_view name) {
    // ansible-runner 2.3.1's BaseConfig: what run_command and the get_* helpers pass on.
    static const std::unordered_map<std::string_view, bool> keywords = [] {
        std::unordered_map<std::string_view, bool> table;
        for (std::string_view name : {"private_data_dir",
                                      "host_cwd",
                                      "envvars",
                                      "passwords",
                                      "settings",
                                      "project_dir",
                                      "artifact_dir",
                                      "fact_cache_type",
                                      "fact_cache",
                                      "process_isolation",
                                      "process_isolation_executable",
                                      "container_image",
                                      "container_volume_mounts",
                                      "container_options",
                                      "container_workdir",
                                      "container_auth_data",
                                      "ident",
                                      "rotate_artifacts",
                                      "timeout",
                                      "ssh_key",
                                      "quiet",
                                      "json_mode",
                                      "check_job_event_data",
                                      "suppress_env_files"}) {
            table.emplace(name, true);
        }
        return table;
    }();
    return keywords.count(name) != 0;
}

Result<RunOptions> from_command_kwargs(const Json& kwargs) {
    if (!kwargs.is_object()) {
        return Error{"the keyword arguments must be a mapping"};
    }
    for (const auto& [name, value] : kwargs.items()) {
        if (!is_command_keyword(name)) {
            return Error{"'" + name + "' is not a keyword argument of ansible-runner's commands"};
        }
    }
    fs::path dir;
    if (auto pdd = kwargs.find("private_data_dir"); pdd != kwargs.end() && !pdd->is_null()) {
        if (!pdd->is_string()) {
            return Error{"private_data_dir must be a path"};
        }
        dir = util::absolute_path(pdd->get<std::string>());  // created by the run when missing
    }
    if (auto type = kwargs.find("fact_cache_type");
        type != kwargs.end() && !type->is_null() && *type != "jsonfile") {
        return Error{"fact_cache_type " + type->dump() +
                     " is not supported: arunner keeps facts only in the jsonfile cache"};
    }
    ARUNNER_ASSIGN_OR_RETURN(RunOptions o, stream::from_kwargs(kwargs, dir));
    if (auto cwd = kwargs.find("host_cwd"); cwd != kwargs.end() && !cwd->is_null()) {
        if (!cwd->is_string()) {
            return Error{"kwargs: host_cwd must be a path"};
        }
        o.host_cwd = cwd->get<std::string>();
    }
    if (auto it = kwargs.find("fact_cache");
        it != kwargs.end() && !it->is_null() && !o.settings.contains("fact_cache")) {
        o.settings["fact_cache"] = *it;
    }
    return o;
}

}  // namespace arunner
