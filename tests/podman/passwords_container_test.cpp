// Password prompts in a process-isolated job: the answers go in on the container's stdin (its
// tty, with echo turned off first), on podman and on docker, and appear nowhere.

#include <gtest/gtest.h>
#include <unistd.h>

#include "support/command.hpp"
#include "support/password_job.hpp"
#include "support/podman_service.hpp"
#include "support/temp_dir.hpp"

namespace arunner::testing {
namespace {

class ContainerPasswords : public EngineSuite {};

TEST_F(ContainerPasswords, VaultAndBecomePromptsAreAnsweredInTheContainer) {
    TempDir tmp;
    fs::path pdd = vault_pdd(tmp);
    write_file_text(pdd / "env/cmdline", "--ask-vault-pass --ask-become-pass");
    write_file_text(pdd / "env/passwords",
                    std::string("{\"^Vault password:\\\\s*?$\": \"") + kVaultPassword +
                        "\", \"^BECOME password:\\\\s*?$\": \"" + kBecomePassword + "\"}");
    const std::string ident = "t" + std::to_string(::getpid()) + "_pw";
    CommandResult r = run_command(container_run(pdd, ident, "--process-isolation"));
    fs::path art = pdd / "artifacts" / ident;
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(read_text(art / "status"), "successful");
    std::string out = read_text(art / "stdout");
    EXPECT_NE(out.find("Vault password:"), std::string::npos) << out;
    EXPECT_NE(out.find("value=the-decrypted-value-42"), std::string::npos) << out;
    EXPECT_NE(out.find("uid=0"), std::string::npos) << out;
    expect_secret_nowhere(art, r.out + r.err, kVaultPassword);
    expect_secret_nowhere(art, r.out + r.err, kBecomePassword);
    auto left = service_->engine().list("arunner.ident=" + ident);
    ASSERT_TRUE(left.ok()) << left.error().message;
    EXPECT_TRUE(left->empty());
}

TEST_F(ContainerPasswords, AnUnansweredPromptInTheContainerEndsByIdleTimeout) {
    TempDir tmp;
    fs::path pdd = vault_pdd(tmp);
    write_file_text(pdd / "env/cmdline", "--ask-vault-pass");
    write_file_text(pdd / "env/settings", "{\"idle_timeout\": 5}");
    const std::string ident = "t" + std::to_string(::getpid()) + "_pwidle";
    CommandResult r = run_command(container_run(pdd, ident, "--process-isolation"));
    EXPECT_EQ(r.exit_code, 254) << r.out << r.err;
    EXPECT_EQ(read_text(pdd / "artifacts" / ident / "status"), "timeout");
    EXPECT_NE(r.out.find("a prompt waited for input: \"Vault password:\""), std::string::npos)
        << r.out;
    auto left = service_->engine().list("arunner.ident=" + ident);
    ASSERT_TRUE(left.ok()) << left.error().message;
    EXPECT_TRUE(left->empty());
}

// A worker container answers the prompts of the job streamed into it: env/passwords travels in
// the private data dir, the passwords option in the kwargs.
TEST_F(ContainerPasswords, AWorkerContainerAnswersThePrompts) {
    TempDir tmp;
    fs::path pdd = vault_pdd(tmp);
    write_file_text(pdd / "env/cmdline", "--ask-vault-pass");
    write_file_text(pdd / "env/passwords",
                    std::string("{\"Vault password:\": \"") + kVaultPassword + "\"}");
    const std::string ident = "t" + std::to_string(::getpid()) + "_pwworker";
    CommandResult r = run_command(container_run(pdd, ident, "--container-worker"));
    fs::path art = pdd / "artifacts" / ident;
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(read_text(art / "status"), "successful");
    EXPECT_NE(read_text(art / "stdout").find("value=the-decrypted-value-42"), std::string::npos);
    expect_secret_nowhere(art, r.out + r.err, kVaultPassword);
}

}  // namespace
}  // namespace arunner::testing
