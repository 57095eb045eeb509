#pragma once
// ansible-runner's run_command() and its Ansible helper APIs (get_plugin_docs, get_plugin_list,
// get_inventory, get_ansible_config, get_role_list, get_role_argspec), docs/commands.md.
//
// Each query builds the ansible-* command of ansible-runner (SPEC §3.10), runs it as a
// run_command job (its own ART, events for its output, the callbacks) and returns the output:
// parsed JSON where ansible-runner parses it, else text; locally, or in a container when
// process isolation is set (SPEC §7.7: host_cwd and an ansible command's file arguments are
// mounted at their own paths). Nothing here throws (docs/commands.md).

#include <optional>
#include <string>
#include <vector>

#include "arunner/error.hpp"
#include "arunner/job_status.hpp"
#include "arunner/run_options.hpp"
#include "arunner/runner.hpp"

namespace arunner {

/// What run_command returns: ansible-runner's (stdout, stderr, rc), and how the job ended.
struct CommandResult {
    std::string out;        ///< ART/stdout ("" when output_fd took the output)
    std::string err;        ///< ART/stderr (always "" in pexpect mode: the pty merges them)
    std::optional<int> rc;  ///< 254 on timeout or cancel, 127 when the executable is missing
    JobStatus status = JobStatus::unstarted;
    std::string error_message;  ///< set when the job ended in `error` (a callback threw)
};

/// ansible-runner's default runner mode for run_command: subprocess when an input fd is given
/// or the executable is ansible-config, ansible-doc or ansible-galaxy; else pexpect.
RunnerMode default_command_mode(const std::string& executable, bool has_input_fd);

/// Runs `options.command` (the executable and its arguments, which must be non-empty) as a
/// job: the private data dir and settings as for run(), runner_mode, the fds and host_cwd of
/// RunOptions; an empty private_data_dir is a temporary one, removed before this returns. Every
/// field of a playbook run (playbook, module, role, binary, inventory, extravars, cmdline, ...)
/// must be unset: the Error names those set. In subprocess mode the `subprocess_timeout`
/// setting limits the command (the timeout option wins). A missing executable is rc 127, as a
/// run's. An Error means nothing ran.
Result<CommandResult> run_command(const RunOptions& options, RunCallbacks callbacks = {});

/// The output of a query: JSON where ansible-runner parses it, else the text.
// NOLINTNEXTLINE(bugprone-exception-escape): Json's destructor may allocate (bad_alloc ends all).
struct QueryResult {
    /// Parsed JSON (response_format json; always for the role queries) or the text; null when
    /// the tool printed nothing. Parsing drops what comes before the first `{` (warnings); a
    /// failure is an Error naming the command and quoting the output's first 200 bytes.
    Json response;
    std::string err;
    CommandResult command;  ///< the run itself (rc, status, raw out)
};

/// `ansible-doc [-j] [-s] [-t TYPE] [--playbook-dir D] [-M PATH] names...`
struct PluginDocsQuery {
    std::vector<std::string> plugin_names;
    std::optional<std::string> plugin_type;
    /// json (`-j`, parsed) or human; unset: ansible-doc's text, as ansible-runner's None.
    std::optional<std::string> response_format;
    bool snippet = false;
    std::optional<std::string> playbook_dir;
    std::optional<std::string> module_path;
};

/// `ansible-doc (-F|-l) [-j] [-t TYPE] [--playbook-dir D] [-M PATH]`
struct PluginListQuery {
    bool list_files = false;
    /// json (`-j`, parsed) or human; unset: ansible-doc's text, as ansible-runner's None.
    std::optional<std::string> response_format;
    std::optional<std::string> plugin_type;
    std::optional<std::string> playbook_dir;
    std::optional<std::string> module_path;
};

/// `ansible-inventory --<list|host|graph> [HOST] (-i INV)* [--yaml|--toml] [--playbook-dir D]
/// [--vault-id V] [--vault-password-file F] [--output F] [--export]`
struct InventoryQuery {
    std::string action;  ///< list, host or graph
    std::vector<std::string> inventories;
    /// json (parsed), yaml or toml (text); unset: the tool's JSON as text, as ansible-runner.
    std::optional<std::string> response_format;
    std::optional<std::string> host;  ///< required for action host
    std::optional<std::string> playbook_dir;
    std::optional<std::string> vault_ids;
    std::optional<std::string> vault_password_file;
    std::optional<std::string> output_file;
    bool export_ = false;
};

/// `ansible-config <list|dump|view> [-c FILE] [--only-changed]`
struct ConfigQuery {
    std::string action;  ///< list, dump or view
    std::optional<std::string> config_file;
    bool only_changed = false;  ///< dump only
};

/// `ansible-doc -t role -l -j [--playbook-dir D] [COLLECTION]`
struct RoleListQuery {
    std::optional<std::string> collection;
    std::optional<std::string> playbook_dir;
};

/// `ansible-doc -t role -j [--playbook-dir D] [COLLECTION.]ROLE`
struct RoleArgspecQuery {
    std::string role;
    std::optional<std::string> collection;
    std::optional<std::string> playbook_dir;
};

/// The commands, checked as ansible-runner checks them (an Error names the bad action, format
/// or missing argument; an unset or empty optional is "not given", as Python's truth). The
/// executable is the bare name: the get_* functions look it up in PATH (Error "<name> command
/// not found") and run its full path, as ansible-runner does.
Result<std::vector<std::string>> plugin_docs_command(const PluginDocsQuery& query);
Result<std::vector<std::string>> plugin_list_command(const PluginListQuery& query);
Result<std::vector<std::string>> inventory_command(const InventoryQuery& query);
Result<std::vector<std::string>> config_command(const ConfigQuery& query);
Result<std::vector<std::string>> role_list_command(const RoleListQuery& query);
Result<std::vector<std::string>> role_argspec_command(const RoleArgspecQuery& query);

/// `command` ready to run with `options`: its executable found on the PATH of the job's
/// environment, unless the job runs in a container (where the bare name is looked up), else an
/// Error `<name> command not found` (ansible-runner's ConfigurationError).
Result<std::vector<std::string>> locate_executable(std::vector<std::string> command,
                                                   const RunOptions& options);

/// RunOptions for a query: subprocess mode, ansible-runner's default for its helpers (stderr
/// apart from the JSON on stdout). The output is still echoed to console_fd unless quiet, as
/// ansible-runner echoes it; set console_fd = -1 or quiet for none.
RunOptions query_options();

/// Runs each query with `options` (private data dir, envvars, settings, timeout, isolation,
/// runner_mode; `what to run` fields must be empty).
Result<QueryResult> get_plugin_docs(const PluginDocsQuery& query,
                                    RunOptions options = query_options(),
                                    RunCallbacks callbacks = {});
Result<QueryResult> get_plugin_list(const PluginListQuery& query,
                                    RunOptions options = query_options(),
                                    RunCallbacks callbacks = {});
Result<QueryResult> get_inventory(const InventoryQuery& query, RunOptions options = query_options(),
                                  RunCallbacks callbacks = {});
Result<QueryResult> get_ansible_config(const ConfigQuery& query,
                                       RunOptions options = query_options(),
                                       RunCallbacks callbacks = {});
Result<QueryResult> get_role_list(const RoleListQuery& query, RunOptions options = query_options(),
                                  RunCallbacks callbacks = {});
Result<QueryResult> get_role_argspec(const RoleArgspecQuery& query,
                                     RunOptions options = query_options(),
                                     RunCallbacks callbacks = {});

/// How a helper query's output becomes its response (ansible-runner's get_* functions):
/// ansible-runner's sanitize_json_response then json.loads: everything before the first `{`
/// dropped (Ansible's warnings), surrounding whitespace stripped, the rest parsed as one JSON
/// value. The Error names `command` and quotes the first 200 bytes of `out`.
Result<Json> parse_json_response(const std::string& out, const std::vector<std::string>& command,
                                 std::optional<int> rc);

/// The response of a query: null for no output; parsed JSON when `parse` (as above); else the
/// text as it is.
Result<Json> query_response(const std::string& out, bool parse,
                            const std::vector<std::string>& command, std::optional<int> rc);

}  // namespace arunner
