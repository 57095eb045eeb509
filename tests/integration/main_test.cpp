// The arunner binary's --help for each command: every flag the command accepts is listed, and
// help exits 0 (src/cli/main.cpp, commands.cpp and usage.cpp).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/command.hpp"
#include "support/temp_dir.hpp"

namespace arunner::testing {
namespace {

struct HelpCase {
    std::vector<std::string> command;
    std::vector<std::string> flags;
};

const std::vector<std::string> kCommon = {"-h, --help", "--version", "--debug",
                                          "--logfile LOGFILE"};
const std::vector<std::string> kRunner = {"-b BINARY, --binary BINARY",
                                          "-i IDENT, --ident IDENT",
                                          "--rotate-artifacts ROTATE_ARTIFACTS",
                                          "--artifact-dir ARTIFACT_DIR",
                                          "--project-dir PROJECT_DIR",
                                          "--inventory INVENTORY",
                                          "-j, --json",
                                          "--omit-event-data",
                                          "--only-failed-event-data",
                                          "--omit-env-files",
                                          "-q, --quiet",
                                          "-v "};
const std::vector<std::string> kJob = {"-p PLAYBOOK, --playbook PLAYBOOK",
                                       "-m MODULE, --module MODULE",
                                       "-r ROLE, --role ROLE",
                                       "--limit LIMIT",
                                       "--cmdline CMDLINE",
                                       "--hosts HOSTS",
                                       "--forks FORKS",
                                       "--roles-path ROLES_PATH",
                                       "--role-vars ROLE_VARS",
                                       "--role-skip-facts",
                                       "-a MODULE_ARGS, --args MODULE_ARGS",
                                       "--container-image CONTAINER_IMAGE",
                                       "--container-volume-mount CONTAINER_VOLUME_MOUNTS",
                                       "--container-option CONTAINER_OPTIONS",
                                       "--container-workdir CONTAINER_WORKDIR",
                                       "--container-engine-socket CONTAINER_ENGINE_SOCKET",
                                       "private_data_dir"};
const std::vector<std::string> kIsolation = {
    "--process-isolation ",
    "--process-isolation-executable PROCESS_ISOLATION_EXECUTABLE",
    "--process-isolation-path PROCESS_ISOLATION_PATH",
    "--process-isolation-hide-paths [PROCESS_ISOLATION_HIDE_PATHS ...]",
    "--process-isolation-show-paths [PROCESS_ISOLATION_SHOW_PATHS ...]",
    "--process-isolation-ro-paths [PROCESS_ISOLATION_RO_PATHS ...]",
    "--directory-isolation-base-path DIRECTORY_ISOLATION_BASE_PATH"};

std::vector<std::string> join(std::initializer_list<std::vector<std::string>> lists) {
    std::vector<std::string> all;
    for (const auto& list : lists) {
        all.insert(all.end(), list.begin(), list.end());
    }
    return all;
}

TEST(Main, EachCommandsHelpListsEveryFlagItAcceptsAndExitsZero) {
    const std::vector<HelpCase> cases = {
        {{"--help"},
         join({kCommon,
               kRunner,
               {"{run,start,stop,is-alive,transmit,worker,process,command,doc,inventory,config,"
                "roles}",
                "  run ", "  transmit ", "  worker ", "  process ", "  command ", "  doc "}})},
        {{"run", "--help"}, join({kCommon, kRunner, kJob, kIsolation})},
        {{"transmit", "--help"}, join({kCommon, kRunner, kJob})},
        {{"worker", "--help"},
         join({kCommon,
               {"--private-data-dir PRIVATE_DATA_DIR", "--worker-info", "--delete",
                "--keepalive-seconds KEEPALIVE_SECONDS", "--max-unpacked-bytes MAX_UNPACKED_BYTES",
                "--max-line-bytes MAX_LINE_BYTES", "{cleanup}", "  cleanup "}})},
        {{"worker", "cleanup", "--help"},
         join({kCommon,
               {"--file-pattern FILE_PATTERN", "--exclude-strings [EXCLUDE_STRINGS ...]",
                "--remove-images [REMOVE_IMAGES ...]", "--grace-period GRACE_PERIOD",
                "--image-prune", "--containers",
                "--process-isolation-executable PROCESS_ISOLATION_EXECUTABLE"}})},
        {{"process", "--help"},
         join({kCommon,
               {"private_data_dir", "-i IDENT, --ident IDENT",
                "--max-unpacked-bytes MAX_UNPACKED_BYTES", "-q, --quiet"}})},
    };
    for (const HelpCase& c : cases) {
        std::vector<std::string> argv = {ARUNNER_BINARY};
        argv.insert(argv.end(), c.command.begin(), c.command.end());
        CommandResult r = run_command(argv);
        std::string what = c.command[0];
        EXPECT_EQ(r.exit_code, 0) << what;
        EXPECT_EQ(r.err, "") << what;
        EXPECT_EQ(r.out.rfind("usage: arunner", 0), 0U) << r.out;
        for (const std::string& flag : c.flags) {
            EXPECT_NE(r.out.find("\n  " + flag), std::string::npos)
                << what << " --help lacks " << flag << ":\n"
                << r.out;
        }
    }
    // transmit takes no isolation flags, as ansible-runner.
    CommandResult transmit = run_command({ARUNNER_BINARY, "transmit", "--help"});
    EXPECT_EQ(transmit.out.find("--process-isolation"), std::string::npos) << transmit.out;
}

TEST(Main, UsageOfAUsageErrorNamesTheContainerFlags) {
    CommandResult r = run_command({ARUNNER_BINARY, "run"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("[--container-option CONTAINER_OPTIONS]"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("\narunner run: error: the following arguments are required: "
                         "private_data_dir\n"),
              std::string::npos)
        << r.err;
}

TEST(Main, FlagsBeforeTheCommandGoToIt) {
    CommandResult r = run_command({ARUNNER_BINARY, "--debug", "-vv", "--logfile", "run"});
    // "run" is --logfile's value, so there is no command left.
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("arunner: error: the following arguments are required: command"),
              std::string::npos)
        << r.err;
    CommandResult help = run_command({ARUNNER_BINARY, "-i", "x", "-vv", "run", "--help"});
    EXPECT_EQ(help.exit_code, 0) << help.err;
    EXPECT_EQ(help.out.rfind("usage: arunner run ", 0), 0U) << help.out;
    CommandResult worker = run_command({ARUNNER_BINARY, "-i", "x", "worker", "--worker-info"});
    EXPECT_EQ(worker.exit_code, 2) << "worker takes no -i";
}

TEST(Main, WorkerAndProcessAppendTheirDebugLinesToTheLogfile) {
    TempDir tmp;
    const std::string log = (tmp / "debug.log").string();
    for (int i = 0; i < 2; ++i) {
        CommandResult r =
            run_command({ARUNNER_BINARY, "worker", "--logfile", log, "--worker-info"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(r.out.rfind("{cpu_count: ", 0), 0U) << "nothing but the info on stdout";
    }
    CommandResult processed =
        run_command({ARUNNER_BINARY, "process", (tmp / "pdd").string(), "--logfile", log});
    // No worker stream on stdin (/dev/null): a cut stream, after the log is started.
    EXPECT_EQ(processed.exit_code, 1) << processed.err;
    std::string text = read_text(log);
    size_t lines = 0;
    for (size_t at = text.find(": starting debug logging\n"); at != std::string::npos;
         at = text.find(": starting debug logging\n", at + 1)) {
        ++lines;
    }
    EXPECT_EQ(lines, 3U) << text;
    // --debug: on stderr for the worker, whose stdout is the stream.
    CommandResult debug = run_command({ARUNNER_BINARY, "worker", "--debug", "--worker-info"});
    EXPECT_EQ(debug.err.rfind("starting debug logging\n", 0), 0U) << debug.err;
}

}  // namespace
}  // namespace arunner::testing
