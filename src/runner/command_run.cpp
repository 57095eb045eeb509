// arunner::run_command() and default_command_mode() (arunner/commands.hpp): a command run as a
// job through arunner::Runner, its output read back from ART/stdout and ART/stderr.

#include <filesystem>

#include "arunner/commands.hpp"

namespace arunner {

namespace fs = std::filesystem;

RunnerMode default_command_mode(const std::string& executable, bool has_input_fd) {
    // ansible-runner compares the last os.pathsep (':') piece of the executable, so
    // /usr/bin/ansible-doc misses; arunner compares the file name (docs/commands.md).
    std::string name = fs::path(executable).filename().string();
    bool non_interactive =
        name == "ansible-config" || name == "ansible-doc" || name == "ansible-galaxy";
    return has_input_fd || non_interactive ? RunnerMode::subprocess : RunnerMode::pexpect;
}

Result<CommandResult> run_command(const RunOptions& options, RunCallbacks callbacks) {
    if (options.command.empty()) {
        return Error{"run_command needs a command: the executable and its arguments"};
    }
    // No private data dir: prepare_job makes a temporary one, which goes with the Runner (when
    // this returns); a missing one is created (0700), as ansible-runner's BaseConfig does.
    ARUNNER_ASSIGN_OR_RETURN(auto runner, Runner::create(options, std::move(callbacks)));
    runner->run();
    CommandResult result;
    // Missing files (suppress_output_file) read as empty, as ansible-runner's empty handles.
    if (auto out = runner->stdout_text()) {
        result.out = std::move(*out);
    }
    if (auto err = runner->stderr_text()) {
        result.err = std::move(*err);
    }
    result.rc = runner->rc();
    result.status = runner->status();
    if (runner->errored()) {
        result.error_message = runner->error_message();
    }
    return result;
}

}  // namespace arunner
