#pragma once
// The `{"kwargs": {...}}` line of a job stream: run options as ansible-runner's transmit writes
// them and as its worker reads them (docs/stream.md).

#include <filesystem>

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

}  // namespace arunner::stream
