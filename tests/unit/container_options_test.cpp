// src/isolation/container_options.cpp: the user's `podman run` / `docker run` words as
// ContainerSpec fields, each bad value an error naming it, and --env-file read as docker does.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "isolation/container_options.hpp"
#include "support/temp_dir.hpp"

namespace arunner::isolation {
namespace {

using engine::ContainerSpec;
using engine::MountType;
using engine::PullPolicy;
using Env = std::vector<std::pair<std::string, std::string>>;

std::string value_of(const Env& pairs, const std::string& name) {
    for (const auto& [key, value] : pairs) {
        if (key == name) {
            return value;
        }
    }
    return "<unset>";
}

/// The error of applying `words` to an empty spec, or "accepted".
std::string refusal(const std::vector<std::string>& words) {
    ContainerSpec spec;
    auto applied = apply_container_options(words, spec);
    return applied.ok() ? std::string("accepted") : applied.error().message;
}

TEST(ContainerOptions, TranslatedToFields) {
    ContainerSpec spec;
    spec.workdir = "/runner/project";
    spec.env = {{"A", "1"}};
    ::setenv("ARUNNER_TEST_PASSED_ENV", "from-host", 1);
    auto applied = apply_container_options(
        {"--network=host", "-e", "A=2", "--env=B=3", "-e", "ARUNNER_TEST_PASSED_ENV", "--user",
         "1000:1000", "--memory=512m", "--cpus", "1.5", "--security-opt", "label=disable",
         "--ulimit=nofile=1024:2048", "--label", "team=ops", "--rm", "-i", "--workdir=/tmp"},
        spec);
    ASSERT_TRUE(applied.ok()) << applied.error().message;
    ::unsetenv("ARUNNER_TEST_PASSED_ENV");
    EXPECT_EQ(spec.network_mode, "host");
    EXPECT_EQ(spec.env, (Env{{"A", "2"}, {"B", "3"}, {"ARUNNER_TEST_PASSED_ENV", "from-host"}}));
    EXPECT_EQ(spec.user, "1000:1000");
    EXPECT_EQ(spec.memory_bytes, 512LL * 1024 * 1024);
    EXPECT_EQ(spec.nano_cpus, 1500000000LL);
    EXPECT_EQ(spec.security_opts, std::vector<std::string>{"label=disable"});
    ASSERT_EQ(spec.ulimits.size(), 1u);
    EXPECT_EQ(spec.ulimits[0].soft, 1024);
    EXPECT_EQ(spec.ulimits[0].hard, 2048);
    EXPECT_EQ(value_of(spec.labels, "team"), "ops");
    EXPECT_EQ(spec.workdir, "/tmp");
}

TEST(ContainerOptions, UntranslatableOrMalformedAreRefusedByName) {
    ContainerSpec spec;
    auto cidfile = apply_container_options({"--cidfile=/tmp/x"}, spec);
    ASSERT_FALSE(cidfile.ok());
    EXPECT_NE(cidfile.error().message.find("'--cidfile' cannot be passed"), std::string::npos);
    // The message lists what is translated.
    EXPECT_NE(cidfile.error().message.find("--cap-add"), std::string::npos);
    EXPECT_NE(cidfile.error().message.find("--env-file"), std::string::npos);
    auto detach = apply_container_options({"--detach-keys", "ctrl-a"}, spec);
    ASSERT_FALSE(detach.ok());
    EXPECT_NE(detach.error().message.find("'--detach-keys'"), std::string::npos);
    auto missing = apply_container_options({"--network"}, spec);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().message, "container option --network needs a value");
    auto memory = apply_container_options({"--memory", "lots"}, spec);
    ASSERT_FALSE(memory.ok());
    EXPECT_NE(memory.error().message.find("--memory lots"), std::string::npos);
}

TEST(ContainerOptions, EveryCreateFieldInBothSpellings) {
    testing::TempDir dir;
    std::filesystem::create_directories(dir / "data");
    ContainerSpec spec;
    auto applied = apply_container_options(
        {"--pull=never",
         "--platform",
         "linux/arm64/v8",
         "--cap-add=net_admin,SYS_PTRACE",
         "--cap-drop",
         "CHOWN",
         "--device=/dev/null:/dev/mynull:r",
         "--device",
         "/dev/zero",
         "--device=/dev/full:rw",
         "--userns=host",
         "--privileged",
         "--group-add=1234",
         "--group-add",
         "wheel",
         "--ipc",
         "host",
         "--pid=host",
         "-h",
         "box",
         "--add-host=db:10.1.2.3",
         "--add-host",
         "v6:fe80::1",
         "--dns=10.0.0.53",
         "--dns-search",
         "example.test",
         "--dns-option=ndots:3",
         "--tmpfs",
         "/scratch:size=64k,mode=1777",
         "--tmpfs=/run",
         "--mount",
         "type=bind,source=" + (dir / "data").string() + ",target=/data,readonly",
         "--mount=type=volume,src=vol1,dst=/v,volume-nocopy",
         "--mount=type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=700",
         "--pids-limit=77",
         "--read-only=true",
         "--shm-size",
         "8m",
         "--sysctl=kernel.msgmax=4321",
         "--cpuset-cpus=0-1",
         "--cpuset-mems",
         "0",
         "--memory-swap=-1",
         "--memory-reservation=32m",
         "-c",
         "512",
         "--stop-signal=SIGUSR1"},
        spec);
    ASSERT_TRUE(applied.ok()) << applied.error().message;
    EXPECT_EQ(spec.pull_policy, PullPolicy::never);
    EXPECT_EQ(spec.platform, "linux/arm64/v8");
    EXPECT_EQ(spec.cap_add, (std::vector<std::string>{"NET_ADMIN", "SYS_PTRACE"}));
    EXPECT_EQ(spec.cap_drop, std::vector<std::string>{"CHOWN"});
    ASSERT_EQ(spec.devices.size(), 3u);
    EXPECT_EQ(spec.devices[0].host_path, "/dev/null");
    EXPECT_EQ(spec.devices[0].container_path, "/dev/mynull");
    EXPECT_EQ(spec.devices[0].permissions, "r");
    EXPECT_EQ(spec.devices[1].container_path, "/dev/zero");
    EXPECT_EQ(spec.devices[1].permissions, "rwm");
    EXPECT_EQ(spec.devices[2].container_path, "/dev/full");
    EXPECT_EQ(spec.devices[2].permissions, "rw");
    EXPECT_EQ(spec.userns_mode, "host");
    EXPECT_TRUE(spec.privileged);
    EXPECT_EQ(spec.group_add, (std::vector<std::string>{"1234", "wheel"}));
    EXPECT_EQ(spec.ipc_mode, "host");
    EXPECT_EQ(spec.pid_mode, "host");
    EXPECT_EQ(spec.hostname, "box");
    EXPECT_EQ(spec.extra_hosts, (std::vector<std::string>{"db:10.1.2.3", "v6:fe80::1"}));
    EXPECT_EQ(spec.dns, std::vector<std::string>{"10.0.0.53"});
    EXPECT_EQ(spec.dns_search, std::vector<std::string>{"example.test"});
    EXPECT_EQ(spec.dns_options, std::vector<std::string>{"ndots:3"});
    EXPECT_EQ(spec.tmpfs, (Env{{"/scratch", "size=64k,mode=1777"}, {"/run", ""}}));
    ASSERT_EQ(spec.typed_mounts.size(), 3u);
    EXPECT_EQ(spec.typed_mounts[0].type, MountType::bind);
    EXPECT_EQ(spec.typed_mounts[0].source, (dir / "data").string());
    EXPECT_EQ(spec.typed_mounts[0].target, "/data");
    EXPECT_TRUE(spec.typed_mounts[0].read_only);
    EXPECT_EQ(spec.typed_mounts[1].type, MountType::volume);
    EXPECT_EQ(spec.typed_mounts[1].source, "vol1");
    EXPECT_TRUE(spec.typed_mounts[1].volume_nocopy);
    EXPECT_FALSE(spec.typed_mounts[1].read_only);
    EXPECT_EQ(spec.typed_mounts[2].type, MountType::tmpfs);
    EXPECT_EQ(spec.typed_mounts[2].tmpfs_size, int64_t{1} << 20);
    EXPECT_EQ(spec.typed_mounts[2].tmpfs_mode, 0700u);
    EXPECT_EQ(spec.pids_limit, 77);
    EXPECT_TRUE(spec.read_only);
    EXPECT_EQ(spec.shm_size, int64_t{8} << 20);
    EXPECT_EQ(spec.sysctls, (Env{{"kernel.msgmax", "4321"}}));
    EXPECT_EQ(spec.cpuset_cpus, "0-1");
    EXPECT_EQ(spec.cpuset_mems, "0");
    EXPECT_EQ(spec.memory_swap, -1);
    EXPECT_EQ(spec.memory_reservation, int64_t{32} << 20);
    EXPECT_EQ(spec.cpu_shares, 512);
    EXPECT_EQ(spec.stop_signal, "SIGUSR1");

    // Boolean flags take a value only after '='.
    ASSERT_TRUE(apply_container_options({"--privileged=false", "--read-only=0"}, spec).ok());
    EXPECT_FALSE(spec.privileged);
    EXPECT_FALSE(spec.read_only);
    ContainerSpec fresh;
    ASSERT_TRUE(apply_container_options({"--hostname", "h2", "--pull", "newer"}, fresh).ok());
    EXPECT_EQ(fresh.hostname, "h2");
    EXPECT_EQ(fresh.pull_policy, PullPolicy::newer);
}

TEST(ContainerOptions, BadValuesNameTheOptionAndTheValue) {
    EXPECT_EQ(refusal({"--pull=sometimes"}),
              "container option --pull sometimes: not always, missing, never or newer");
    EXPECT_EQ(refusal({"--platform", "amd64"}),
              "container option --platform amd64: not OS/ARCH[/VARIANT] (e.g. linux/amd64, "
              "linux/arm64/v8)");
    EXPECT_NE(refusal({"--platform=linux/amd64/v2/x"}).find("--platform linux/amd64/v2/x: not"),
              std::string::npos);
    EXPECT_EQ(refusal({"--privileged=yes"}),
              "container option --privileged yes: not true or false");
    EXPECT_EQ(refusal({"--read-only=maybe"}),
              "container option --read-only maybe: not true or false");
    EXPECT_NE(refusal({"--init=false"}).find("always runs an init"), std::string::npos);
    EXPECT_EQ(refusal({"--cap-add=NET_ADMIN,"}),
              "container option --cap-add NET_ADMIN,: not a capability name (e.g. NET_ADMIN, "
              "CAP_CHOWN, ALL)");
    EXPECT_NE(refusal({"--cap-drop", "bad-cap"}).find("--cap-drop bad-cap"), std::string::npos);
    EXPECT_EQ(refusal({"--device=dev/null"}),
              "container option --device dev/null: not SRC[:DST][:PERMS] with absolute paths");
    EXPECT_EQ(refusal({"--device=/dev/null:/x:rwx"}),
              "container option --device /dev/null:/x:rwx: the permissions are letters of rwm");
    EXPECT_NE(refusal({"--device=/a:/b:r:x"}).find("not SRC[:DST][:PERMS]"), std::string::npos);
    EXPECT_EQ(refusal({"--tmpfs=scratch"}),
              "container option --tmpfs scratch: not /PATH[:OPTIONS] with an absolute path");
    EXPECT_EQ(refusal({"--add-host=nohost"}), "container option --add-host nohost: not HOST:IP");
    EXPECT_EQ(refusal({"--add-host=:1.2.3.4"}),
              "container option --add-host :1.2.3.4: not HOST:IP");
    EXPECT_EQ(refusal({"--sysctl=novalue"}), "container option --sysctl novalue: not NAME=VALUE");
    EXPECT_EQ(refusal({"--shm-size=big"}),
              "container option --shm-size big: not a size (e.g. 512m, 2g)");
    EXPECT_EQ(refusal({"--shm-size=-1"}),
              "container option --shm-size -1: not a size (e.g. 512m, 2g)");
    EXPECT_EQ(refusal({"--pids-limit=-2"}),
              "container option --pids-limit -2: not a number of processes (-1: unlimited)");
    EXPECT_NE(refusal({"--pids-limit", "many"}).find("--pids-limit many"), std::string::npos);
    EXPECT_NE(refusal({"--memory-swap=-2"}).find("--memory-swap -2: not a size"),
              std::string::npos);
    EXPECT_NE(refusal({"--memory-reservation=x"}).find("--memory-reservation x: not a size"),
              std::string::npos);
    EXPECT_NE(refusal({"--cpu-shares=0"}).find("--cpu-shares 0: not a positive integer"),
              std::string::npos);
    EXPECT_NE(refusal({"--cpuset-cpus=all"}).find("--cpuset-cpus all: not a list"),
              std::string::npos);
    EXPECT_EQ(refusal({"--hostname="}), "container option --hostname : needs a value");
    EXPECT_EQ(refusal({"--userns"}), "container option --userns needs a value");
    EXPECT_EQ(refusal({"--group-add="}), "container option --group-add : needs a value");
    for (const char* option :
         {"--ipc=", "--pid=", "--dns=", "--dns-search=", "--dns-option=", "--stop-signal="}) {
        EXPECT_NE(refusal({option}).find("needs a value"), std::string::npos) << option;
    }
}

TEST(ContainerOptions, MountIsCheckedAsDockerChecksIt) {
    testing::TempDir dir;
    const std::string d = dir.path().string();
    EXPECT_EQ(refusal({"--mount=type=bind,source=relative,target=/x"}),
              "container option --mount type=bind,source=relative,target=/x: the bind source "
              "must be an absolute path");
    EXPECT_EQ(refusal({"--mount=type=bind,source=" + d + "/missing,target=/x"}),
              "container option --mount type=bind,source=" + d +
                  "/missing,target=/x: the bind "
                  "source " +
                  d + "/missing does not exist");
    EXPECT_NE(refusal({"--mount=type=bind,source=/usr,target=/x"})
                  .find("cannot mount '/' or '/home' or '/usr'"),
              std::string::npos);
    EXPECT_NE(refusal({"--mount=type=volume,target=relative"})
                  .find(": the target must be an absolute path"),
              std::string::npos);
    EXPECT_NE(
        refusal({"--mount=type=tmpfs,source=x,target=/t"}).find("a tmpfs mount has no source"),
        std::string::npos);
    EXPECT_NE(refusal({"--mount=type=npipe,target=/t"}).find("type npipe is not bind"),
              std::string::npos);
    EXPECT_NE(refusal({"--mount=type=tmpfs,target=/t,colour=red"}).find("unknown field 'colour'"),
              std::string::npos);
    EXPECT_NE(refusal({"--mount=type=tmpfs,target=/t,tmpfs-mode=999"})
                  .find("tmpfs-mode 999 is not an octal mode"),
              std::string::npos);
    EXPECT_NE(refusal({"--mount=type=tmpfs,target=/t,tmpfs-size=lots"})
                  .find("tmpfs-size lots is not a size"),
              std::string::npos);
    EXPECT_NE(refusal({"--mount=type=bind,readonly=perhaps,source=" + d + ",target=/x"})
                  .find("'readonly' is true or false"),
              std::string::npos);
    EXPECT_NE(refusal({"--mount=type=volume,source=,target=/x"}).find("'source' needs a value"),
              std::string::npos);
    // Docker's default type is volume; an anonymous volume has no source.
    ContainerSpec spec;
    ASSERT_TRUE(apply_container_options({"--mount=target=/anon"}, spec).ok());
    ASSERT_EQ(spec.typed_mounts.size(), 1u);
    EXPECT_EQ(spec.typed_mounts[0].type, MountType::volume);
    EXPECT_EQ(spec.typed_mounts[0].source, "");
}

TEST(ContainerOptions, EnvFileValuesComeBeforeEnvOnes) {
    testing::TempDir dir;
    std::ofstream(dir / "env") << "# a comment\n\n  A=from-file\nB=file b = with spaces \n"
                                  "ARUNNER_TEST_FROM_HOST\nARUNNER_TEST_UNSET_HERE\nC=\r\n";
    ::setenv("ARUNNER_TEST_FROM_HOST", "host value", 1);
    ::unsetenv("ARUNNER_TEST_UNSET_HERE");
    ContainerSpec spec;
    spec.env = {{"JOB", "job"}, {"B", "job b"}};
    // -e comes first on the line but wins, as in the engine CLIs.
    auto applied = apply_container_options(
        {"-e", "A=from-option", "--env-file", (dir / "env").string()}, spec);
    ::unsetenv("ARUNNER_TEST_FROM_HOST");
    ASSERT_TRUE(applied.ok()) << applied.error().message;
    EXPECT_EQ(spec.env, (Env{{"JOB", "job"},
                             {"B", "file b = with spaces "},
                             {"A", "from-option"},
                             {"ARUNNER_TEST_FROM_HOST", "host value"},
                             {"C", ""}}));
}

TEST(ContainerOptions, EnvFileErrorsNameTheFileAndTheLine) {
    testing::TempDir dir;
    const std::string file = (dir / "env").string();
    auto error_of = [&](const std::string& content) {
        std::ofstream(file, std::ios::trunc) << content;
        auto read = read_env_file(file);
        return read.ok() ? std::string("accepted") : read.error().message;
    };
    EXPECT_EQ(error_of("A=1\n=value\n"),
              "env file " + file + " line 2: no variable name before '='");
    EXPECT_EQ(error_of("A=1\n# x\nMY VAR=1\n"),
              "env file " + file + " line 3: variable name 'MY VAR' contains whitespace");
    EXPECT_EQ(error_of("A=\xff\xfe\n"), "env file " + file + " line 1: not UTF-8 text");
    EXPECT_EQ(error_of(std::string("A=1\nB=x\0y\n", 10)),
              "env file " + file + " line 2: not UTF-8 text");
    EXPECT_EQ(error_of(std::string(kEnvFileMaxLines, '\n') + "A=1"),
              "env file " + file + ": more than 10000 lines");
    EXPECT_EQ(error_of(std::string(kEnvFileMaxLines - 1, '\n') + "A=1"), "accepted");
    EXPECT_EQ(error_of("A=" + std::string(kEnvFileMaxBytes, 'x')),
              "env file " + file + ": larger than 1 MiB");
    EXPECT_EQ(error_of("\xEF\xBB\xBF"
                       "A=bom\n"),
              "accepted");
    EXPECT_EQ(read_env_file(file)->front().first, "A");

    auto missing = read_env_file((dir / "missing").string());
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message.find("cannot open env file " + (dir / "missing").string()),
              std::string::npos);
    // Not a regular file: a directory, and a FIFO (which must not block the controller).
    EXPECT_EQ(read_env_file(dir.path().string()).error().message,
              "env file " + dir.path().string() + ": not a regular file");
    ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
    EXPECT_EQ(read_env_file((dir / "fifo").string()).error().message,
              "env file " + (dir / "fifo").string() + ": not a regular file");
    // Through the option, the error says which option.
    std::ofstream(file, std::ios::trunc) << "=x\n";
    EXPECT_EQ(refusal({"--env-file=" + file}), "container option --env-file: env file " + file +
                                                   " line 1: no variable name before '='");
}

}  // namespace
}  // namespace arunner::isolation
