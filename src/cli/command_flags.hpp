#pragma once
// The flags `arunner command` and the query commands (doc, inventory, config, roles) share: the
// optional private data dir, the runner mode, a timeout, the ident, and the common flags; turned
// into RunOptions with their checks.

#include <string>
#include <variant>

#include "arunner/run_options.hpp"
#include "cli/run_flags.hpp"
#include "cli/usage.hpp"

namespace arunner::cli {

/// The shared flags, as typed.
struct CommandJobFlags {
    CommonFlags common;
    std::string private_data_dir;  ///< empty: a temporary one, removed afterwards
    std::string ident;
    std::string runner_mode;  ///< empty: the command's default
    double timeout = 0;       ///< 0: none
};

/// Adds --private-data-dir, --ident (when `ident`), --runner-mode, --timeout and the common
/// flags.
void add_command_job_flags(CommandLine& line, CommandJobFlags& flags, bool ident);

/// The RunOptions the flags say, on top of `base`; `default_mode` when --runner-mode is not
/// given. The exit code after a usage error otherwise (--timeout out of range, say).
std::variant<RunOptions, int> command_job_options(const CommandLine& line,
                                                  const CommandJobFlags& flags, RunOptions base,
                                                  RunnerMode default_mode);

}  // namespace arunner::cli
