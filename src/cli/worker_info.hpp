#pragma once
// `arunner worker --worker-info`: one YAML flow line with sorted keys, as ansible-runner prints
// it (docs/cli.md): {cpu_count: 2, errors: [], mem_in_bytes: N, runner_version: V, uuid: U}.

#include <string>

namespace arunner::cli {

/// The line, without its newline. Creates ~/.ansible_runner_uuid (0600) when it is missing.
std::string worker_info_line();

}  // namespace arunner::cli
