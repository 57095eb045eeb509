#pragma once
// ansible-runner's keyword arguments as a Python or C++ caller passes them (docs/python.md):
// which keywords run() and run_command() take, and the RunOptions they make. The Python module
// reads its keywords through these, so a keyword means the same in both languages.

#include <string_view>

#include <nlohmann/json.hpp>

#include "arunner/error.hpp"
#include "arunner/run_options.hpp"

namespace arunner {

/// How arunner takes one of ansible-runner 2.3.1's run() keywords.
enum class RunKeyword {
    unknown,  ///< not a run() keyword: the caller's TypeError
    option,   ///< read by from_run_kwargs into RunOptions
    caller,   ///< handled by the caller of from_run_kwargs (callbacks, streamer, _input, ...)
    not_yet,  ///< known, but arunner cannot honour a value other than the default yet
};
RunKeyword run_keyword(std::string_view name);

/// Run options from ansible-runner's run() keywords, as a Python or C++ caller passes them
/// (docs/python.md): `private_data_dir` is required and must be an existing directory; a
/// relative inventory is looked for under it, then in the current directory. Keywords whose
/// RunKeyword is `caller` must be removed first; an `unknown` one or a `not_yet` one with a
/// value other than its default is an Error naming it.
Result<RunOptions> from_run_kwargs(const nlohmann::ordered_json& kwargs);

/// Whether `name` is a keyword of ansible-runner's BaseConfig, which run_command and the get_*
/// helpers take besides their own arguments (and runner_mode, the fds and the callbacks, which
/// their caller handles).
bool is_command_keyword(std::string_view name);

/// Run options from run_command's / the helpers' keywords (docs/commands.md): every key must be
/// a command keyword; `private_data_dir` is optional (none: a temporary one) and created when
/// missing, as ansible-runner's BaseConfig does.
Result<RunOptions> from_command_kwargs(const nlohmann::ordered_json& kwargs);

}  // namespace arunner
