#include "config/job_config.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "support/temp_dir.hpp"

namespace arunner::config {
namespace {

namespace fs = std::filesystem;
using Words = std::vector<std::string>;
using Json = nlohmann::ordered_json;

void write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

RunOptions playbook_options(const fs::path& pdd) {
    RunOptions options;
    options.private_data_dir = pdd;
    options.playbook = "site.yml";
    options.ident = "job1";
    return options;
}

TEST(JobConfig, DefaultLayoutGivesAnsibleRunnersCommandCwdAndArtifactDir) {
    testing::TempDir pdd;
    write(pdd / "project/site.yml", "- hosts: all\n");
    write(pdd / "inventory/hosts", "localhost\n");
    auto job = prepare_job(playbook_options(pdd.path()));
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(job->command,
              (Words{"ansible-playbook", "-i", (pdd / "inventory").string(), "site.yml"}));
    EXPECT_EQ(job->cwd, pdd / "project");
    EXPECT_EQ(job->artifact_dir, pdd / "artifacts/job1");
    EXPECT_EQ(job->fact_cache_dir, pdd / "artifacts/job1/fact_cache");
    EXPECT_EQ(job->env.get("AWX_ISOLATED_DATA_DIR"), (pdd / "artifacts/job1").string());
    EXPECT_FALSE(job->job_timeout.has_value());
    EXPECT_FALSE(job->idle_timeout.has_value());
    EXPECT_EQ(job->pexpect_timeout, 5.0);
}

TEST(JobConfig, EnvFilesShapeTheRun) {
    testing::TempDir pdd;
    write(pdd / "project/site.yml", "- hosts: all\n");
    write(pdd / "env/envvars", "FOO: bar\nFLAG: yes\nNUM: 3\n");
    write(pdd / "env/extravars", "{\"a\": 1}");
    write(pdd / "env/cmdline", "--check --tags 'a b'");
    write(pdd / "env/settings",
          "{\"job_timeout\": 30, \"idle_timeout\": 7, \"suppress_ansible_output\": true}");
    auto job = prepare_job(playbook_options(pdd.path()));
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(job->command, (Words{"ansible-playbook", "--check", "--tags", "a b", "-e",
                                   "@" + (pdd / "env/extravars").string(), "site.yml"}));
    EXPECT_EQ(job->env.get("FOO"), "bar");
    EXPECT_EQ(job->env.get("FLAG"), "True");
    EXPECT_EQ(job->env.get("NUM"), "3");
    EXPECT_EQ(job->job_timeout, 30.0);
    EXPECT_EQ(job->idle_timeout, 7.0);
    EXPECT_TRUE(job->suppress_ansible_output);
}

TEST(JobConfig, TimeoutOptionOverridesTheSetting) {
    testing::TempDir pdd;
    write(pdd / "env/settings", "job_timeout: 30\n");
    RunOptions options = playbook_options(pdd.path());
    options.timeout = 2.9;
    auto job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(job->job_timeout, 2.0);
}

TEST(JobConfig, CmdlineOptionIsDumpedToEnvCmdlineOnlyWhenAbsent) {
    testing::TempDir pdd;
    RunOptions options = playbook_options(pdd.path());
    options.cmdline = "--check";
    auto job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(job->command[1], "--check");
    std::ifstream in(pdd / "env/cmdline");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(text, "--check");

    options.cmdline = "--diff";
    job = prepare_job(options);
    ASSERT_TRUE(job.ok());
    EXPECT_EQ(job->command[1], "--diff");  // the option still wins for this run
    std::ifstream again(pdd / "env/cmdline");
    std::string kept((std::istreambuf_iterator<char>(again)), {});
    EXPECT_EQ(kept, "--check");
}

TEST(JobConfig, SuppressEnvFilesWritesNothing) {
    testing::TempDir pdd;
    RunOptions options = playbook_options(pdd.path());
    options.cmdline = "--check";
    options.suppress_env_files = true;
    ASSERT_TRUE(prepare_job(options).ok());
    EXPECT_FALSE(fs::exists(pdd / "env/cmdline"));
}

TEST(JobConfig, ArgsFileIsTheWholeCommand) {
    testing::TempDir pdd;
    write(pdd / "args", "echo 'hello world'");
    auto job = prepare_job(playbook_options(pdd.path()));
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(job->command, (Words{"echo", "hello world"}));
    EXPECT_EQ(job->cwd, pdd.path());  // no project dir
}

TEST(JobConfig, AdHocRunsFromThePrivateDataDir) {
    testing::TempDir pdd;
    fs::create_directories(pdd / "project");
    RunOptions options;
    options.private_data_dir = pdd.path();
    options.module = "ping";
    options.host_pattern = "localhost";
    auto job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(job->command, (Words{"ansible", "-m", "ping", "localhost"}));
    EXPECT_EQ(job->cwd, pdd.path());
    EXPECT_EQ(job->ident.size(), 36u);
}

TEST(JobConfig, BadInputIsAnErrorThatNamesIt) {
    testing::TempDir tmp;
    write(tmp / "afile-parent", "x");
    auto unmakeable = prepare_job(playbook_options(tmp / "afile-parent" / "pdd"));
    ASSERT_FALSE(unmakeable.ok()) << "a missing dir is created, unless it cannot be";
    EXPECT_NE(unmakeable.error().message.find("afile-parent"), std::string::npos)
        << unmakeable.error().message;

    write(tmp / "afile", "x");
    auto file = prepare_job(playbook_options(tmp / "afile"));
    ASSERT_FALSE(file.ok());
    EXPECT_NE(file.error().message.find("is not a directory"), std::string::npos);

    write(tmp / "pdd/env/settings", "job_timeout: [1\n");
    auto malformed = prepare_job(playbook_options(tmp / "pdd"));
    ASSERT_FALSE(malformed.ok());
    EXPECT_NE(malformed.error().message.find("env/settings"), std::string::npos);
    EXPECT_NE(malformed.error().message.find("line"), std::string::npos);

    write(tmp / "pdd2/env/settings", "job_timeout: soon\n");
    auto wrong_type = prepare_job(playbook_options(tmp / "pdd2"));
    ASSERT_FALSE(wrong_type.ok());
    EXPECT_NE(wrong_type.error().message.find("job_timeout"), std::string::npos);

    write(tmp / "pdd3/env/cmdline", "--tags 'unclosed");
    auto cmdline = prepare_job(playbook_options(tmp / "pdd3"));
    ASSERT_FALSE(cmdline.ok());
    EXPECT_NE(cmdline.error().message.find("env/cmdline"), std::string::npos);

    RunOptions both = playbook_options(tmp / "pdd3");
    both.module = "ping";
    auto conflict = prepare_job(both);
    ASSERT_FALSE(conflict.ok());
    EXPECT_EQ(conflict.error().message, "Only one of playbook and module options are allowed");
}

TEST(JobConfig, AnIdentWithANulByteIsRefused) {
    testing::TempDir tmp;
    RunOptions options = playbook_options(tmp / "pdd");
    options.ident = std::string("..\0x", 4);  // "..": ART would be the private data dir
    auto job = prepare_job(options);
    ASSERT_FALSE(job.ok());
    EXPECT_EQ(job.error().message, "ident holds a NUL byte: it cannot name an artifact directory");
}

TEST(JobConfig, EnvironmentEntriesTheChildCouldNotGetAreRefused) {
    testing::TempDir tmp;
    write(tmp / "pdd/env/envvars", "{\"ANSIBLE_STDOUT_CALLBACK=minimal\": \"1\"}");
    auto eq = prepare_job(playbook_options(tmp / "pdd"));
    ASSERT_FALSE(eq.ok());
    EXPECT_EQ(eq.error().message,
              "env/envvars: 'ANSIBLE_STDOUT_CALLBACK=minimal' cannot name an environment variable "
              "(empty, or holds '=' or NUL)");
    write(tmp / "pdd/env/envvars", "{\"A\": \"x\\u0000y\"}");
    auto nul_value = prepare_job(playbook_options(tmp / "pdd"));
    ASSERT_FALSE(nul_value.ok());
    EXPECT_EQ(nul_value.error().message, "env/envvars: the value of A holds a NUL byte");
    fs::remove(tmp / "pdd/env/envvars");
    RunOptions options = playbook_options(tmp / "pdd");
    options.envvars = {{std::string("B\0C", 3), "1"}};
    auto nul_name = prepare_job(options);
    ASSERT_FALSE(nul_name.ok());
    EXPECT_EQ(nul_name.error().message,
              "the envvars option: 'B\\x00C' cannot name an environment variable (empty, or "
              "holds '=' or NUL)");
}

TEST(JobConfig, AnInvalidCmdlineIsRefusedBeforeItIsKept) {
    testing::TempDir tmp;
    RunOptions options = playbook_options(tmp / "pdd");
    options.cmdline = "--tags 'unclosed";
    auto job = prepare_job(options);
    ASSERT_FALSE(job.ok());
    EXPECT_NE(job.error().message.find("--cmdline"), std::string::npos) << job.error().message;
    EXPECT_FALSE(fs::exists(tmp / "pdd/env/cmdline"));
    options.cmdline.reset();
    EXPECT_TRUE(prepare_job(options).ok()) << "the next run is not spoiled";
}

TEST(JobConfig, EnvFilesLinkedOutOfThePrivateDataDirAreRefused) {
    testing::TempDir host;
    write(host / "values.yml", "FROM_HOST: yes\n");
    write(host / "machine-id", "0123\n");
    testing::TempDir tmp;
    fs::create_directories(tmp / "pdd/env");
    fs::create_symlink(host / "values.yml", tmp / "pdd/env/envvars");
    auto envvars = prepare_job(playbook_options(tmp / "pdd"));
    ASSERT_FALSE(envvars.ok());
    EXPECT_EQ(envvars.error().message.rfind("cannot read env/envvars: a link that leads out", 0),
              0u)
        << envvars.error().message;
    fs::remove(tmp / "pdd/env/envvars");
    fs::create_symlink(host / "machine-id", tmp / "pdd/env/cmdline");
    auto cmdline = prepare_job(playbook_options(tmp / "pdd"));
    ASSERT_FALSE(cmdline.ok());
    EXPECT_EQ(cmdline.error().message.rfind("cannot read env/cmdline: a link that leads out", 0),
              0u);
}

}  // namespace
}  // namespace arunner::config

