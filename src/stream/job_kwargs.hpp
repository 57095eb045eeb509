#pragma once
// The `{"kwargs": {...}}` line of a job stream: run options as ansible-runner's transmit writes
// them and as its worker reads them (docs/stream.md).

#include <filesystem>
#include <string_view>

#include <nlohmann/json.hpp>

#include "arunner/error.hpp"
#include "arunner/run_options.hpp"

namespace arunner::stream {

/// The kwargs transmit sends for `options`, keys in the CLI's order. Paths under the private
/// data dir become relative to it (the inventory) or to its project dir (the playbook); an
/// unset ident becomes a fresh uuid4 in its 32-hex-digit form.
nlohmann::ordered_json to_kwargs(const RunOptions& options);

/// Run options from received kwargs, for a job in `private_data_dir` (the worker's). A relative
/// inventory is joined onto it; inline plays are written to project/main.json. Unknown keys are
/// ignored; a known key of the wrong type is an Error that names it.
Result<RunOptions> from_kwargs(const nlohmann::ordered_json& kwargs,
                               const std::filesystem::path& private_data_dir);

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

}  // namespace arunner::stream
