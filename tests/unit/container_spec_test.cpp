// src/isolation/container_spec.cpp and the container half of config/job_config.cpp: what
// container a process-isolated job gets (docs/containers.md).

#include <gtest/gtest.h>

#include <fstream>

#include "config/job_config.hpp"
#include "isolation/container_spec.hpp"
#include "isolation/container_sweep.hpp"
#include "support/temp_dir.hpp"

namespace arunner::isolation {
namespace {

using engine::ContainerSpec;
using engine::Mount;
using engine::SelinuxRelabel;

std::string value_of(const std::vector<std::pair<std::string, std::string>>& pairs,
                     const std::string& name) {
    for (const auto& [key, value] : pairs) {
        if (key == name) {
            return value;
        }
    }
    return "<unset>";
}

std::vector<std::string> names_of(const std::vector<std::pair<std::string, std::string>>& pairs) {
    std::vector<std::string> names;
    names.reserve(pairs.size());
    for (const auto& entry : pairs) {
        names.push_back(entry.first);
    }
    return names;
}

class JobContainerSpec : public ::testing::Test {
  protected:
    void SetUp() override {
        std::filesystem::create_directories(dir_ / "project");
        std::filesystem::create_directories(dir_ / "env");
        std::ofstream(dir_ / "project" / "site.yml") << "- hosts: all\n";
        std::ofstream(dir_ / "env" / "extravars") << "a: 1\n";
        std::ofstream(dir_ / "env" / "envvars") << "FROM_FILE: yes-file\n";
        options_.private_data_dir = dir_.path();
        options_.ident = "job:1";
        options_.playbook = "site.yml";
        options_.process_isolation = true;
        options_.container_image = "localhost/some-ee";
        options_.envvars = {{"FROM_OPTION", "x"}};
    }

    Result<config::JobConfig> prepare() { return config::prepare_job(options_); }

