#include "cli/stream_commands.hpp"

#include <sys/prctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <variant>

#include "arunner/cleanup.hpp"
#include "arunner/streaming.hpp"
#include "arunner/version.hpp"
#include "cli/debug_log.hpp"
#include "cli/run_flags.hpp"
#include "cli/usage.hpp"
#include "cli/worker_info.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"
#include "util/temp_dir.hpp"
#include "util/text.hpp"

namespace arunner::cli {
namespace {

/// Parses `args` with `line`; the exit code to leave with (help, version, usage error), or
/// nullopt when the command is to run.
std::optional<int> parse(CommandLine& line, const std::vector<std::string>& args,
                         const CommonFlags& common) {
    if (auto exit_code = line.parse(args)) {
        return exit_code;
    }
    if (common.version) {
        std::printf("%s\n", arunner::version());
        return 0;
    }
    return std::nullopt;
}

/// The command line of `arunner worker cleanup`, its flags bound to the arguments.
struct CleanupFlags {
    WorkerCleanupOptions options;
    CommonFlags common;
};

void add_cleanup_flags(CommandLine& line, CleanupFlags& f) {
    CLI::App& app = line.app();
    app.add_option("--file-pattern", f.options.file_pattern,
                   "A file glob pattern to find private_data_dir folders to remove. Example: "
                   "--file-pattern=/tmp/.ansible-runner-*");
    app.add_option("--exclude-strings", f.options.exclude_strings,
                   "A comma separated list of keywords in directory name or path to avoid "
                   "deleting.");
    app.add_option("--remove-images", f.options.remove_images,
                   "A comma separated list of podman or docker tags to delete. This may not "
                   "remove the corresponding layers, use the image-prune option to assure full "
                   "deletion. Example: --remove-images=quay.io/user/image:devel "
                   "quay.io/user/builder:latest");
    app.add_option("--grace-period", f.options.grace_period_minutes,
                   "Time (in minutes) after last modification to exclude a folder from deletion "
                   "for. This is to avoid deleting folders that were recently created, or folders "
                   "not started via the start command. Value of 0 indicates that no folders will "
                   "be excluded based on modified time.");
    app.add_flag("--image-prune", f.options.image_prune,
                 "If specified, will run docker / podman image prune --force. This will only run "
                 "after untagging.");
    // arunner's own: the containers of an arunner that died.
    app.add_flag("--containers", f.options.containers,
                 "Remove the containers of arunner jobs whose arunner is gone.");
    app.add_option("--process-isolation-executable", f.options.executable,
                   "The container image to clean up images for (default=podman)");
    add_common_flags(line, f.common);
}

int worker_cleanup_command(const std::vector<std::string>& args) {
    CommandLine line("arunner worker cleanup");
    CleanupFlags f;
    add_cleanup_flags(line, f);
    if (auto exit_code = parse(line, args, f.common)) {
        return *exit_code;
    }
    DebugLog log(f.common.debug, f.common.logfile);
    log.line("starting debug logging");
    Result<bool> changed = worker_cleanup(f.options, stdout);
    if (!changed) {
        std::fprintf(stderr, "arunner worker cleanup: %s\n",
                     util::printable(changed.error().message).c_str());
        return 1;
    }
    std::printf("(changed: %s)\n", *changed ? "True" : "False");
    return 0;
}

/// The command line of `arunner worker`, its flags bound to the arguments.
struct WorkerFlags {
    std::string private_data_dir;
    bool delete_dir = false;
    bool worker_info = false;
    int keepalive = -1;
    uint64_t max_unpacked = 0;
    uint64_t max_line = 0;
    CommonFlags common;
};

void add_worker_flags(CommandLine& line, WorkerFlags& f) {
    CLI::App& app = line.app();
    app.add_option("--private-data-dir", f.private_data_dir,
                   "base directory containing the ansible-runner metadata (project, inventory, "
                   "env, etc)");
    app.add_flag("--worker-info", f.worker_info,
                 "show the execution node's Ansible Runner version along with its memory and CPU "
                 "capacities");
    app.add_flag("--delete", f.delete_dir,
                 "Delete existing folder (and everything in it) in the location specified by "
                 "--private-data-dir. The directory will be re-populated when the streamed data "
                 "is unpacked. Using this will also assure that the directory is deleted when the "
                 "job finishes.");
    app.add_option("--keepalive-seconds", f.keepalive,
                   "Emit a synthetic keepalive event every N seconds of idle. (default=0, "
                   "disabled)");
    app.add_option("--max-unpacked-bytes", f.max_unpacked,
                   "refuse a job whose zip unpacks to more (default 10 GiB)");
    app.add_option("--max-line-bytes", f.max_line,
                   "refuse a job stream line longer than this (default 64 MiB)");
    add_common_flags(line, f.common);
    line.set_subcommands({"arunner worker [sub-sub-command]",
                          "Sub-sub command to invoke",
                          {{"cleanup",
                            "Cleanup private_data_dir patterns from prior jobs and "
                            "supporting temporary folders."}}});
}

/// The command line of `arunner process`, its flags bound to the arguments.
struct ProcessFlags {
    std::vector<std::string> positionals;
    std::string ident;
    bool quiet = false;
    uint64_t max_unpacked = 0;
    CommonFlags common;
};

void add_process_flags(CommandLine& line, ProcessFlags& f) {
    CLI::App& app = line.app();
    app.add_option("private_data_dir", f.positionals,
                   "base directory containing the ansible-runner metadata (project, inventory, "
                   "env, etc)");
    app.add_option("-i,--ident", f.ident,
                   "An identifier to use as a subdirectory when saving artifacts. Generally "
                   "intended to match the --ident passed to the transmit command.");
    app.add_option("--max-unpacked-bytes", f.max_unpacked,
                   "refuse artifacts that unpack to more (default 10 GiB)");
    app.add_flag("-q,--quiet", f.quiet, "disable the echo of the job's stdout (default=False)");
    add_common_flags(line, f.common);
}

}  // namespace

std::string worker_help() {
    CommandLine line("arunner worker");
    WorkerFlags f;
    add_worker_flags(line, f);
    return line.help();
}

std::string worker_cleanup_help() {
    CommandLine line("arunner worker cleanup");
    CleanupFlags f;
    add_cleanup_flags(line, f);
    return line.help();
}

std::string process_help() {
    CommandLine line("arunner process");
    ProcessFlags f;
    add_process_flags(line, f);
    return line.help();
}

int transmit_command(const std::vector<std::string>& args) {
    auto parsed = parse_run_arguments(args, "arunner transmit", false);
    if (auto* exit_code = std::get_if<int>(&parsed)) {
        return *exit_code;
    }
    const ParsedRun& run = std::get<ParsedRun>(parsed);
    DebugLog log(run.debug, run.logfile, stderr);  // stdout carries the job stream
    log.line("starting debug logging");
    Status sent = arunner::transmit(run.options, STDOUT_FILENO);
    if (!sent) {
        std::fprintf(stderr, "arunner transmit: %s\n",
                     util::printable(sent.error().message).c_str());
        return 1;
    }
    return 0;
}

int worker_command(const std::vector<std::string>& args) {
    if (!args.empty() && args[0] == "cleanup") {
        return worker_cleanup_command(std::vector<std::string>(args.begin() + 1, args.end()));
    }
    CommandLine line("arunner worker");
    WorkerFlags f;
    add_worker_flags(line, f);
    if (auto exit_code = parse(line, args, f.common)) {
        return *exit_code;
    }
    // stdout carries the worker stream: debug lines go to stderr.
    DebugLog log(f.common.debug, f.common.logfile, stderr);
    log.line("starting debug logging");
    if (f.worker_info) {
        std::printf("%s\n", worker_info_line().c_str());
        return 0;
    }
    WorkerOptions options;
    if (!f.private_data_dir.empty()) {
        options.private_data_dir = f.private_data_dir;
    }
    options.delete_dir = f.delete_dir;
    if (f.max_unpacked > 0) {
        options.limits.max_unpacked_bytes = f.max_unpacked;
    }
    if (f.max_line > 0) {
        options.max_line_bytes = f.max_line;
    }
    if (f.keepalive >= 0) {
        options.keepalive_seconds = f.keepalive;
    } else if (const char* env = std::getenv("ANSIBLE_RUNNER_KEEPALIVE_SECONDS")) {
        // work() refuses a value out of range; text that is no number is 0, as atof.
        options.keepalive_seconds = util::parse_double(env).value_or(0);
    }
    // Not dumpable: what the job runs (as the same user, in the same container) cannot open
    // /proc/<worker>/fd/1 and write a stream of its own into ours, nor read our memory, without
    // CAP_SYS_PTRACE (docs/stream-trust.md). Its children are dumpable again after their exec.
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    Result<int> exit_code = arunner::work(STDIN_FILENO, STDOUT_FILENO, options);
    if (!exit_code) {
        // Already said in the stream, as ansible-runner's worker does.
        log.line("worker: " + exit_code.error().message);
        return 1;
    }
    log.line("worker: exit code " + std::to_string(*exit_code));
    return *exit_code;
}

int process_command(const std::vector<std::string>& args) {
    CommandLine line("arunner process");
    ProcessFlags f;
    add_process_flags(line, f);
    if (auto exit_code = parse(line, args, f.common)) {
        return *exit_code;
    }
    const std::vector<std::string>& positionals = f.positionals;
    if (positionals.size() > 1) {
        return line.usage_error("unrecognized arguments: " + positionals[1]);
    }
    ProcessorOptions options;
    if (positionals.empty()) {
        auto dir = util::make_temp_dir("arunner-process-");
        if (!dir) {
            std::fprintf(stderr, "arunner process: %s\n",
                         util::printable(dir.error().message).c_str());
            return 1;
        }
        options.private_data_dir = *dir;  // kept: it is where the results are
    } else {
        options.private_data_dir = util::absolute_path(positionals[0]);
        if (auto made = util::make_dirs(options.private_data_dir, 0700); !made) {
            std::fprintf(stderr, "arunner process: %s\n",
                         util::printable(made.error().message).c_str());
            return 1;
        }
    }
    // ansible-runner's CLI creates daemon.log for every command but run, transmit and worker.
    (void)util::write_file(options.private_data_dir / "daemon.log", "", 0600);
    if (!f.ident.empty()) {
        options.ident = f.ident;
    }
    options.quiet = f.quiet;
    if (f.max_unpacked > 0) {
        options.limits.max_unpacked_bytes = f.max_unpacked;
    }
    DebugLog log(f.common.debug, f.common.logfile);
    log.line("starting debug logging");
    if (log.enabled()) {
        options.callbacks.status_handler = [&log](const StatusUpdate& update) {
            log.line("status: " + std::string(to_string(update.status)));
        };
    }
    Result<ProcessResult> result = arunner::process(STDIN_FILENO, options);
    if (!result) {
        std::fprintf(stderr, "arunner process: %s\n",
                     util::printable(result.error().message).c_str());
        return 1;
    }
    return 0;
}

}  // namespace arunner::cli
