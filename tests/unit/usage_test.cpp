// cli/usage.cpp: argparse's usage, help and error texts generated from a CLI11 definition.

#include "cli/usage.hpp"

#include <gtest/gtest.h>

namespace arunner::cli {
namespace {

TEST(Usage, ShortUsageFitsOnOneLine) {
    CommandLine line("prog");
    std::string name;
    bool flag = false;
    line.app().add_option("-n,--name", name, "the name");
    line.app().add_flag("--flag", flag, "a flag");
    EXPECT_EQ(line.usage(), "usage: prog [-h] [-n NAME] [--flag]\n");
}

TEST(Usage, LongUsageWrapsAsArgparseUnderTheProgramName) {
    CommandLine line("arunner process");
    std::vector<std::string> positionals;
    std::string ident, logfile;
    bool version = false, debug = false;
    line.app().add_option("private_data_dir", positionals, "base directory");
    line.app().add_option("-i,--ident", ident, "An identifier");
    line.app().add_flag("--version", version, "show program's version number and exit");
    line.app().add_flag("--debug", debug, "debug");
    line.app().add_option("--logfile", logfile, "log");
    // ansible-runner process's usage, with the program renamed.
    EXPECT_EQ(line.usage(),
              "usage: arunner process [-h] [-i IDENT] [--version] [--debug]\n"
              "                       [--logfile LOGFILE]\n"
              "                       private_data_dir\n");
}

TEST(Usage, ExclusiveFlagsShareOneBracketAndManyValuedOnesShowTheirEllipsis) {
    CommandLine line("prog");
    std::string p, m;
    std::vector<std::string> paths, mounts;
    auto* playbook = line.app().add_option("-p,--playbook", p);
    auto* module = line.app().add_option("-m,--module", m);
    playbook->excludes(module);
    line.app().add_option("--paths", paths);
    line.app().add_option("--mount", mounts)->allow_extra_args(false)->option_text("MOUNTS");
    EXPECT_EQ(line.usage(),
              "usage: prog [-h] [-p PLAYBOOK | -m MODULE] [--paths [PATHS ...]]\n"
              "            [--mount MOUNTS]\n");
}

TEST(Usage, HelpListsSectionsGroupsAndSubcommandsInArgparseColumns) {
    CommandLine line("prog", "What prog does.");
    std::string binary;
    bool json = false;
    line.app()
        .add_option("-b,--binary", binary,
                    "specifies the full path pointing to the Ansible "
                    "binaries (default=None)")
        ->group("Runner");
    line.app().add_flag("-j,--json", json, "output JSON")->group("Runner");
    line.describe_group("Runner", "runner options.");
    line.set_subcommands({"COMMAND [ARGS]", "Command to invoke", {{"run", "Run it"}}});
    EXPECT_EQ(line.help(),
              "usage: prog [-h] [-b BINARY] [-j] {run} ...\n"
              "\n"
              "What prog does.\n"
              "\n"
              "options:\n"
              "  -h, --help            show this help message and exit\n"
              "\n"
              "subcommands:\n"
              "  COMMAND [ARGS]\n"
              "\n"
              "  {run}                 Command to invoke\n"
              "    run                 Run it\n"
              "\n"
              "Runner:\n"
              "  runner options.\n"
              "\n"
              "  -b BINARY, --binary BINARY\n"
              "                        specifies the full path pointing to the Ansible\n"
              "                        binaries (default=None)\n"
              "  -j, --json            output JSON\n");
}

TEST(Usage, ErrorsPrintTheUsageAndArgparsesLineAndExitTwo) {
    CommandLine line("prog");
    ::testing::internal::CaptureStderr();
    int code = line.usage_error("the following arguments are required: command");
    EXPECT_EQ(code, kUsageExit);
    EXPECT_EQ(::testing::internal::GetCapturedStderr(),
              "usage: prog [-h]\nprog: error: the following arguments are required: command\n");
}

TEST(Usage, ParseAnswersHelpWithZeroAndBadFlagsWithTwo) {
    CommandLine help("prog");
    ::testing::internal::CaptureStdout();
    EXPECT_EQ(help.parse({"--help"}), 0);
    EXPECT_EQ(::testing::internal::GetCapturedStdout(), help.help());

    CommandLine bad("prog");
    ::testing::internal::CaptureStderr();
    EXPECT_EQ(bad.parse({"--nope"}, true), kUsageExit);
    EXPECT_NE(
        ::testing::internal::GetCapturedStderr().find(
            "usage: prog [-h]\nprog: error: The following argument was not expected: --nope\n"),
        std::string::npos);

    CommandLine fine("prog");
    bool flag = false;
    fine.app().add_flag("--flag", flag);
    EXPECT_EQ(fine.parse({"--flag"}), std::nullopt);
    EXPECT_TRUE(flag);
}

}  // namespace
}  // namespace arunner::cli
