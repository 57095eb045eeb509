#include "py_commands.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "arunner/commands.hpp"
#include "arunner/kwargs.hpp"
#include "py_errors.hpp"
#include "py_json.hpp"
#include "py_runner.hpp"

namespace arunner::python {
namespace {

/// A command function's **kwargs, split: the run options, the callbacks, the runner mode and
/// the file objects that stay referenced while the job runs.
struct CommandCall {
    RunOptions options;
    PythonCallbacks callbacks;
    std::optional<RunnerMode> runner_mode;
    py::list keep;  // the fd objects, owned by the Runner for as long as it lives
};

/// A descriptor from None (-1), an int, or an object with fileno() (what subprocess takes).
int descriptor(const std::string& key, py::handle value, py::list& keep) {
    if (value.is_none()) {
        return -1;
    }
    keep.append(value);
    if (py::isinstance<py::int_>(value)) {
        return value.cast<int>();
    }
    if (py::hasattr(value, "fileno")) {
        return value.attr("fileno")().cast<int>();
    }
    throw py::type_error(key + " must be a file descriptor or a file object with fileno()");
}

CommandCall split_command_kwargs(const py::kwargs& kwargs, const char* function) {
    CommandCall call;
    Json options = Json::object();
    std::vector<std::string> unknown;
    py::object mode = py::none();
    for (auto [key_handle, value] : kwargs) {
        std::string key = py::str(key_handle).cast<std::string>();
        if (take_callback(call.callbacks, key, value)) {
            continue;
        }
        if (key == "runner_mode") {
            mode = py::reinterpret_borrow<py::object>(value);
        } else if (key == "input_fd") {
            call.options.input_fd = descriptor(key, value, call.keep);
        } else if (key == "output_fd") {
            call.options.output_fd = descriptor(key, value, call.keep);
        } else if (key == "error_fd") {
            call.options.error_fd = descriptor(key, value, call.keep);
        } else if (is_command_keyword(key)) {
            try {
                options[key] = from_python(value);
            } catch (py::error_already_set& e) {
                throw py::type_error("the keyword argument '" + key + "': " + describe(e));
            } catch (const std::exception& e) {
                throw py::type_error("the keyword argument '" + key + "': " + e.what());
            }
        } else {
            unknown.push_back(key);
        }
    }
    raise_unknown_keywords(unknown, function);
    auto parsed = from_command_kwargs(options);
    if (!parsed) {
        raise_configuration_error(parsed.error().message);
    }
    const int input_fd = call.options.input_fd;
    const int output_fd = call.options.output_fd;
    const int error_fd = call.options.error_fd;
    call.options = std::move(*parsed);
    call.options.input_fd = input_fd;
    call.options.output_fd = output_fd;
    call.options.error_fd = error_fd;
    if (!mode.is_none()) {
        std::string name = py::str(mode).cast<std::string>();
        if (name != "pexpect" && name != "subprocess") {
            raise_configuration_error("Invalid runner mode " + name +
                                      ", valid value is either 'pexpect' or 'subprocess'");
        }
        call.runner_mode = name == "pexpect" ? RunnerMode::pexpect : RunnerMode::subprocess;
    }
    return call;
}

/// Sets the runner mode (the given one, else `fallback`) and checks the fds against it.
void apply_mode(CommandCall& call, RunnerMode fallback) {
    call.options.runner_mode = call.runner_mode.value_or(fallback);
    if (call.options.runner_mode == RunnerMode::pexpect &&
        (call.options.input_fd >= 0 || call.options.output_fd >= 0 || call.options.error_fd >= 0)) {
        const char* which = call.options.input_fd >= 0    ? "input_fd"
                            : call.options.output_fd >= 0 ? "output_fd"
                                                          : "error_fd";
        raise_configuration_error(std::string(which) +
                                  " is applicable only with 'subprocess' runner mode");
    }
}

/// A Runner for `call` that keeps its file objects alive.
py::object make_command_runner(const CommandCall& call) {
    py::object runner = make_python_runner(call.options, call.callbacks);
    runner.attr("_arunner_fds") = call.keep;
    return runner;
}

/// ART/stdout or ART/stderr of a finished runner, as ansible-runner's `runner.stdout.read()`.
std::string artifact_text(const py::object& runner, bool out) {
    PythonRunner& r = runner.cast<PythonRunner&>();
    auto text = out ? r.job->stdout_text() : r.job->stderr_text();
    if (!text) {
        raise_runner_exception(text.error().message);
    }
    return *text;
}

std::optional<std::string> optional_text(const py::object& value, const char* name) {
    if (value.is_none()) {
        return std::nullopt;
    }
    if (!py::isinstance<py::str>(value)) {
        raise_configuration_error(std::string(name) + " must be a string");
    }
    return value.cast<std::string>();
}

std::vector<std::string> string_list(const py::object& value, const char* what) {
    if (!py::isinstance<py::list>(value)) {
        raise_configuration_error(std::string(what) + " should be of type list, instead received " +
                                  py::str(value).cast<std::string>() + " of type " +
                                  py::str(py::type::of(value)).cast<std::string>());
    }
    std::vector<std::string> out;
    for (py::handle item : value) {
        out.push_back(py::str(item).cast<std::string>());
    }
    return out;
}

/// A query: its command checked and located, run as a job, its output parsed.
struct Query {
    Result<std::vector<std::string>> command;
    bool parse_json = false;
};

py::object start_query(const Query& query, const py::kwargs& kwargs, const char* function) {
    CommandCall call = split_command_kwargs(kwargs, function);
    apply_mode(call, RunnerMode::subprocess);
    if (!query.command) {
        raise_configuration_error(query.command.error().message);
    }
    auto located = locate_executable(*query.command, call.options);
    if (!located) {
        raise_configuration_error(located.error().message);
    }
    call.options.command = std::move(*located);
    return make_command_runner(call);
}

py::tuple run_query(const Query& query, const py::kwargs& kwargs, const char* function) {
    py::object runner = start_query(query, kwargs, function);
    run_runner(runner.cast<PythonRunner&>());
    std::string out = artifact_text(runner, true);
    std::string err = artifact_text(runner, false);
    py::object response = py::str(out);
    if (!out.empty() && query.parse_json) {
        PythonRunner& r = runner.cast<PythonRunner&>();
        auto parsed = query_response(out, true, r.job->command(), r.job->rc());
        if (!parsed) {
            raise_runner_exception(parsed.error().message);
        }
        response = to_python(*parsed);
    }
    return py::make_tuple(response, err);
}

py::tuple async_pair(const py::object& runner) {
    py::object thread = start_runner(runner.cast<PythonRunner&>());
    return py::make_tuple(thread, runner);
}

py::object start_command(const py::object& executable_cmd, const py::object& cmdline_args,
                         const py::kwargs& kwargs, const char* function) {
    if (executable_cmd.is_none() || !py::isinstance<py::str>(executable_cmd) ||
        executable_cmd.cast<std::string>().empty()) {
        raise_configuration_error("For CommandRunner 'executable_cmd' value is required");
    }
    std::string executable = executable_cmd.cast<std::string>();
    std::vector<std::string> command = {executable};
    // ansible-runner's check, for a generic (not ansible-*) executable named like python.
    const std::string name = executable.substr(executable.rfind('/') + 1);
    if (cmdline_args.is_none() && name.rfind("ansible", 0) != 0 &&
        name.find("python") != std::string::npos) {
        raise_configuration_error("Runner requires python filename for execution");
    }
    if (!cmdline_args.is_none()) {
        for (const auto& arg : string_list(cmdline_args, "cmdline_args")) {
            command.push_back(arg);
        }
    }
    CommandCall call = split_command_kwargs(kwargs, function);
    apply_mode(call, default_command_mode(executable, call.options.input_fd >= 0));
    call.options.command = std::move(command);
    return make_command_runner(call);
}

Query plugin_docs(const py::object& plugin_names, const py::object& plugin_type,
                  const py::object& response_format, bool snippet, const py::object& playbook_dir,
                  const py::object& module_path) {
    PluginDocsQuery q;
    q.plugin_names = string_list(plugin_names, "plugin_names");
    q.plugin_type = optional_text(plugin_type, "plugin_type");
    q.response_format = optional_text(response_format, "response_format");
    q.snippet = snippet;
    q.playbook_dir = optional_text(playbook_dir, "playbook_dir");
    q.module_path = optional_text(module_path, "module_path");
    return {plugin_docs_command(q), q.response_format == "json"};
}

}  // namespace

void add_commands(py::module_& module) {
    using py::arg;
    module.def(
        "run_command",
        [](const py::object& executable_cmd, const py::object& cmdline_args,
           const py::kwargs& kwargs) {
            py::object runner = start_command(executable_cmd, cmdline_args, kwargs, "run_command");
            run_runner(runner.cast<PythonRunner&>());
            PythonRunner& r = runner.cast<PythonRunner&>();
            py::object rc = r.job->rc() ? py::object(py::int_(*r.job->rc())) : py::none();
            return py::make_tuple(artifact_text(runner, true), artifact_text(runner, false), rc);
        },
        arg("executable_cmd"), arg("cmdline_args") = py::none(),
        "Runs a command as a job; returns (stdout, stderr, rc).");
    module.def(
        "run_command_async",
        [](const py::object& executable_cmd, const py::object& cmdline_args,
           const py::kwargs& kwargs) {
            return async_pair(
                start_command(executable_cmd, cmdline_args, kwargs, "run_command_async"));
        },
        arg("executable_cmd"), arg("cmdline_args") = py::none(),
        "Starts a command as a job; returns (thread, runner).");

    module.def(
        "get_plugin_docs",
        [](const py::object& plugin_names, const py::object& plugin_type,
           const py::object& response_format, bool snippet, const py::object& playbook_dir,
           const py::object& module_path, const py::kwargs& kwargs) {
            return run_query(plugin_docs(plugin_names, plugin_type, response_format, snippet,
                                         playbook_dir, module_path),
                             kwargs, "get_plugin_docs");
        },
        arg("plugin_names"), arg("plugin_type") = py::none(), arg("response_format") = py::none(),
        arg("snippet") = false, arg("playbook_dir") = py::none(), arg("module_path") = py::none(),
        "ansible-doc for the plugins; returns (response, error).");
    module.def(
        "get_plugin_docs_async",
        [](const py::object& plugin_names, const py::object& plugin_type,
           const py::object& response_format, bool snippet, const py::object& playbook_dir,
           const py::object& module_path, const py::kwargs& kwargs) {
            return async_pair(start_query(plugin_docs(plugin_names, plugin_type, response_format,
                                                      snippet, playbook_dir, module_path),
                                          kwargs, "get_plugin_docs_async"));
        },
        arg("plugin_names"), arg("plugin_type") = py::none(), arg("response_format") = py::none(),
        arg("snippet") = false, arg("playbook_dir") = py::none(), arg("module_path") = py::none(),
        "Starts ansible-doc for the plugins; returns (thread, runner).");
    module.def(
        "get_plugin_list",
        [](const py::object& list_files, const py::object& response_format,
           const py::object& plugin_type, const py::object& playbook_dir,
           const py::object& module_path, const py::kwargs& kwargs) {
            PluginListQuery q;
            q.list_files = is_true(list_files);
            q.response_format = optional_text(response_format, "response_format");
            q.plugin_type = optional_text(plugin_type, "plugin_type");
            q.playbook_dir = optional_text(playbook_dir, "playbook_dir");
            q.module_path = optional_text(module_path, "module_path");
            return run_query({plugin_list_command(q), q.response_format == "json"}, kwargs,
                             "get_plugin_list");
        },
        arg("list_files") = py::none(), arg("response_format") = py::none(),
        arg("plugin_type") = py::none(), arg("playbook_dir") = py::none(),
        arg("module_path") = py::none(), "ansible-doc's plugin list; returns (response, error).");
    module.def(
        "get_inventory",
        [](const py::object& action, const py::object& inventories,
           const py::object& response_format, const py::object& host,
           const py::object& playbook_dir, const py::object& vault_ids,
           const py::object& vault_password_file, const py::object& output_file,
           const py::object& export_, const py::kwargs& kwargs) {
            InventoryQuery q;
            q.action = optional_text(action, "action").value_or("");
            q.inventories = string_list(inventories, "inventories");
            q.response_format = optional_text(response_format, "response_format");
            q.host = optional_text(host, "host");
            q.playbook_dir = optional_text(playbook_dir, "playbook_dir");
            q.vault_ids = optional_text(vault_ids, "vault_ids");
            q.vault_password_file = optional_text(vault_password_file, "vault_password_file");
            q.output_file = optional_text(output_file, "output_file");
            q.export_ = is_true(export_);
            return run_query({inventory_command(q), q.response_format == "json"}, kwargs,
                             "get_inventory");
        },
        arg("action"), arg("inventories"), arg("response_format") = py::none(),
        arg("host") = py::none(), arg("playbook_dir") = py::none(), arg("vault_ids") = py::none(),
        arg("vault_password_file") = py::none(), arg("output_file") = py::none(),
        arg("export") = py::none(), "ansible-inventory; returns (response, error).");
    module.def(
        "get_ansible_config",
        [](const py::object& action, const py::object& config_file, const py::object& only_changed,
           const py::kwargs& kwargs) {
            ConfigQuery q;
            q.action = optional_text(action, "action").value_or("");
            q.config_file = optional_text(config_file, "config_file");
            q.only_changed = is_true(only_changed);
            return run_query({config_command(q), false}, kwargs, "get_ansible_config");
        },
        arg("action"), arg("config_file") = py::none(), arg("only_changed") = py::none(),
        "ansible-config; returns (text, error).");
    module.def(
        "get_role_list",
        [](const py::object& collection, const py::object& playbook_dir, const py::kwargs& kwargs) {
            RoleListQuery q;
            q.collection = optional_text(collection, "collection");
            q.playbook_dir = optional_text(playbook_dir, "playbook_dir");
            return run_query({role_list_command(q), true}, kwargs, "get_role_list");
        },
        arg("collection") = py::none(), arg("playbook_dir") = py::none(),
        "The roles with an argument spec; returns (response, error).");
    module.def(
        "get_role_argspec",
        [](const py::object& role, const py::object& collection, const py::object& playbook_dir,
           const py::kwargs& kwargs) {
            RoleArgspecQuery q;
            q.role = optional_text(role, "role").value_or("");
            q.collection = optional_text(collection, "collection");
            q.playbook_dir = optional_text(playbook_dir, "playbook_dir");
            return run_query({role_argspec_command(q), true}, kwargs, "get_role_argspec");
        },
        arg("role"), arg("collection") = py::none(), arg("playbook_dir") = py::none(),
        "A role's argument spec; returns (response, error).");
}

}  // namespace arunner::python
