// cli/run_flags.cpp: the flags of run and transmit, their checks and the RunOptions they give.

#include "cli/run_flags.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/temp_dir.hpp"

namespace arunner::cli {
namespace {

namespace fs = std::filesystem;

/// Parses quietly; the exit code, or -1 with `parsed` set.
int parse(const std::vector<std::string>& args, ParsedRun& parsed, std::string* err = nullptr,
          bool isolation = true) {
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    auto result = parse_run_arguments(args, "arunner run", isolation);
    ::testing::internal::GetCapturedStdout();
    std::string stderr_text = ::testing::internal::GetCapturedStderr();
    if (err) {
        *err = stderr_text;
    }
    if (auto* code = std::get_if<int>(&result)) {
        return *code;
    }
    parsed = std::get<ParsedRun>(result);
    return -1;
}

TEST(RunFlags, FlagsBecomeRunOptions) {
    testing::TempDir tmp;
    ParsedRun parsed;
    ASSERT_EQ(parse({tmp.path().string(),
                     "-p",
                     "site.yml",
                     "-i",
                     "job1",
                     "--limit",
                     "h1",
                     "-vvv",
                     "--container-volume-mount",
                     "/a:/b",
                     "--container-volume-mount",
                     "/c:/d",
                     "--container-option=--network=host",
                     "--process-isolation",
                     "--debug",
                     "--logfile",
                     "/tmp/x.log",
                     "-j",
                     "--rotate-artifacts",
                     "3"},
                    parsed),
              -1);
    const RunOptions& o = parsed.options;
    EXPECT_EQ(o.private_data_dir, tmp.path());
    EXPECT_EQ(o.playbook, "site.yml");
    EXPECT_EQ(o.ident, "job1");
    EXPECT_EQ(o.limit, "h1");
    EXPECT_EQ(o.verbosity, 3);
    EXPECT_EQ(o.container_volume_mounts, (std::vector<std::string>{"/a:/b", "/c:/d"}));
    EXPECT_EQ(o.container_options, (std::vector<std::string>{"--network=host"}));
    EXPECT_TRUE(o.process_isolation);
    EXPECT_TRUE(o.json_mode);
    EXPECT_EQ(o.rotate_artifacts, 3);
    EXPECT_TRUE(parsed.debug);
    EXPECT_EQ(parsed.logfile, "/tmp/x.log");
}

TEST(RunFlags, TheSandboxsFlagsBecomeRunOptionsAndTransmitHasNone) {
    testing::TempDir tmp;
    ParsedRun parsed;
    ASSERT_EQ(parse({tmp.path().string(), "-p", "site.yml", "--process-isolation",
                     "--process-isolation-executable", "bwrap", "--process-isolation-path", "",
                     "--process-isolation-hide-paths", "/h1", "/h2",
                     "--process-isolation-show-paths", "/s", "--process-isolation-ro-paths", "/r",
                     "--directory-isolation-base-path", "/base"},
                    parsed),
              -1);
    const RunOptions& o = parsed.options;
    EXPECT_EQ(o.process_isolation_executable, "bwrap");
    EXPECT_EQ(o.process_isolation_path, fs::path("")) << "given empty: kept, refused later";
    EXPECT_EQ(o.process_isolation_hide_paths, (std::vector<std::string>{"/h1", "/h2"}));
    EXPECT_EQ(o.process_isolation_show_paths, std::vector<std::string>{"/s"});
    EXPECT_EQ(o.process_isolation_ro_paths, std::vector<std::string>{"/r"});
    EXPECT_EQ(o.directory_isolation_base_path, fs::path("/base"));

    ASSERT_EQ(parse({tmp.path().string(), "-p", "site.yml"}, parsed, nullptr, false), -1);
    EXPECT_FALSE(parsed.options.process_isolation_path);
    EXPECT_FALSE(parsed.options.directory_isolation_base_path);
}

TEST(RunFlags, UsageErrorsExitTwoInArgparsesWords) {
    ParsedRun parsed;
    std::string err;
    EXPECT_EQ(parse({}, parsed, &err), 2);
    EXPECT_NE(err.find("arunner run: error: the following arguments are required: "
                       "private_data_dir\n"),
              std::string::npos)
        << err;
    EXPECT_EQ(parse({"/tmp", "-p", "a.yml", "-m", "ping"}, parsed, &err), 2);
    EXPECT_NE(err.find("arunner run: error: argument -m/--module: not allowed with argument "
                       "-p/--playbook\n"),
              std::string::npos)
        << err;
    // argparse names the later flag first, whatever the spelling.
    EXPECT_EQ(parse({"/tmp", "-r", "r1", "--playbook=a.yml"}, parsed, &err), 2);
    EXPECT_NE(err.find("arunner run: error: argument -p/--playbook: not allowed with argument "
                       "-r/--role\n"),
              std::string::npos)
        << err;
    EXPECT_EQ(parse({"/tmp", "/other", "-p", "a.yml"}, parsed, &err), 2);
    EXPECT_NE(err.find("arunner run: error: unrecognized arguments: /other\n"), std::string::npos)
        << err;
    EXPECT_EQ(parse({"/tmp", "-p", "a.yml", "--process-isolation"}, parsed, &err, false), 2)
        << "transmit takes no isolation flags";
}

TEST(RunFlags, FailedChecksExitOneWithAnsibleRunnersMessages) {
    ParsedRun parsed;
    std::string err;
    EXPECT_EQ(parse({"/tmp", "-p", "a.yml", "--hosts", "h"}, parsed, &err), 1);
    EXPECT_EQ(err, "The --hosts option can only be used with -m or -r\n");
    EXPECT_EQ(parse({"/tmp", "-p", "a.yml", "--inventory", "/no/such/inventory"}, parsed, &err), 1);
    EXPECT_EQ(err, "Value for --inventory does not appear to be a valid path.\n");
}

TEST(RunFlags, RoleFlagsBecomeTheRoleOptionsAndTheDirIsCreated) {
    testing::TempDir tmp;
    fs::path pdd = tmp.path() / "new" / "pdd";
    ParsedRun parsed;
    ASSERT_EQ(parse({pdd.string(), "-r", "web", "--hosts", "h1", "--role-vars",
                     "port=8080 name=web1 on=True ratio=0.5 list=[1,2] quoted='x' none=None",
                     "--role-skip-facts", "--roles-path", "/opt/roles"},
                    parsed),
              -1);
    const RunOptions& o = parsed.options;
    EXPECT_EQ(o.role, "web");
    EXPECT_EQ(o.role_hosts, "h1");
    EXPECT_FALSE(o.host_pattern) << "--hosts with -r is the play's hosts, not a module pattern";
    EXPECT_EQ(o.role_vars.dump(),
              R"({"port":8080,"name":"web1","on":true,"ratio":0.5,"list":[1,2],"quoted":"x",)"
              R"("none":null})")
        << "values read as Python literals, as ansible-runner's ast.literal_eval";
    EXPECT_TRUE(o.role_skip_facts);
    EXPECT_EQ(o.roles_path, "/opt/roles");
    struct stat st {};
    ASSERT_EQ(::stat(pdd.c_str(), &st), 0) << "a missing private data dir is created";
    EXPECT_EQ(st.st_mode & 07777, 0700u);
}

TEST(RunFlags, RoleVarsThatAreNotPairsAreAnErrorNamingThePair) {
    testing::TempDir tmp;
    ParsedRun parsed;
    std::string err;
    EXPECT_EQ(
        parse({tmp.path().string(), "-r", "web", "--role-vars", "a=1 oops b=2"}, parsed, &err), 1);
    EXPECT_NE(err.find("--role-vars: 'oops' is not KEY=VALUE"), std::string::npos) << err;
}

TEST(RunFlags, HelpListsEveryFlagOnceAndIsolationOnlyForRun) {
    std::string run = run_help("arunner run", true);
    std::string transmit = run_help("arunner transmit", false);
    for (const char* flag :
         {"\n  --container-image CONTAINER_IMAGE", "\n  --container-option CONTAINER_OPTIONS",
          "\n  -p PLAYBOOK, ", "\n  --logfile LOGFILE", "\n  -a MODULE_ARGS, --args MODULE_ARGS"}) {
        EXPECT_NE(run.find(flag), std::string::npos) << flag;
        EXPECT_EQ(run.find(flag), run.rfind(flag)) << flag << " listed twice";
        EXPECT_NE(transmit.find(flag), std::string::npos) << flag;
    }
    EXPECT_NE(run.find("\n  --process-isolation "), std::string::npos);
    EXPECT_EQ(transmit.find("--process-isolation"), std::string::npos);
    EXPECT_EQ(run.rfind("usage: arunner run [-h] [--process-isolation]\n", 0), 0U) << run;
}

TEST(RunFlags, VersionPrintsTheVersionAndExitsZero) {
    ParsedRun parsed;
    EXPECT_EQ(parse({"--version"}, parsed), 0);
}

}  // namespace
}  // namespace arunner::cli
