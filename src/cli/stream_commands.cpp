#include "cli/stream_commands.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <variant>

#include "arunner/version.hpp"
#include "cli/run_flags.hpp"
#include "cli/usage.hpp"
#include "cli/worker_info.hpp"
#include "config/runner_settings.hpp"
#include "isolation/container_sweep.hpp"
#include "stream/image_cleanup.hpp"
#include "stream/processor.hpp"
#include "stream/transmitter.hpp"
#include "stream/worker.hpp"
#include "stream/worker_cleanup.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"

namespace arunner::cli {
namespace {

/// Parses with CLI11 and argparse-style errors; returns an exit code to leave with, or -1.
int parse(CLI::App& app, const std::vector<std::string>& args, const char* prog, bool& version) {
    app.add_flag("--version", version);
    try {
        std::vector<std::string> reversed(args.rbegin(), args.rend());
        app.parse(reversed);
    } catch (const CLI::CallForHelp&) {
        std::fputs(app.help().c_str(), stdout);
        return 0;
    } catch (const CLI::ParseError& e) {
        return usage_error(prog, e.what());
    }
    if (version) {
        std::printf("%s\n", arunner::version());
        return 0;
    }
    return -1;
}

int worker_cleanup_command(const std::vector<std::string>& args) {
    const char* prog = "arunner worker cleanup";
    CLI::App app("Cleanup private_data_dir patterns from prior jobs", prog);
    stream::CleanupOptions options;
    std::vector<std::string> remove_images;
    bool image_prune = false;
    bool containers = false;
    std::string executable = "podman";
    bool version = false;
    app.add_option("--file-pattern", options.file_pattern);
    app.add_option("--exclude-strings", options.exclude_strings);
    app.add_option("--grace-period", options.grace_period_minutes);
    app.add_option("--remove-images", remove_images);
    app.add_flag("--image-prune", image_prune);
    app.add_flag("--containers", containers);  // arunner's own: containers of a dead arunner
    app.add_option("--process-isolation-executable", executable);
    if (int exit_code = parse(app, args, prog, version); exit_code >= 0) {
        return exit_code;
    }
    auto dirs = stream::cleanup_private_data_dirs(options, stdout);
    if (!dirs) {
        std::fprintf(stderr, "%s\n", dirs.error().message.c_str());
        return 1;
    }
    int images = 0;
    bool pruned = false;
    if (!remove_images.empty()) {
        auto removed = stream::remove_images(remove_images, executable, stdout);
        if (!removed) {
            std::fprintf(stderr, "arunner worker cleanup: %s\n", removed.error().message.c_str());
            return 1;
        }
        images = *removed;
        if (images > 0) {
            std::printf("Removed %d image(s)\n", images);
        }
    }
    if (image_prune) {
        auto result = stream::prune_images(executable, stdout);
        if (!result) {
            std::fprintf(stderr, "arunner worker cleanup: %s\n", result.error().message.c_str());
            return 1;
        }
        pruned = *result;
        if (pruned) {
            std::printf("Pruned images\n");
        }
    }
    int swept = 0;
    if (containers) {
        auto result = isolation::cleanup_orphaned_containers(executable, stdout);
        if (!result) {
            std::fprintf(stderr, "arunner worker cleanup: %s\n", result.error().message.c_str());
            return 1;
        }
        swept = *result;
        if (swept > 0) {
            std::printf("Removed %d container(s)\n", swept);
        }
    }
    bool changed = dirs->changed || images > 0 || pruned || swept > 0;
    std::printf("(changed: %s)\n", changed ? "True" : "False");
    return 0;
}

}  // namespace

int transmit_command(const std::vector<std::string>& args) {
    auto parsed = parse_run_arguments(args, "arunner transmit", false);
    if (auto* exit_code = std::get_if<int>(&parsed)) {
        return *exit_code;
    }
    Status sent = stream::transmit(std::get<ParsedRun>(parsed).options, STDOUT_FILENO);
    if (!sent) {
        std::fprintf(stderr, "arunner transmit: %s\n", sent.error().message.c_str());
        return 1;
    }
    return 0;
}

int worker_command(const std::vector<std::string>& args) {
    const char* prog = "arunner worker";
    if (!args.empty() && args[0] == "cleanup") {
        return worker_cleanup_command(std::vector<std::string>(args.begin() + 1, args.end()));
    }
    CLI::App app("Execute work streamed from a controlling instance", prog);
    std::string private_data_dir;
    bool delete_dir = false;
    bool worker_info = false;
    bool debug = false;
    std::string logfile;
    int keepalive = -1;
    bool version = false;
    app.add_option("--private-data-dir", private_data_dir);
    app.add_flag("--delete", delete_dir);
    app.add_flag("--worker-info", worker_info);
    app.add_option("--keepalive-seconds", keepalive);
    uint64_t max_unpacked = 0;
    app.add_option("--max-unpacked-bytes", max_unpacked,
                   "refuse a job whose zip unpacks to more (default 10 GiB)");
    uint64_t max_line = 0;
    app.add_option("--max-line-bytes", max_line,
                   "refuse a job stream line longer than this (default 64 MiB)");
    app.add_flag("--debug", debug);
    app.add_option("--logfile", logfile);
    if (int exit_code = parse(app, args, prog, version); exit_code >= 0) {
        return exit_code;
    }
    if (worker_info) {
        std::printf("%s\n", worker_info_line().c_str());
        return 0;
    }
    stream::WorkerOptions options;
    if (!private_data_dir.empty()) {
        options.private_data_dir = private_data_dir;
    }
    options.delete_dir = delete_dir;
    if (max_unpacked > 0) {
        options.limits.max_unpacked_bytes = max_unpacked;
    }
    if (max_line > 0) {
        options.max_line_bytes = max_line;
    }
    if (keepalive >= 0) {
        options.keepalive_seconds = keepalive;
    } else if (const char* env = std::getenv("ANSIBLE_RUNNER_KEEPALIVE_SECONDS")) {
        // run_worker refuses a value out of range; text that is no number is 0, as atof.
        options.keepalive_seconds = util::parse_double(env).value_or(0);
    }
    return stream::run_worker(STDIN_FILENO, STDOUT_FILENO, options);
}

int process_command(const std::vector<std::string>& args) {
    const char* prog = "arunner process";
    CLI::App app("Receive the output of remote work and distribute the results", prog);
    std::vector<std::string> positionals;
    std::string ident;
    bool debug = false;
    bool quiet = false;
    std::string logfile;
    bool version = false;
    app.add_option("private_data_dir", positionals);
    app.add_option("-i,--ident", ident);
    uint64_t max_unpacked = 0;
    app.add_option("--max-unpacked-bytes", max_unpacked,
                   "refuse artifacts that unpack to more (default 10 GiB)");
    app.add_flag("-q,--quiet", quiet);
    app.add_flag("--debug", debug);
    app.add_option("--logfile", logfile);
    if (int exit_code = parse(app, args, prog, version); exit_code >= 0) {
        return exit_code;
    }
    if (positionals.size() > 1) {
        return usage_error(prog, "unrecognized arguments: " + positionals[1]);
    }
    stream::ProcessorOptions options;
    if (positionals.empty()) {
        std::string templ = "/tmp/arunner-process-XXXXXX";
        if (::mkdtemp(templ.data()) == nullptr) {
            std::perror("arunner process: cannot create a temp dir");
            return 1;
        }
        options.private_data_dir = templ;  // kept: it is where the results are
    } else {
        options.private_data_dir = util::absolute_path(positionals[0]);
        if (auto made = util::make_dirs(options.private_data_dir, 0700); !made) {
            std::fprintf(stderr, "arunner process: %s\n", made.error().message.c_str());
            return 1;
        }
    }
    // ansible-runner's CLI creates daemon.log for every command but run, transmit and worker.
    (void)util::write_file(options.private_data_dir / "daemon.log", "", 0600);
    if (!ident.empty()) {
        options.ident = ident;
    }
    options.quiet = quiet;
    if (max_unpacked > 0) {
        options.limits.max_unpacked_bytes = max_unpacked;
    }
    stream::ProcessResult result = stream::run_processor(STDIN_FILENO, options);
    if (result.status == JobStatus::error) {
        std::fprintf(stderr, "arunner process: %s\n", result.error.c_str());
        return 1;
    }
    return 0;
}

}  // namespace arunner::cli