    testing::TempDir dir_;
    RunOptions options_;
};

TEST_F(JobContainerSpec, CommandEnvAndCwdAreTheContainers) {
    ::setenv("ARUNNER_TEST_HOST_ONLY", "host", 1);
    auto job = prepare();
    ASSERT_TRUE(job.ok()) << job.error().message;
    ASSERT_TRUE(job->container.has_value());
    EXPECT_EQ(job->container->name, "ansible_runner_job_1");
    EXPECT_EQ(job->container->image, "localhost/some-ee");
    EXPECT_EQ(job->cwd, "/runner/project");
    EXPECT_EQ(job->command, (std::vector<std::string>{"ansible-playbook", "-i", "/runner/inventory",
                                                      "-e", "@/runner/env/extravars", "site.yml"}));
    // §7.2: not the host's environment; container paths; podman's unsafe writes first.
    const auto& env = job->env.entries();
    EXPECT_EQ(value_of(env, "ARUNNER_TEST_HOST_ONLY"), "<unset>");
    std::vector<std::string> names = names_of(env);
    ASSERT_GE(names.size(), 5u);
    EXPECT_EQ(names[0], "ANSIBLE_UNSAFE_WRITES");
    EXPECT_EQ(names[1], "AWX_ISOLATED_DATA_DIR");
    EXPECT_EQ(names[2], "ANSIBLE_CACHE_PLUGIN_CONNECTION");
    EXPECT_EQ(names[3], "FROM_OPTION");
    EXPECT_EQ(names[4], "FROM_FILE");
    EXPECT_EQ(value_of(env, "AWX_ISOLATED_DATA_DIR"), "/runner/artifacts/job:1");
    EXPECT_EQ(value_of(env, "ANSIBLE_CACHE_PLUGIN_CONNECTION"),
              "/runner/artifacts/job:1/fact_cache");
    EXPECT_EQ(value_of(env, "ANSIBLE_CALLBACK_PLUGINS"), config::kContainerCallbackDir);
    EXPECT_EQ(value_of(env, "ANSIBLE_STDOUT_CALLBACK"), "awx_display");
    EXPECT_EQ(value_of(env, "FROM_FILE"), "yes-file");
    ::unsetenv("ARUNNER_TEST_HOST_ONLY");
}

TEST_F(JobContainerSpec, SettingsTurnIsolationOnAndChooseTheEngine) {
    options_.process_isolation = false;
    std::ofstream(dir_ / "env" / "settings")
        << "process_isolation: true\nprocess_isolation_executable: docker\n"
           "container_image: localhost/other\ncontainer_options: ['--network=none']\n";
    auto job = prepare();
    ASSERT_TRUE(job.ok()) << job.error().message;
    ASSERT_TRUE(job->container.has_value());
    EXPECT_EQ(job->container->engine, "docker");
    EXPECT_EQ(job->container->image, "localhost/other");
    EXPECT_EQ(job->container->options, std::vector<std::string>{"--network=none"});
    EXPECT_EQ(value_of(job->env.entries(), "ANSIBLE_UNSAFE_WRITES"), "<unset>");
}

TEST_F(JobContainerSpec, AnyOtherExecutableIsTheSandboxNotAContainer) {
    options_.process_isolation_executable = "bwrap";
    auto job = prepare();
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_FALSE(job->container);
    EXPECT_EQ(job->command.at(0), "bwrap");
    for (const auto& made : job->remove_after_run) {  // the sandbox's staging dir
        std::filesystem::remove_all(made);
    }
    options_.process_isolation_executable = "/usr/bin/podman";
    job = prepare();
    ASSERT_FALSE(job.ok());
    EXPECT_NE(job.error().message.find("name the container engine as 'podman'"), std::string::npos)
        << job.error().message;
}

// The container's environment names the FIFO the init takes the secret from and puts the
// start-up hook first on PYTHONPATH, keeping the job's own PYTHONPATH after it; the init runs
// from the read-only plugin mount, under python3 -I -S.
TEST(ContainerFrameFifo, TheEnvironmentNamesTheFifoAndTheHookNeverTheSecret) {
    engine::ContainerSpec spec;
    spec.env = {{"PYTHONPATH", "/job/lib"}, {"A", "1"}};
    isolation::add_frame_fifo(spec, "job:1");
    EXPECT_EQ(value_of(spec.env, "ARUNNER_FRAME_FIFO"), "/runner/artifacts/job:1/frame_secret");
    EXPECT_EQ(value_of(spec.env, "PYTHONPATH"),
              std::string(config::kContainerCallbackDir) + "/awx_display_boot:/job/lib");
    EXPECT_EQ(value_of(spec.env, "A"), "1");
    for (const auto& [name, value] : spec.env) {
        EXPECT_EQ(name.find("SECRET"), std::string::npos) << name;
    }
    engine::ContainerSpec bare;
    isolation::add_frame_fifo(bare, "j");
    EXPECT_EQ(value_of(bare.env, "PYTHONPATH"),
              std::string(config::kContainerCallbackDir) + "/awx_display_boot");
    EXPECT_NE(isolation::container_init_script().find(
                  "exec python3 -I -S " + std::string(config::kContainerCallbackDir) +
                  "/awx_display_boot/container_init/__init__.py \"$@\""),
              std::string::npos);
}

TEST_F(JobContainerSpec, SpecMountsTheDataDirAndThePluginAndLabelsTheIdent) {
    auto job = prepare();
    ASSERT_TRUE(job.ok()) << job.error().message;
    auto spec = make_container_spec(*job);
    ASSERT_TRUE(spec.ok()) << spec.error().message;
    EXPECT_EQ(spec->name, "ansible_runner_job_1");
    EXPECT_EQ(spec->image, "localhost/some-ee");
    // The command runs under the wrapper that reports its exit in-band (docs/containers.md).
    std::vector<std::string> wrapped = {"/bin/sh", "-c", isolation::container_init_script(), "sh"};
    wrapped.insert(wrapped.end(), job->command.begin(), job->command.end());
    EXPECT_EQ(spec->cmd, wrapped);
    EXPECT_EQ(spec->workdir, "/runner/project");
    EXPECT_TRUE(spec->tty);  // pexpect mode wants a pty
    EXPECT_TRUE(spec->init);
    EXPECT_EQ(value_of(spec->labels, kIdentLabel), "job:1");
    ASSERT_EQ(spec->mounts.size(), 3u);  // and env/, read-only (the next test)
    EXPECT_EQ(spec->mounts[0].source, dir_.path().string());
    EXPECT_EQ(spec->mounts[0].target, "/runner");
    EXPECT_EQ(spec->mounts[0].relabel, SelinuxRelabel::private_);
    EXPECT_FALSE(spec->mounts[0].read_only);
    EXPECT_EQ(spec->mounts[1].target, config::kContainerCallbackDir);
    EXPECT_TRUE(spec->mounts[1].read_only);
    EXPECT_TRUE(std::filesystem::exists(spec->mounts[1].source + "/awx_display.py"));
    EXPECT_EQ(spec->env.size(), job->env.entries().size());

    options_.runner_mode = RunnerMode::subprocess;
    auto piped = prepare();
    ASSERT_TRUE(piped.ok());
    EXPECT_FALSE(make_container_spec(*piped)->tty);
}

TEST_F(JobContainerSpec, TheRunsInputsAreReadOnlyOverTheWritableDataDir) {
    // Present: env/ (made by SetUp), args, inventory/, pid and daemon.log. env/ is made when
    // missing, so the job cannot create it; a link within the dir is covered where it leads.
    std::ofstream(dir_ / "args") << "ansible-playbook site.yml\n";
    std::filesystem::create_directories(dir_ / "project" / "inv");
    std::filesystem::create_directory_symlink("project/inv", dir_ / "inventory");
    std::ofstream(dir_ / "pid") << "1\n";
    std::ofstream(dir_ / "daemon.log") << "";
    auto job = prepare();
    ASSERT_TRUE(job.ok()) << job.error().message;
    auto spec = make_container_spec(*job);
    ASSERT_TRUE(spec.ok()) << spec.error().message;
    std::vector<std::string> read_only;
    for (const Mount& m : spec->mounts) {
        if (m.read_only && m.target != config::kContainerCallbackDir) {
            read_only.push_back(m.source.substr(dir_.path().string().size()) + " " + m.target);
        }
    }
    EXPECT_EQ(read_only, (std::vector<std::string>{
                             "/env /runner/env", "/args /runner/args",
                             "/project/inv /runner/inventory", "/project/inv /runner/project/inv",
                             "/pid /runner/pid", "/daemon.log /runner/daemon.log"}));

    std::filesystem::remove_all(dir_ / "env");
    std::filesystem::remove(dir_ / "args");
    std::filesystem::remove(dir_ / "inventory");
    auto without = prepare();
    ASSERT_TRUE(without.ok()) << without.error().message;
    EXPECT_TRUE(std::filesystem::is_directory(dir_ / "env"));
    EXPECT_EQ(std::filesystem::status(dir_ / "env").permissions(),
              std::filesystem::perms::owner_all);
}

TEST_F(JobContainerSpec, WorkerSpecStreamsOnStdinAndMountsNoDataDir) {
    options_.process_isolation = false;
    options_.container_worker = true;
    options_.container_options = {"--memory=64m", "--label", "team=ops", "--tty"};
    auto job = prepare();
    ASSERT_TRUE(job.ok()) << job.error().message;
    ASSERT_TRUE(job->worker_container);
    EXPECT_FALSE(make_container_spec(*job).ok());  // not a process-isolated job
    auto spec = make_worker_container_spec(*job);
    ASSERT_TRUE(spec.ok()) << spec.error().message;
    EXPECT_EQ(spec->name, "ansible_runner_job_1");
    EXPECT_EQ(spec->image, "localhost/some-ee");
    EXPECT_EQ(spec->cmd, (std::vector<std::string>{"arunner", "worker"}));
    EXPECT_FALSE(spec->tty);  // the wire's bytes pass untouched, whatever --tty says
    EXPECT_TRUE(spec->open_stdin);
    EXPECT_TRUE(spec->stdin_once);
    EXPECT_FALSE(spec->init);           // the worker is pid 1: nothing else holds its stdout
    EXPECT_TRUE(spec->mounts.empty());  // the job arrives on stdin
    EXPECT_TRUE(spec->env.empty());
    EXPECT_EQ(spec->memory_bytes, int64_t{64} << 20);
    EXPECT_EQ(value_of(spec->labels, kIdentLabel), "job:1");
    EXPECT_EQ(value_of(spec->labels, "team"), "ops");
    EXPECT_NE(value_of(spec->labels, kControllerLabel), "<unset>");
}

// podman gives every container TERM=xterm, docker only one with a tty: a docker worker gets it
// from the spec, so its ansible colours output as on podman; a user's --env still wins.
TEST_F(JobContainerSpec, DockerWorkerSpecHasTheTermPodmanGivesEveryContainer) {
    options_.process_isolation = false;
    options_.container_worker = true;
    options_.process_isolation_executable = "docker";
    auto job = prepare();
    ASSERT_TRUE(job.ok()) << job.error().message;
    auto spec = make_worker_container_spec(*job);
    ASSERT_TRUE(spec.ok()) << spec.error().message;
    EXPECT_EQ(spec->env, (std::vector<std::pair<std::string, std::string>>{{"TERM", "xterm"}}));
    options_.container_options = {"--env=TERM=dumb"};
    job = prepare();
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(make_worker_container_spec(*job)->env,
              (std::vector<std::pair<std::string, std::string>>{{"TERM", "dumb"}}));
}

TEST(VolumeMounts, AnsibleRunnerRules) {
    testing::TempDir dir;
    std::filesystem::create_directories(dir / "data");
    std::ofstream(dir / "data" / "file.txt") << "x";
    std::vector<Mount> mounts;
    const std::string d = dir.path().string();

    ASSERT_TRUE(add_volume_mount(d + "/data:/srv/data:Z", "/runner/project", mounts).ok());
    ASSERT_EQ(mounts.size(), 1u);
    EXPECT_EQ(mounts[0].source, d + "/data");
    EXPECT_EQ(mounts[0].target, "/srv/data");
    EXPECT_EQ(mounts[0].relabel, SelinuxRelabel::private_);

    // The same mount again is not added twice; a missing source is skipped silently.
    ASSERT_TRUE(add_volume_mount(d + "/data:/srv/data:Z", "/runner/project", mounts).ok());
    ASSERT_TRUE(add_volume_mount(d + "/missing:/x", "/runner/project", mounts).ok());
    EXPECT_EQ(mounts.size(), 1u);

    // A file mounts its directory on both sides; a relative target is under the workdir.
    ASSERT_TRUE(add_volume_mount(d + "/data/file.txt:conf/file.txt:ro,z", "/work", mounts).ok());
    ASSERT_EQ(mounts.size(), 2u);
    EXPECT_EQ(mounts[1].source, d + "/data");
    EXPECT_EQ(mounts[1].target, "/work/conf");
    EXPECT_TRUE(mounts[1].read_only);
    EXPECT_EQ(mounts[1].relabel, SelinuxRelabel::shared);

    // The target defaults to the source.
    ASSERT_TRUE(add_volume_mount(d + "/data/", "/runner/project", mounts).ok());
    ASSERT_EQ(mounts.size(), 3u);
    EXPECT_EQ(mounts[2].target, d + "/data");

    for (const char* unsafe : {"/:/x", "/home/:/x", "/usr:/x"}) {
        auto refused = add_volume_mount(unsafe, "/runner/project", mounts);
        ASSERT_FALSE(refused.ok()) << unsafe;
        EXPECT_EQ(refused.error().message,
                  "When using containerized execution, cannot mount '/' or '/home' or '/usr'");
    }
    auto bad_label = add_volume_mount(d + "/data:/x:rw,shared", "/runner/project", mounts);
    ASSERT_FALSE(bad_label.ok());
    EXPECT_NE(bad_label.error().message.find("option 'shared' is not supported"),
              std::string::npos);
}

}  // namespace
}  // namespace arunner::isolation
