#pragma once
// The ansible / ansible-playbook command line, in ansible-runner's order (docs/child-process.md).

#include <optional>
#include <string>
#include <vector>

namespace arunner::config {

/// Everything the command line is made of, already resolved.
struct CommandInputs {
    std::optional<std::string> binary;  ///< raw mode: replaces the executable, no playbook/module
    std::optional<std::string> module;  ///< ad hoc: `ansible -m MODULE`
    std::optional<std::string> module_args;
    std::optional<std::string> host_pattern;
    std::optional<std::string> playbook;
    std::vector<std::string> cmdline_tokens;  ///< right after the executable
    std::vector<std::string> inventories;     ///< one `-i` each
    std::optional<std::string> limit;
    std::optional<std::string> extravars_file;  ///< `-e @FILE` (env/extravars)
    /// `-e @FILE` after it: the API's extravars when env/extravars already held others
    /// (docs/extravars.md). Extra variables never go on the command line as values.
    std::optional<std::string> api_extravars_file;
    int verbosity = 0;
    std::optional<std::string> tags;
    std::optional<std::string> skip_tags;
    std::optional<std::string> forks;
};

/// The command: `[base] + cmdline + (-i INV)* + [--limit L] + [-e @file] + [-e @api-file] +
/// [-vvv] + [--tags T] + [--skip-tags S] + [--forks N] + (playbook | -m MOD [-a ARGS] [PATTERN])`.
std::vector<std::string> build_ansible_command(const CommandInputs& inputs);

}  // namespace arunner::config