namespace arunner::config {
namespace {

std::string read_file(const fs::path& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

unsigned mode_of(const fs::path& path) {
    struct stat st {};
    ::lstat(path.c_str(), &st);
    return st.st_mode & 07777;
}

bool any_word_contains(const Words& words, const std::string& text) {
    for (const auto& word : words) {
        if (word.find(text) != std::string::npos) {
            return true;
        }
    }
    return false;
}

// ansible-runner's dump_artifacts: API extravars go to env/extravars (0600) when it is missing.
TEST(JobConfigExtravars, ApiExtravarsAreWrittenToEnvExtravarsNotArgv) {
    testing::TempDir pdd;
    write(pdd / "project/site.yml", "- hosts: all\n");
    RunOptions options = playbook_options(pdd.path());
    options.extravars = {{"secret", "MARKER-1234"}, {"n", 1}};
    auto job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(job->command, (Words{"ansible-playbook", "-e", "@" + (pdd / "env/extravars").string(),
                                   "site.yml"}));
    EXPECT_FALSE(any_word_contains(job->command, "MARKER-1234"));
    EXPECT_EQ(read_file(pdd / "env/extravars"), "{\"secret\": \"MARKER-1234\", \"n\": 1}");
    EXPECT_EQ(mode_of(pdd / "env/extravars"), 0600u);
}

// With env/extravars present, ansible-runner puts the API values on argv; arunner writes them to
// a second 0600 file passed after env/extravars, so they still win.
TEST(JobConfigExtravars, ExistingEnvExtravarsGetsASecondFileAfterIt) {
    testing::TempDir pdd;
    write(pdd / "project/site.yml", "- hosts: all\n");
    write(pdd / "env/extravars", "a: from-file\n");
    RunOptions options = playbook_options(pdd.path());
    options.extravars = {{"a", "MARKER-5678"}};
    auto job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    fs::path api = pdd / "env/api-extravars-job1.json";
    EXPECT_EQ(job->command, (Words{"ansible-playbook", "-e", "@" + (pdd / "env/extravars").string(),
                                   "-e", "@" + api.string(), "site.yml"}));
    EXPECT_FALSE(any_word_contains(job->command, "MARKER-5678"));
    EXPECT_EQ(read_file(pdd / "env/extravars"), "a: from-file\n");
    EXPECT_EQ(read_file(api), "{\"a\": \"MARKER-5678\"}");
    EXPECT_EQ(mode_of(api), 0600u);
}

// A symlink planted where the second file goes is replaced by nothing: the write refuses it.
TEST(JobConfigExtravars, ASymlinkInPlaceOfTheFileIsNotFollowed) {
    testing::TempDir pdd;
    testing::TempDir outside;
    write(pdd / "project/site.yml", "- hosts: all\n");
    write(pdd / "env/extravars", "{}");
    write(outside / "target", "untouched");
    fs::create_symlink(outside / "target", pdd / "env/api-extravars-job1.json");
    RunOptions options = playbook_options(pdd.path());
    options.extravars = {{"a", "b"}};
    auto job = prepare_job(options);
    EXPECT_FALSE(job.ok());
    EXPECT_EQ(read_file(outside / "target"), "untouched");
}

TEST(JobConfigExtravars, SuppressEnvFilesStillKeepsThemOffArgv) {
    testing::TempDir pdd;
    write(pdd / "project/site.yml", "- hosts: all\n");
    RunOptions options = playbook_options(pdd.path());
    options.extravars = {{"k", "MARKER-9"}};
    options.suppress_env_files = true;
    auto job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_FALSE(fs::exists(pdd / "env/extravars"));
    EXPECT_FALSE(any_word_contains(job->command, "MARKER-9"));
    EXPECT_EQ(read_file(pdd / "env/api-extravars-job1.json"), "{\"k\": \"MARKER-9\"}");
}

std::string prepare_error(const RunOptions& options) {
    auto job = prepare_job(options);
    return job.ok() ? std::string() : job.error().message;
}

TEST(JobConfigBounds, VerbosityTimeoutAndForksAreRangeChecked) {
    testing::TempDir pdd;
    write(pdd / "project/site.yml", "- hosts: all\n");
    RunOptions options = playbook_options(pdd.path());
    options.verbosity = 2000000000;
    EXPECT_NE(prepare_error(options).find("verbosity must be at most 100"), std::string::npos);
    options.verbosity = 100;
    EXPECT_EQ(prepare_error(options), "");
    options.verbosity = 0;
    for (double bad : {1e10, 1e300, std::numeric_limits<double>::infinity(), std::nan(""), -5.0}) {
        options.timeout = bad;
        EXPECT_NE(prepare_error(options).find("timeout"), std::string::npos) << bad;
    }
    options.timeout.reset();
    for (const char* bad : {"0", "-1", "1e9", "99999999999999999999", "abc"}) {
        options.forks = bad;
        EXPECT_NE(prepare_error(options).find("forks must be a whole number"), std::string::npos)
            << bad;
    }
    options.forks = "50";
    EXPECT_EQ(prepare_error(options), "");
}

TEST(JobConfigBounds, SettingsTimeoutsFromEnvSettingsAreRangeChecked) {
    for (const char* text : {"job_timeout: 1e10\n", "job_timeout: .inf\n", "idle_timeout: .nan\n",
                             "pexpect_timeout: -1\n", "{\"job_timeout\": 1e300}"}) {
        testing::TempDir pdd;
        write(pdd / "project/site.yml", "- hosts: all\n");
        write(pdd / "env/settings", text);
        std::string message = prepare_error(playbook_options(pdd.path()));
        EXPECT_NE(message.find("env/settings: "), std::string::npos) << text << message;
        EXPECT_NE(message.find("timeout"), std::string::npos) << text << message;
    }
}

}  // namespace
}  // namespace arunner::config

namespace arunner::config {
namespace {

TEST(JobConfigWorkerContainer, FlagOrSettingTurnsItOnAndTheOptionWins) {
    testing::TempDir pdd;
    write(pdd / "project/site.yml", "- hosts: all\n");
    RunOptions options = playbook_options(pdd.path());
    options.container_image = "localhost/arunner-ee";
    auto job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_FALSE(job->worker_container);

    options.container_worker = true;
    job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    ASSERT_TRUE(job->worker_container);
    EXPECT_EQ(job->worker_container->image, "localhost/arunner-ee");
    EXPECT_EQ(job->worker_container->worker_command, (Words{"arunner", "worker"}));
    EXPECT_EQ(job->worker_container->name, "ansible_runner_job1");
    EXPECT_EQ(job->command, (Words{"arunner", "worker"}));
    EXPECT_FALSE(job->container);
    // Nothing of the private data dir is written for the worker's job (no env/cmdline dump).
    EXPECT_FALSE(fs::exists(pdd / "env"));

    write(pdd / "env/settings",
          "container_worker: true\ncontainer_worker_command: ansible-runner worker --delete\n");
    options.container_worker.reset();
    job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    ASSERT_TRUE(job->worker_container);
    EXPECT_EQ(job->worker_container->worker_command,
              (Words{"ansible-runner", "worker", "--delete"}));

    options.container_worker_command = {"my-worker"};
    job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(job->worker_container->worker_command, (Words{"my-worker"}));

    options.container_worker = false;  // a worker's own run: the settings' choice is not its
    job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_FALSE(job->worker_container);
}

// container_auth_data: env/settings wins over the option; verify_ssl is off only when false.
TEST(JobConfigContainerAuth, SettingsOverTheOptionAndCheckedWithoutQuotingValues) {
    testing::TempDir pdd;
    write(pdd / "project/site.yml", "- hosts: all\n");
    RunOptions options = playbook_options(pdd.path());
    options.process_isolation = true;
    options.container_image = "quay.io/org/ee";
    options.container_auth_data = ContainerAuthData{"quay.io", "api-user", "api-pass", true};
    auto job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    ASSERT_TRUE(job->container && job->container->auth);
    EXPECT_EQ(job->container->auth->username, "api-user");

    write(pdd / "env/settings",
          "container_auth_data:\n  host: 127.0.0.1:5000\n  username: file-user\n"
          "  password: file-pass\n  verify_ssl: false\n");
    job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(job->container->auth->host, "127.0.0.1:5000");
    EXPECT_EQ(job->container->auth->password, "file-pass");
    EXPECT_FALSE(job->container->auth->verify_ssl);

    // Any other verify_ssl value keeps verification on (ansible-runner's `is False`).
    write(pdd / "env/settings",
          "container_auth_data: {host: h, username: u, password: p, verify_ssl: 0}\n");
    job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_TRUE(job->container->auth->verify_ssl);

    write(pdd / "env/settings",
          "container_auth_data: {host: h, username: u, password: [not-a-string-secret]}\n");
    std::string message = prepare_error(options);
    EXPECT_EQ(message, "env/settings: container_auth_data needs a non-empty string 'password'");
}

TEST(JobConfigWorkerContainer, BadCombinationsAreErrorsThatNameThem) {
    testing::TempDir pdd;
    write(pdd / "project/site.yml", "- hosts: all\n");
    RunOptions options = playbook_options(pdd.path());
    options.container_worker = true;
    options.container_image = "";
    auto job = prepare_job(options);
    ASSERT_FALSE(job.ok());
    EXPECT_NE(job.error().message.find("worker container needs a container image"),
              std::string::npos)
        << job.error().message;

    options.container_image = "localhost/arunner-ee";
    options.process_isolation = true;
    job = prepare_job(options);
    ASSERT_FALSE(job.ok());
    EXPECT_NE(job.error().message.find("cannot also use process isolation"), std::string::npos)
        << job.error().message;

    options.process_isolation = false;
    options.process_isolation_executable = "bwrap";
    job = prepare_job(options);
    ASSERT_FALSE(job.ok());
    EXPECT_NE(job.error().message.find("'bwrap' is not supported"), std::string::npos)
        << job.error().message;

    options.process_isolation_executable = "podman";
    write(pdd / "env/settings", "container_worker_command: [1, 2]\n");
    job = prepare_job(options);
    ASSERT_FALSE(job.ok());
    EXPECT_NE(job.error().message.find("container_worker_command must be a list of strings"),
              std::string::npos)
        << job.error().message;

    write(pdd / "env/settings", "container_worker_command: \"'unclosed\"\n");
    job = prepare_job(options);
    ASSERT_FALSE(job.ok());
    EXPECT_NE(job.error().message.find("container_worker_command"), std::string::npos)
        << job.error().message;
}

std::string read(const fs::path& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(JobConfig, ARoleBecomesAnsibleRunnersGeneratedPlayInAFileRemovedAfterTheRun) {
    testing::TempDir pdd;
    RunOptions options;
    options.private_data_dir = pdd.path();
    options.role = "web";
    options.role_vars = {{"port", 80}};
    options.role_skip_facts = true;
    options.roles_path = "/opt/roles";
    auto job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    fs::path playbook = job->command.back();
    EXPECT_EQ(playbook.parent_path(), pdd / "project");
    EXPECT_EQ(playbook.filename().string().size(), 32u) << "a uuid in hex, as ansible-runner's CLI";
    EXPECT_EQ(read(playbook),
              R"([{"hosts": "all", "roles": [{"name": "web", "vars": {"port": 80}}], )"
              R"("gather_facts": false}])");
    EXPECT_EQ(job->cwd, pdd / "project");
    EXPECT_EQ(job->env.get("ANSIBLE_ROLES_PATH"), "/opt/roles:" + (pdd / "roles").string());
    EXPECT_EQ(job->remove_after_run, (std::vector<fs::path>{playbook, pdd / "project"}))
        << "the project dir was made for the play, so it goes too";
}

TEST(JobConfig, ARolesPathThatAlreadyNamesThePrivateDataDirsRolesHasItOnce) {
    testing::TempDir pdd;
    for (const std::string& given :
         {(pdd / "roles").string(), (pdd / "roles/").string(), (pdd / "x/../roles").string(),
          "/opt/roles:" + (pdd / "roles").string()}) {
        RunOptions options;
        options.private_data_dir = pdd.path();
        options.role = "web";
        options.roles_path = given;
        auto job = prepare_job(options);
        ASSERT_TRUE(job.ok()) << job.error().message;
        EXPECT_EQ(job->env.get("ANSIBLE_ROLES_PATH"), given);
    }
    RunOptions options;
    options.private_data_dir = pdd.path();
    options.role = "web";
    options.roles_path = (pdd / "roles2").string();
    auto job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(job->env.get("ANSIBLE_ROLES_PATH"),
              (pdd / "roles2").string() + ":" + (pdd / "roles").string())
        << "a prefix of the name is another directory";
}

TEST(JobConfig, ARoleWithAPlaybookIsRefusedNamingBoth) {
    testing::TempDir pdd;
    RunOptions options = playbook_options(pdd.path());
    options.role = "web";
    auto job = prepare_job(options);
    ASSERT_FALSE(job.ok());
    EXPECT_EQ(job.error().message,
              "Only one of playbook and role can be given: each says what to run");
    EXPECT_FALSE(fs::exists(pdd / "project"));
}

TEST(JobConfig, InlineInventoriesAreWrittenUnderInventoryAndPassedInOrder) {
    testing::TempDir pdd;
    write(pdd / "project/site.yml", "- hosts: all\n");
    write(pdd / "inventory/static", "h0\n");
    RunOptions options = playbook_options(pdd.path());
    options.inventory_text = "h1 ansible_connection=local\n";
    options.inventories = {"static"};
    auto job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(job->command, (Words{"ansible-playbook", "-i", (pdd / "inventory/hosts").string(),
                                   "-i", (pdd / "inventory/static").string(), "site.yml"}));
    EXPECT_EQ(read(pdd / "inventory/hosts"), "h1 ansible_connection=local\n");
    options.inventory_text.reset();
    options.inventories.clear();
    options.inventory_mapping = {{"all", {{"hosts", {{"h2", nullptr}}}}}};
    job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(read(pdd / "inventory/hosts.json"), R"({"all": {"hosts": {"h2": null}}})");
    options.inventory_mapping = nullptr;
    options.inventories = {"missing"};
    job = prepare_job(options);
    ASSERT_FALSE(job.ok());
    EXPECT_NE(job.error().message.find("inventory 'missing' is found neither"), std::string::npos);
}

TEST(JobConfig, PlaysAndEnvOptionsAreDumpedAsAnsibleRunnerDumpsThem) {
    testing::TempDir pdd;
    RunOptions options;
    options.private_data_dir = pdd.path();
    options.plays = {{"hosts", "localhost"}, {"tasks", Json::array()}};
    options.envvars = {{"A", "1"}};
    options.settings = {{"idle_timeout", 9}};
    auto job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(job->command.back(), (pdd / "project/main.json").string());
    EXPECT_EQ(read(pdd / "project/main.json"), R"([{"hosts": "localhost", "tasks": []}])");
    EXPECT_EQ(read(pdd / "env/envvars"), R"({"A": "1"})");
    EXPECT_EQ(read(pdd / "env/settings"), R"({"idle_timeout": 9})");
    struct stat st {};
    ASSERT_EQ(::stat((pdd / "env/envvars").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    // An existing file is not replaced: it wins over the option.
    write(pdd / "env/settings", "{\"idle_timeout\": 3}");
    job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(job->idle_timeout, 3.0);
}

TEST(JobConfig, NoPrivateDataDirMeansATemporaryOneAndAMissingOneIsCreated) {
    testing::TempDir tmp;
    RunOptions options;
    options.plays = {{"hosts", "localhost"}};
    auto job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_TRUE(job->temporary_private_data_dir);
    EXPECT_TRUE(fs::is_directory(job->private_data_dir));
    fs::remove_all(job->private_data_dir);
    options.private_data_dir = tmp / "a" / "new";
    job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_FALSE(job->temporary_private_data_dir);
    struct stat st {};
    ASSERT_EQ(::stat((tmp / "a" / "new").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
}

}  // namespace
}  // namespace arunner::config
