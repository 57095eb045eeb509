// What an earlier job (or anyone who can write the private data dir) plants there is not
// followed out of it and cannot hang arunner's commands (docs/private-data-dir-trust.md), and
// the low items of that review through the CLI: each gets a clear error that names what is
// wrong, a non-zero exit, and the playbook does not run.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "support/command.hpp"
#include "support/fixture.hpp"
#include "support/temp_dir.hpp"

namespace arunner::testing {
namespace {

namespace fs = std::filesystem;

/// A private data dir whose playbook touches `marker` when it runs.
fs::path marking_job(const TempDir& tmp, const fs::path& marker) {
    fs::path pdd = tmp / "pdd";
    fs::create_directories(pdd / "inventory");
    fs::create_directories(pdd / "project");
    fs::create_directories(pdd / "env");
    std::ofstream(pdd / "inventory/hosts")
        << "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n";
    std::ofstream(pdd / "project/site.yml") << "- hosts: all\n"
                                               "  gather_facts: false\n"
                                               "  tasks:\n"
                                               "    - name: mark\n"
                                               "      file: path="
                                            << marker.string() << " state=touch\n";
    return pdd;
}

CommandResult run_job(const fs::path& pdd, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"run", pdd.string(), "-p", "site.yml", "-i", "one"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_command(arunner(args));
}

TEST(PrivateDataDirTrust, EnvFilesLinkedOutOfThePrivateDataDirAreRefused) {
    TempDir tmp;
    fs::path outside = tmp / "host-file";
    std::ofstream(outside) << "HOST_VALUE: from the host\n";
    for (const char* name : {"envvars", "ssh_key", "cmdline", "settings", "passwords"}) {
        SCOPED_TRACE(name);
        fs::path marker = tmp / (std::string("ran-") + name);
        fs::path pdd = marking_job(tmp, marker);
        fs::remove(pdd / "env" / name);
        fs::create_symlink(outside, pdd / "env" / name);
        CommandResult run = run_job(pdd);
        EXPECT_NE(run.exit_code, 0) << run.out;
        EXPECT_NE(run.err.find(std::string("env/") + name), std::string::npos) << run.err;
        EXPECT_FALSE(fs::exists(marker));
        EXPECT_EQ(run.out.find("from the host"), std::string::npos);
        fs::remove_all(pdd);
    }
}

TEST(PrivateDataDirTrust, AFifoAtDaemonLogOrPidDoesNotHangIsAliveOrStop) {
    TempDir tmp;
    for (const char* name : {"daemon.log", "pid"}) {
        SCOPED_TRACE(name);
        fs::path pdd = tmp / name;
        fs::create_directories(pdd);
        ASSERT_EQ(::mkfifo((pdd / name).c_str(), 0600), 0);
        for (const char* command : {"is-alive", "stop"}) {
            CommandResult result = run_command(arunner({command, pdd.string()}));
            EXPECT_NE(result.exit_code, 0) << command;
            if (std::string(command) == "stop") {
                EXPECT_NE(result.err.find(name), std::string::npos) << result.err;
            }
        }
    }
}

TEST(PrivateDataDirTrust, AFactCacheLinkedOutOfArtIsReplacedBeforeTheNextRun) {
    TempDir tmp;
    fs::path marker = tmp / "ran";
    fs::path pdd = marking_job(tmp, marker);
    std::ofstream(pdd / "project/site.yml") << "- hosts: all\n"
                                               "  gather_facts: false\n"
                                               "  tasks:\n"
                                               "    - set_fact:\n"
                                               "        cached_here: 1\n"
                                               "        cacheable: true\n";
    fs::path outside = tmp / "outside";
    fs::create_directories(outside);
    fs::create_directories(pdd / "artifacts/one");
    fs::create_directory_symlink(outside, pdd / "artifacts/one/fact_cache");
    CommandResult run = run_job(pdd);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_TRUE(fs::is_empty(outside));
    fs::path cache = pdd / "artifacts/one/fact_cache";
    EXPECT_FALSE(fs::is_symlink(cache));
    EXPECT_TRUE(fs::exists(cache / "localhost")) << read_text(pdd / "artifacts/one/stdout");
}

TEST(PrivateDataDirTrust, EnvvarsNamesTheChildCouldNotGetAreRefused) {
    TempDir tmp;
    fs::path marker = tmp / "ran";
    fs::path pdd = marking_job(tmp, marker);
    std::ofstream(pdd / "env/envvars") << "\"ANSIBLE_STDOUT_CALLBACK=minimal\": \"1\"\n";
    CommandResult run = run_job(pdd);
    EXPECT_NE(run.exit_code, 0);
    EXPECT_NE(run.err.find("env/envvars"), std::string::npos) << run.err;
    EXPECT_FALSE(fs::exists(marker));
}

TEST(PrivateDataDirTrust, AnInvalidCmdlineIsRefusedAndNotKept) {
    TempDir tmp;
    fs::path marker = tmp / "ran";
    fs::path pdd = marking_job(tmp, marker);
    CommandResult run = run_job(pdd, {"--cmdline", "-e 'unclosed"});
    EXPECT_NE(run.exit_code, 0);
    EXPECT_NE(run.err.find("cmdline"), std::string::npos) << run.err;
    EXPECT_FALSE(fs::exists(pdd / "env/cmdline"));
    EXPECT_FALSE(fs::exists(marker));
    // The dir still runs.
    EXPECT_EQ(run_job(pdd).exit_code, 0);
    EXPECT_TRUE(fs::exists(marker));
}

TEST(PrivateDataDirTrust, ABadTmpdirIsAClearErrorForTheStreamCommands) {
    TempDir tmp;
    fs::path marker = tmp / "ran";
    fs::path pdd = marking_job(tmp, marker);
    const std::vector<std::pair<std::string, std::string>> bad_tmp = {
        {"TMPDIR", (tmp / "nonexistent").string()}};
    CommandResult sent = run_command(arunner({"transmit", pdd.string(), "-p", "site.yml"}));
    ASSERT_EQ(sent.exit_code, 0) << sent.err;
    fs::path stream = tmp / "stream";
    std::ofstream(stream, std::ios::binary) << sent.out;
    CommandResult worked = run_command(
        {"/bin/sh", "-c", std::string(ARUNNER_BINARY) + " worker < " + stream.string()}, bad_tmp);
    // As ansible-runner's worker: the error is a status line on the stream.
    EXPECT_NE(worked.exit_code, 0);
    EXPECT_NE(worked.out.find("\"status\": \"error\""), std::string::npos) << worked.out;
    EXPECT_NE(worked.out.find("TMPDIR names " + (tmp / "nonexistent").string()), std::string::npos)
        << worked.out;
    EXPECT_FALSE(fs::exists(marker));

    const std::string says = "TMPDIR names " + (tmp / "nonexistent").string();
    CommandResult bad_send =
        run_command(arunner({"transmit", pdd.string(), "-p", "site.yml"}), bad_tmp);
    EXPECT_EQ(bad_send.exit_code, 1) << bad_send.err;
    EXPECT_NE(bad_send.err.find(says), std::string::npos) << bad_send.err;
    EXPECT_TRUE(bad_send.out.empty()) << "nothing half-sent: " << bad_send.out.size() << " bytes";

    CommandResult good_work = run_command(
        {"/bin/sh", "-c", std::string(ARUNNER_BINARY) + " worker < " + stream.string()});
    ASSERT_EQ(good_work.exit_code, 0) << good_work.err;
    EXPECT_TRUE(fs::exists(marker));
    fs::path results = tmp / "results";
    std::ofstream(results, std::ios::binary) << good_work.out;
    // process without a dir makes one in TMPDIR; with a dir it spools the artifacts zip there.
    for (const std::string& where : {std::string(), " " + (tmp / "processed").string()}) {
        CommandResult processed = run_command(
            {"/bin/sh", "-c",
             std::string(ARUNNER_BINARY) + " process" + where + " < " + results.string()},
            bad_tmp);
        EXPECT_EQ(processed.exit_code, 1) << where << processed.out << processed.err;
        EXPECT_NE(processed.err.find(says), std::string::npos) << where << processed.err;
    }
    CommandResult cleaned = run_command(
        arunner({"worker", "cleanup", "--file-pattern", (tmp / "nothing-*").string()}), bad_tmp);
    EXPECT_EQ(cleaned.exit_code, 1) << cleaned.out << cleaned.err;
    EXPECT_NE(cleaned.err.find(says), std::string::npos) << cleaned.err;
}

TEST(PrivateDataDirTrust, TransmitRefusesAFileNameThatIsNotUtf8) {
    TempDir tmp;
    fs::path marker = tmp / "ran";
    fs::path pdd = marking_job(tmp, marker);
    std::ofstream(pdd / "project" / "caf\xe9.txt") << "latin-1\n";
    CommandResult sent = run_command(arunner({"transmit", pdd.string(), "-p", "site.yml"}));
    EXPECT_NE(sent.exit_code, 0);
    EXPECT_NE(sent.err.find("UTF-8"), std::string::npos) << sent.err;
    // The name is shown escaped, never raw.
    EXPECT_EQ(sent.err.find('\xe9'), std::string::npos);
}

}  // namespace
}  // namespace arunner::testing
