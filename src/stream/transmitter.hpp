#pragma once
// `arunner transmit`: the job stream for a run — the kwargs line, the zipped private data dir,
// eof (docs/stream.md). The zip is spooled to a temp file, the base64 streamed from it, so memory
// stays bounded whatever the size of the private data dir, which is never written to.

#include "arunner/error.hpp"
#include "arunner/run_options.hpp"

namespace arunner::stream {

/// Writes the job stream for `options` to `out_fd`. With `only_kwargs` the zip is left out.
Status transmit(const RunOptions& options, int out_fd, bool only_kwargs = false);

}  // namespace arunner::stream
