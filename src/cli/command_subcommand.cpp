// `arunner command [options] EXECUTABLE [ARGS...]`: ansible-runner's run_command() on the
// command line. Everything from the executable on is the command's, untouched.

#include <cstdio>
#include <variant>

#include "arunner/commands.hpp"
#include "arunner/version.hpp"
#include "cli/command_flags.hpp"
#include "cli/debug_log.hpp"
#include "cli/query_subcommands.hpp"
#include "cli/run_command.hpp"
#include "util/text.hpp"

namespace arunner::cli {
namespace {

const char* const kProg = "arunner command";

struct CommandFlags {
    CommandJobFlags job;
    RunnerFlags runner;
    std::string host_cwd;
    std::vector<std::string> command;  ///< only for usage and help: split off before parsing
};

void define(CommandLine& line, CommandFlags& f) {
    CLI::App& app = line.app();
    app.add_option("command", f.command,
                   "the executable (looked up in PATH) and its arguments; everything from here "
                   "on is the command's (`--` may come before it)")
        ->option_text("EXECUTABLE [ARGS ...]");
    add_command_job_flags(line, f.job, /*ident=*/false);  // -i/--ident: the runner flags'
    app.add_option("--host-cwd", f.host_cwd,
                   "the command's working directory (default=the current directory)");
    add_runner_flags(line, f.runner);
}

/// Where the command starts in `args`: after `--`, or at the first word that is neither a flag
/// of `app` nor a flag's value. `args.size()` when there is none.
size_t command_start(const CLI::App& app, const std::vector<std::string>& args, bool& dashdash) {
    dashdash = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& word = args[i];
        if (word == "--") {
            dashdash = true;
            return i;
        }
        if (word.size() < 2 || word[0] != '-') {
            return i;
        }
        // "--name=value" and "-xVALUE" carry their value; "-name VALUE" takes the next word.
        bool is_long = word.compare(0, 2, "--") == 0;
        if (is_long && word.find('=') != std::string::npos) {
            continue;
        }
        std::string name = is_long ? word : word.substr(0, 2);
        const CLI::Option* option = app.get_option_no_throw(name);
        bool takes_value = option != nullptr && option->get_expected_max() > 0;
        if (takes_value && (is_long || word.size() == 2)) {
            ++i;
        }
    }
    return args.size();
}

}  // namespace

int command_subcommand(const std::vector<std::string>& args) {
    CommandLine line(kProg,
                     "Run a command as a job (ansible-runner's run_command): its output is "
                     "echoed, and kept in the job's artifacts and events.");
    CommandFlags f;
    define(line, f);
    bool dashdash = false;
    size_t start = command_start(line.app(), args, dashdash);
    std::vector<std::string> flags(args.begin(), args.begin() + static_cast<long>(start));
    std::vector<std::string> command(args.begin() + static_cast<long>(start) + (dashdash ? 1 : 0),
                                     args.end());
    if (auto exit_code = line.parse(flags)) {
        return *exit_code;
    }
    if (f.job.common.version) {
        std::printf("%s\n", arunner::version());
        return 0;
    }
    if (command.empty()) {
        return line.usage_error("the following arguments are required: EXECUTABLE");
    }
    // The runner flags that shape an ansible-playbook command line cannot reach a command.
    for (auto [set, flag] : {std::pair<bool, const char*>{!f.runner.binary.empty(), "--binary"},
                             {!f.runner.inventory.empty(), "--inventory"},
                             {f.runner.verbosity > 0, "-v"}}) {
        if (set) {
            return line.usage_error(std::string("argument ") + flag +
                                    ": a command runs as given; put it in the command's "
                                    "arguments");
        }
    }
    RunOptions base;
    base.command = command;
    if (!f.host_cwd.empty()) {
        base.host_cwd = f.host_cwd;
    }
    apply_runner_flags(f.runner, base);
    auto options = command_job_options(line, f.job, std::move(base),
                                       default_command_mode(command.front(), false));
    if (auto* exit_code = std::get_if<int>(&options)) {
        return *exit_code;
    }
    RunOptions& run = std::get<RunOptions>(options);
    if (!f.runner.ident.empty()) {
        run.ident = f.runner.ident;  // -i/--ident of the runner flags, as `run` takes it
    }

    DebugLog log(f.job.common.debug, f.job.common.logfile);
    log.line("starting debug logging");
    RunCallbacks callbacks = logging_callbacks(log);
    std::fflush(stdout);
    auto result = run_command(run, std::move(callbacks));
    if (!result) {
        std::fprintf(stderr, "%s: %s\n", kProg, util::printable(result.error().message).c_str());
        return 1;
    }
    if (result->status == JobStatus::error) {
        std::fprintf(stderr, "%s: %s\n", kProg, util::printable(result->error_message).c_str());
        return 1;
    }
    // A command killed by a signal has no rc (ansible-runner's None): exit 1, it did not succeed.
    return result->rc.value_or(1);
}

}  // namespace arunner::cli
