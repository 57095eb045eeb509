// Password prompts answered unattended, with real ansible-core on a pty: a vault prompt
// (--ask-vault-pass on an encrypted vars file), a become prompt (--ask-become-pass), from
// env/passwords and from the API's passwords option. The answers appear in no artifact and not
// on the console; a prompt nobody answers ends by idle_timeout with a message that names it; a
// pattern that does not compile is an error that names it, before anything runs.

#include <gtest/gtest.h>

#include <filesystem>

#include "arunner/runner.hpp"
#include "support/command.hpp"
#include "support/password_job.hpp"
#include "support/temp_dir.hpp"

namespace arunner::testing {
namespace {

namespace fs = std::filesystem;

TEST(Passwords, VaultAndBecomePromptsAreAnsweredFromEnvPasswords) {
    TempDir tmp;
    fs::path pdd = vault_pdd(tmp);
    write_file_text(pdd / "env/cmdline", "--ask-vault-pass --ask-become-pass");
    write_file_text(pdd / "env/passwords",
                    std::string("{\"^Vault password:\\\\s*?$\": \"") + kVaultPassword +
                        "\", \"^BECOME password:\\\\s*?$\": \"" + kBecomePassword + "\"}");
    CommandResult r = run_command(arunner({"run", pdd.string(), "-p", "site.yml", "-i", "pw1"}));
    fs::path art = pdd / "artifacts/pw1";
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(read_text(art / "status"), "successful");
    std::string out = read_text(art / "stdout");
    EXPECT_NE(out.find("BECOME password:"), std::string::npos) << out;
    EXPECT_NE(out.find("Vault password:"), std::string::npos) << out;
    // The right vault password decrypted the file.
    EXPECT_NE(out.find("value=the-decrypted-value-42"), std::string::npos) << out;
    EXPECT_NE(out.find("uid=0"), std::string::npos) << out;
    expect_secret_nowhere(art, r.out + r.err, kVaultPassword);
    expect_secret_nowhere(art, r.out + r.err, kBecomePassword);
}

TEST(Passwords, TheApiOptionAnswersAndIsNotWrittenToDisk) {
    TempDir tmp;
    fs::path pdd = vault_pdd(tmp);
    RunOptions options;
    options.private_data_dir = pdd;
    options.playbook = "site.yml";
    options.ident = "pw2";
    options.console_fd = -1;
    options.cmdline = "--ask-vault-pass";
    options.passwords = {{"Vault password:\\s*?$", kVaultPassword}};
    auto runner = run(options);
    ASSERT_TRUE(runner.ok()) << runner.error().message;
    EXPECT_EQ((*runner)->status(), JobStatus::successful);
    fs::path art = pdd / "artifacts/pw2";
    EXPECT_NE(read_text(art / "stdout").find("value=the-decrypted-value-42"), std::string::npos);
    EXPECT_FALSE(fs::exists(pdd / "env/passwords"));  // ansible-runner would write it there
    expect_secret_nowhere(pdd, "", kVaultPassword);   // the whole private data dir
}

TEST(Passwords, AWrongAnswerFailsAsAnsibleSaysAndIsNotRepeated) {
    TempDir tmp;
    fs::path pdd = vault_pdd(tmp);
    write_file_text(pdd / "env/cmdline", "--ask-vault-pass");
    write_file_text(pdd / "env/passwords", "{\"Vault password:\": \"not-the-password\"}");
    CommandResult r = run_command(arunner({"run", pdd.string(), "-p", "site.yml", "-i", "pw3"}));
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(read_text(pdd / "artifacts/pw3/status"), "failed");
    EXPECT_NE(read_text(pdd / "artifacts/pw3/stdout").find("Decryption failed"), std::string::npos);
}

TEST(Passwords, AnUnansweredPromptEndsByIdleTimeoutAndSaysWhichPrompt) {
    TempDir tmp;
    fs::path pdd = vault_pdd(tmp);
    write_file_text(pdd / "env/cmdline", "--ask-vault-pass");
    write_file_text(pdd / "env/settings", "{\"idle_timeout\": 3}");
    CommandResult r = run_command(arunner({"run", pdd.string(), "-p", "site.yml", "-i", "pw4"}));
    EXPECT_EQ(r.exit_code, 254) << r.out << r.err;
    EXPECT_EQ(read_text(pdd / "artifacts/pw4/status"), "timeout");
    std::string out = read_text(pdd / "artifacts/pw4/stdout");
    EXPECT_NE(out.find("arunner: idle_timeout (3 s) ended the job while a prompt waited for "
                       "input: \"Vault password:\"; there is no env/passwords to answer it"),
              std::string::npos)
        << out;
    EXPECT_NE(r.out.find("Vault password:\"; there is no env/passwords"), std::string::npos);
}

TEST(Passwords, APatternThatDoesNotCompileIsAnErrorNamingIt) {
    TempDir tmp;
    fs::path pdd = vault_pdd(tmp);
    write_file_text(pdd / "env/passwords", "{\"Vault (password\": \"x-secret-x\"}");
    CommandResult r = run_command(arunner({"run", pdd.string(), "-p", "site.yml", "-i", "pw5"}));
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    std::string all = r.out + r.err;
    EXPECT_NE(all.find("'Vault (password' is not a valid regular expression"), std::string::npos)
        << all;
    EXPECT_EQ(all.find("x-secret-x"), std::string::npos);
    // Nothing ran: no stdout of a playbook.
    EXPECT_EQ(read_text(pdd / "artifacts/pw5/stdout").find("PLAY"), std::string::npos);
}

TEST(Passwords, AnAnswerThatIsNotAStringIsAnErrorNamingThePattern) {
    TempDir tmp;
    fs::path pdd = vault_pdd(tmp);
    write_file_text(pdd / "env/passwords", "{\"Vault password:\": [\"a\"]}");
    CommandResult r = run_command(arunner({"run", pdd.string(), "-p", "site.yml", "-i", "pw6"}));
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE((r.out + r.err)
                  .find("env/passwords: the answer for 'Vault password:' must be a "
                        "string, not array"),
              std::string::npos)
        << r.out << r.err;
}

// A transmitted job's prompts are answered by the worker, whoever transmitted it: env/passwords
// travels in the private data dir of ansible-runner's stream as of arunner's.
TEST(Passwords, TheWorkerAnswersATransmittedJobsPrompts) {
    for (const char* transmitter : {ARUNNER_BINARY, "/usr/bin/ansible-runner"}) {
        SCOPED_TRACE(transmitter);
        TempDir tmp;
        fs::path pdd = vault_pdd(tmp);
        write_file_text(pdd / "env/cmdline", "--ask-vault-pass");
        write_file_text(pdd / "env/passwords",
                        std::string("{\"Vault password:\": \"") + kVaultPassword + "\"}");
        fs::path stream = tmp.path() / "result.stream";
        fs::path out = tmp.path() / "processed";
        std::string pipeline = "'" + std::string(transmitter) + "' transmit '" + pdd.string() +
                               "' -p site.yml --ident w1 | '" + ARUNNER_BINARY + "' worker > '" +
                               stream.string() + "'";
        CommandResult worked = run_command({"/bin/sh", "-c", pipeline});
        EXPECT_EQ(worked.exit_code, 0) << worked.out << worked.err;
        CommandResult processed =
            run_command({"/bin/sh", "-c",
                         "'" + std::string(ARUNNER_BINARY) + "' process '" + out.string() +
                             "' --ident w1 < '" + stream.string() + "'"});
        EXPECT_EQ(processed.exit_code, 0) << processed.err;
        fs::path art = out / "artifacts/w1";
        EXPECT_EQ(read_text(art / "status"), "successful");
        EXPECT_NE(read_text(art / "stdout").find("value=the-decrypted-value-42"),
                  std::string::npos);
        EXPECT_EQ(read_text(stream).find(kVaultPassword), std::string::npos);
        expect_secret_nowhere(art, processed.out, kVaultPassword);
    }
}

}  // namespace
}  // namespace arunner::testing
