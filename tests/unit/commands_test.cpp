// cli/commands.cpp: the top of the command line, the commands and their dispatch.

#include "cli/commands.hpp"

#include <gtest/gtest.h>

#include "cli/usage.hpp"
#include "support/temp_dir.hpp"

namespace arunner::cli {
namespace {

struct Outcome {
    int exit_code;
    std::string out;
    std::string err;
};

Outcome run(const std::vector<std::string>& args) {
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    int code = main_command(args);
    std::string out = ::testing::internal::GetCapturedStdout();
    return {code, out, ::testing::internal::GetCapturedStderr()};
}

TEST(Commands, NoCommandPrintsTheCommonCommandsAndAUsageError) {
    Outcome none = run({});
    EXPECT_EQ(none.exit_code, kUsageExit);
    EXPECT_EQ(none.out, common_commands_text());
    EXPECT_NE(none.err.find("\narunner: error: the following arguments are required: command\n"),
              std::string::npos)
        << none.err;
    Outcome flags_only = run({"--debug", "-q"});
    EXPECT_EQ(flags_only.exit_code, kUsageExit);
    EXPECT_NE(flags_only.err.find("the following arguments are required: command"),
              std::string::npos);
}

TEST(Commands, AnUnknownCommandIsAnInvalidChoice) {
    Outcome r = run({"frobnicate"});
    EXPECT_EQ(r.exit_code, kUsageExit);
    EXPECT_NE(r.err.find("arunner: error: argument command: invalid choice: 'frobnicate' (choose "
                         "from 'run', 'start', 'stop', 'is-alive', 'transmit', 'worker', "
                         "'process', 'command', 'doc', 'inventory', 'config', 'roles')\n"),
              std::string::npos)
        << r.err;
}

TEST(Commands, StopIsDispatchedWithTheFlagsGivenBeforeIt) {
    arunner::testing::TempDir tmp;
    Outcome r = run({"--debug", "stop", (tmp / "pdd").string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out, "starting debug logging\n");
    EXPECT_EQ(r.err, "arunner stop: no daemon to stop: " + (tmp / "pdd/pid").string() +
                         " does not exist\n");
}

TEST(Commands, HelpAndVersionWithoutACommand) {
    Outcome help = run({"--help"});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_EQ(help.out, top_level_help());
    for (const char* text : {"    run ", "    worker ", "    process ", "    transmit ",
                             "\n  --logfile LOGFILE", "\n  -b BINARY, --binary BINARY"}) {
        EXPECT_NE(help.out.find(text), std::string::npos) << text;
    }
    Outcome version = run({"--version"});
    EXPECT_EQ(version.exit_code, 0);
    EXPECT_EQ(version.out, "0.1.0\n");
}

}  // namespace
}  // namespace arunner::cli
