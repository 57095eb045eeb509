#include "cli/command_flags.hpp"

#include "util/files.hpp"
#include "util/strings.hpp"

namespace arunner::cli {

void add_command_job_flags(CommandLine& line, CommandJobFlags& f, bool ident) {
    CLI::App& app = line.app();
    app.add_option("--private-data-dir", f.private_data_dir,
                   "base directory of the job's env/ files and artifacts (default=a temporary "
                   "directory, removed afterwards)");
    if (ident) {
        app.add_option("--ident", f.ident,
                       "an identifier used to name the job's artifacts directory (default=a new "
                       "UUID)");
    }
    app.add_option("--runner-mode", f.runner_mode,
                   "pexpect (a terminal, stdout and stderr merged) or subprocess (separate "
                   "stdout and stderr)")
        ->check(CLI::IsMember({"pexpect", "subprocess"}))
        ->option_text("{pexpect,subprocess}");
    app.add_option("--timeout", f.timeout,
                   "end the command after this many seconds: status timeout, rc 254 "
                   "(default=none)")
        ->option_text("SECONDS");
    add_common_flags(line, f.common);
}

std::variant<RunOptions, int> command_job_options(const CommandLine& line, const CommandJobFlags& f,
                                                  RunOptions base, RunnerMode default_mode) {
    RunOptions options = std::move(base);
    if (!f.private_data_dir.empty()) {
        options.private_data_dir = util::absolute_path(f.private_data_dir);
    }
    options.ident = f.ident;
    if (f.runner_mode.empty()) {
        options.runner_mode = default_mode;
    } else {
        options.runner_mode =
            f.runner_mode == "pexpect" ? RunnerMode::pexpect : RunnerMode::subprocess;
    }
    if (f.timeout != 0) {
        if (auto checked = util::check_seconds(f.timeout, "the timeout", ""); !checked) {
            return line.usage_error("argument --timeout: " + checked.error().message);
        }
        if (f.timeout < 1) {
            return line.usage_error("argument --timeout: at least 1 second (whole seconds)");
        }
        options.timeout = f.timeout;
    }
    return options;
}

}  // namespace arunner::cli
