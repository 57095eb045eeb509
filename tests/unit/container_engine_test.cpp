// src/engine/container_engine.cpp: ContainerSpec -> the create body, and where the engine's
// socket is.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <functional>
#include <map>
#include <set>

#include "engine/container_engine.hpp"
#include "support/temp_dir.hpp"
#include "util/unique_fd.hpp"

namespace arunner::engine {
namespace {

using arunner::testing::TempDir;

using json = nlohmann::ordered_json;

TypedMount typed(MountType type, const std::string& source, const std::string& target,
                 bool read_only = false) {
    TypedMount mount;
    mount.type = type;
    mount.source = source;
    mount.target = target;
    mount.read_only = read_only;
    return mount;
}

ContainerSpec full_spec() {
    ContainerSpec spec;
    spec.name = "ansible_runner_abc";
    spec.image = "localhost/arunner-ee:latest";
    spec.cmd = {"ansible-playbook", "-i", "inventory", "site.yml"};
    spec.env = {{"B", "2"}, {"A", "1=one"}, {"EMPTY", ""}};
    spec.workdir = "/runner/project";
    spec.user = "1000:1000";
    spec.labels = {{"ansible_runner_ident", "abc"}, {"arunner", "1"}};
    spec.mounts = {{"/tmp/pdd", "/runner", false, SelinuxRelabel::private_},
                   {"/opt/cb", "/cb", true, SelinuxRelabel::none},
                   {"/srv/data", "/data", true, SelinuxRelabel::shared}};
    spec.open_stdin = true;
    spec.stdin_once = true;
    spec.network_mode = "none";
    spec.memory_bytes = 512LL * 1024 * 1024;
    spec.nano_cpus = 1500000000;
    spec.security_opts = {"label=disable"};
    spec.ulimits = {{"nofile", 1024, 2048}};
    return spec;
}

TEST(ContainerEngineSpec, FullBody) {
    auto body = make_create_body(full_spec());
    ASSERT_TRUE(body.ok()) << body.error().message;
    const json expected = json::parse(R"({
        "Image": "localhost/arunner-ee:latest",
        "Cmd": ["ansible-playbook", "-i", "inventory", "site.yml"],
        "Env": ["B=2", "A=1=one", "EMPTY="],
        "WorkingDir": "/runner/project",
        "User": "1000:1000",
        "Labels": {"ansible_runner_ident": "abc", "arunner": "1"},
        "Tty": false,
        "OpenStdin": true,
        "StdinOnce": true,
        "AttachStdin": true,
        "AttachStdout": true,
        "AttachStderr": true,
        "HostConfig": {
            "Binds": ["/tmp/pdd:/runner:Z", "/opt/cb:/cb:ro", "/srv/data:/data:ro,z"],
            "NetworkMode": "none",
            "Memory": 536870912,
            "NanoCpus": 1500000000,
            "SecurityOpt": ["label=disable"],
            "Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 2048}]
        }
    })");
    EXPECT_EQ(body->dump(2), expected.dump(2));
}

TEST(ContainerEngineSpec, MinimalBodyLeavesDefaultsToTheImage) {
    ContainerSpec spec;
    spec.image = "localhost/x";
    spec.tty = true;
    auto body = make_create_body(spec);
    ASSERT_TRUE(body.ok());
    EXPECT_EQ(body->dump(),
              R"({"Image":"localhost/x","Tty":true,"OpenStdin":false,"StdinOnce":false,)"
              R"("AttachStdin":false,"AttachStdout":true,"AttachStderr":true})");
}

TEST(ContainerEngineSpec, EntrypointOverride) {
    ContainerSpec spec;
    spec.image = "localhost/x";
    spec.entrypoint = std::vector<std::string>{"/bin/sh", "-c"};
    spec.cmd = {"echo hi"};
    auto body = make_create_body(spec);
    ASSERT_TRUE(body.ok());
    EXPECT_EQ((*body)["Entrypoint"], json::parse(R"(["/bin/sh","-c"])"));
    EXPECT_EQ((*body)["Cmd"], json::parse(R"(["echo hi"])"));
}

TEST(ContainerEngineSpec, PathWithColonBecomesAMountEntry) {
    ContainerSpec spec;
    spec.image = "localhost/x";
    spec.mounts = {{"/tmp/a:b", "/in", true, SelinuxRelabel::none}, {"/plain", "/p"}};
    auto body = make_create_body(spec);
    ASSERT_TRUE(body.ok());
    EXPECT_EQ((*body)["HostConfig"]["Binds"], json::parse(R"(["/plain:/p"])"));
    EXPECT_EQ(
        (*body)["HostConfig"]["Mounts"],
        json::parse(R"([{"Type":"bind","Source":"/tmp/a:b","Target":"/in","ReadOnly":true}])"));
}

TEST(ContainerEngineSpec, RefusalsNameTheField) {
    auto refused = [](const ContainerSpec& spec) {
        auto body = make_create_body(spec);
        return body.ok() ? std::string("accepted") : body.error().message;
    };
    ContainerSpec spec = full_spec();
    spec.image.clear();
    EXPECT_EQ(refused(spec), "container ansible_runner_abc: no image given");

    spec = full_spec();
    spec.env.emplace_back("BAD=NAME", "x");
    EXPECT_EQ(refused(spec),
              "container ansible_runner_abc: invalid environment variable name 'BAD=NAME'");

    spec = full_spec();
    spec.mounts.push_back({"relative/dir", "/x"});
    EXPECT_EQ(refused(spec),
              "container ansible_runner_abc: mount source 'relative/dir' is not an absolute path");

    spec = full_spec();
    spec.mounts.push_back({"/x", "y"});
    EXPECT_EQ(refused(spec),
              "container ansible_runner_abc: mount target 'y' is not an absolute path");

    spec = full_spec();
    spec.mounts.push_back({"/a,b", "/y", false, SelinuxRelabel::private_});
    EXPECT_EQ(refused(spec),
              "container ansible_runner_abc: mount /a,b -> /y: a path with ':' or "
              "',' cannot be relabelled (:Z/:z)");

    spec = full_spec();
    spec.ulimits = {{"nofile", 10, 5}};
    EXPECT_EQ(refused(spec),
              "container ansible_runner_abc: invalid ulimit 'nofile' (soft 10, hard 5)");

    spec = full_spec();
    spec.memory_bytes = 0;
    EXPECT_EQ(refused(spec), "container ansible_runner_abc: memory limit must be positive");
}

TEST(ContainerEngineSpec, ContainerOptionFields) {
    ContainerSpec spec;
    spec.image = "localhost/x";
    spec.hostname = "box";
    spec.stop_signal = "SIGUSR1";
    spec.privileged = true;
    spec.read_only = true;
    spec.cap_add = {"NET_ADMIN"};
    spec.cap_drop = {"CHOWN"};
    spec.devices = {{"/dev/null", "/dev/mynull", "r"}};
    spec.group_add = {"1234"};
    spec.userns_mode = "host";
    spec.ipc_mode = "none";
    spec.pid_mode = "host";
    spec.extra_hosts = {"db:10.1.2.3"};
    spec.dns = {"10.0.0.53"};
    spec.dns_search = {"example.test"};
    spec.dns_options = {"ndots:3"};
    spec.tmpfs = {{"/scratch", "size=64k"}, {"/run", ""}};
    TypedMount bind = typed(MountType::bind, "/srv", "/data", true);
    bind.bind_propagation = "rslave";
    TypedMount volume = typed(MountType::volume, "", "/v");
    volume.volume_nocopy = true;
    TypedMount tmpfs = typed(MountType::tmpfs, "", "/t");
    tmpfs.tmpfs_size = 1048576;
    TypedMount tmpfs_mode = typed(MountType::tmpfs, "", "/u");
    tmpfs_mode.tmpfs_mode = 0700;
    spec.typed_mounts = {bind, volume, tmpfs, tmpfs_mode};
    spec.sysctls = {{"kernel.msgmax", "4321"}};
    spec.pids_limit = 77;
    spec.shm_size = 8388608;
    spec.memory_swap = -1;
    spec.memory_reservation = 33554432;
    spec.cpu_shares = 512;
    spec.cpuset_cpus = "0-1";
    spec.cpuset_mems = "0";
    // Not in the body: the lead's pull reads these; the platform is create's query.
    spec.pull_policy = PullPolicy::always;
    spec.platform = "linux/amd64";
    auto body = make_create_body(spec);
    ASSERT_TRUE(body.ok()) << body.error().message;
    const json expected = json::parse(R"({
        "Image": "localhost/x",
        "Hostname": "box",
        "StopSignal": "SIGUSR1",
        "Tty": false, "OpenStdin": false, "StdinOnce": false,
        "AttachStdin": false, "AttachStdout": true, "AttachStderr": true,
        "HostConfig": {
            "Mounts": [
                {"Type": "bind", "Source": "/srv", "Target": "/data", "ReadOnly": true,
                 "BindOptions": {"Propagation": "rslave"}},
                {"Type": "volume", "Target": "/v", "ReadOnly": false,
                 "VolumeOptions": {"NoCopy": true}},
                {"Type": "tmpfs", "Target": "/t", "ReadOnly": false,
                 "TmpfsOptions": {"SizeBytes": 1048576, "Mode": 1023}},
                {"Type": "tmpfs", "Target": "/u", "ReadOnly": false,
                 "TmpfsOptions": {"Mode": 448}}
            ],
            "Privileged": true,
            "ReadonlyRootfs": true,
            "CapAdd": ["NET_ADMIN"],
            "CapDrop": ["CHOWN"],
            "Devices": [{"PathOnHost": "/dev/null", "PathInContainer": "/dev/mynull",
                         "CgroupPermissions": "r"}],
            "GroupAdd": ["1234"],
            "UsernsMode": "host",
            "IpcMode": "none",
            "PidMode": "host",
            "ExtraHosts": ["db:10.1.2.3"],
            "Dns": ["10.0.0.53"],
            "DnsSearch": ["example.test"],
            "DnsOptions": ["ndots:3"],
            "Tmpfs": {"/scratch": "size=64k", "/run": ""},
            "Sysctls": {"kernel.msgmax": "4321"},
            "PidsLimit": 77,
            "ShmSize": 8388608,
            "MemorySwap": -1,
            "MemoryReservation": 33554432,
            "CpuShares": 512,
            "CpusetCpus": "0-1",
            "CpusetMems": "0"
        }
    })");
    EXPECT_EQ(body->dump(2), expected.dump(2));
}

TEST(ContainerEngineSpec, ContainerOptionRefusalsNameTheField) {
    auto refused = [](const std::function<void(ContainerSpec&)>& change) {
        ContainerSpec spec;
        spec.image = "localhost/x";
        spec.name = "c";
        change(spec);
        auto body = make_create_body(spec);
        return body.ok() ? std::string("accepted") : body.error().message;
    };
    EXPECT_EQ(refused([](ContainerSpec& s) {
                  s.devices = {{"dev/null", "/x"}};
              }),
              "container c: device dev/null:/x: paths must be absolute");
    EXPECT_EQ(
        refused([](ContainerSpec& s) { s.typed_mounts = {typed(MountType::tmpfs, "", "t")}; }),
        "container c: tmpfs mount target 't' is not an absolute path");
    EXPECT_EQ(
        refused([](ContainerSpec& s) { s.typed_mounts = {typed(MountType::bind, "x", "/t")}; }),
        "container c: bind mount source 'x' is not an absolute path");
    EXPECT_EQ(refused([](ContainerSpec& s) { s.shm_size = 0; }),
              "container c: shm size must be positive");
    EXPECT_EQ(refused([](ContainerSpec& s) { s.memory_reservation = -5; }),
              "container c: memory reservation must be positive");
    EXPECT_EQ(refused([](ContainerSpec& s) { s.cpu_shares = 0; }),
              "container c: cpu shares must be positive");
    EXPECT_EQ(refused([](ContainerSpec& s) { s.memory_swap = -2; }),
              "container c: memory+swap limit must be positive or -1 (unlimited)");
    EXPECT_EQ(refused([](ContainerSpec& s) { s.pids_limit = -1; }), "accepted");
}

TEST(ContainerEngineSpec, InvalidUtf8DoesNotThrow) {
    ContainerSpec spec;
    spec.image = "localhost/x";
    spec.env = {{"X", "\xff\xfe"}};
    auto body = make_create_body(spec);
    ASSERT_TRUE(body.ok());
    EXPECT_NO_THROW(body->dump(-1, ' ', false, json::error_handler_t::replace));
}

// --- where the socket is -----------------------------------------------------------------

struct FakeHost {
    std::map<std::string, std::string> env;
    std::set<std::string> sockets;

    Result<std::optional<std::filesystem::path>> find(EngineDialect dialect,
                                                      const std::string& explicit_socket) {
        return find_engine_socket(
            dialect, explicit_socket,
            [this](const std::string& name) { return env.count(name) ? env[name] : ""; },
            [this](const std::filesystem::path& path) { return sockets.count(path.string()) > 0; });
    }
};

std::string found(const Result<std::optional<std::filesystem::path>>& result) {
    if (!result.ok()) {
        return "error: " + result.error().message;
    }
    return *result ? (*result)->string() : "none";
}

TEST(ContainerEngineSocket, ExplicitPathWins) {
    FakeHost host;
    host.env = {{"CONTAINER_HOST", "unix:///env.sock"}};
    host.sockets = {"/run/podman/podman.sock"};
    EXPECT_EQ(found(host.find(EngineDialect::podman, "/my/engine.sock")), "/my/engine.sock");
    EXPECT_EQ(found(host.find(EngineDialect::podman, "unix:///my/engine.sock")), "/my/engine.sock");
    EXPECT_EQ(found(host.find(EngineDialect::podman, "tcp://1.2.3.4:2375")),
              "error: container engine socket 'tcp://1.2.3.4:2375': give an absolute path or "
              "unix:///path (only unix sockets are supported)");
}

TEST(ContainerEngineSocket, EnvironmentBeforeDefaults) {
    FakeHost host;
    host.sockets = {"/run/podman/podman.sock", "/var/run/docker.sock"};
    host.env = {{"CONTAINER_HOST", "unix:///c.sock"}, {"DOCKER_HOST", "unix:///d.sock"}};
    EXPECT_EQ(found(host.find(EngineDialect::podman, "")), "/c.sock");
    EXPECT_EQ(found(host.find(EngineDialect::docker, "")), "/d.sock");
    host.env = {{"DOCKER_HOST", "unix:///d.sock"}};
    EXPECT_EQ(found(host.find(EngineDialect::podman, "")), "/d.sock");
    host.env = {{"CONTAINER_HOST", "unix:///c.sock"}};
    EXPECT_EQ(found(host.find(EngineDialect::docker, "")), "/c.sock");
    // A variable that is set is taken even when nothing is there yet: connecting says why not.
    host.sockets.clear();
    EXPECT_EQ(found(host.find(EngineDialect::podman, "")), "/c.sock");
}

TEST(ContainerEngineSocket, NonUnixVariableIsAnErrorNamingIt) {
    FakeHost host;
    host.env = {{"DOCKER_HOST", "tcp://10.0.0.1:2376"}};
    EXPECT_EQ(found(host.find(EngineDialect::docker, "")),
              "error: DOCKER_HOST=tcp://10.0.0.1:2376: arunner talks to a container engine only "
              "through a unix:// socket");
}

TEST(ContainerEngineSocket, RootfulDefaults) {
    FakeHost host;
    host.sockets = {"/run/podman/podman.sock", "/var/run/docker.sock"};
    EXPECT_EQ(found(host.find(EngineDialect::podman, "")), "/run/podman/podman.sock");
    EXPECT_EQ(found(host.find(EngineDialect::docker, "")), "/var/run/docker.sock");
    host.sockets = {"/var/run/docker.sock"};
    EXPECT_EQ(found(host.find(EngineDialect::podman, "")), "/var/run/docker.sock");
    host.sockets = {"/run/podman/podman.sock"};
    EXPECT_EQ(found(host.find(EngineDialect::docker, "")), "/run/podman/podman.sock");
}

TEST(ContainerEngineSocket, NothingConfiguredOrAnswering) {
    FakeHost host;
    EXPECT_EQ(found(host.find(EngineDialect::podman, "")), "none");
    EXPECT_EQ(found(host.find(EngineDialect::docker, "")), "none");
    EXPECT_EQ(engine_socket_search_path(EngineDialect::podman),
              "CONTAINER_HOST, DOCKER_HOST, /run/podman/podman.sock, /var/run/docker.sock");
    EXPECT_EQ(engine_socket_search_path(EngineDialect::docker),
              "DOCKER_HOST, CONTAINER_HOST, /var/run/docker.sock, /run/podman/podman.sock");
}

TEST(ContainerEngineSocket, AnswersOnlyWhenSomethingListens) {
    TempDir dir;
    const std::filesystem::path path = dir.path() / "engine.sock";
    EXPECT_FALSE(socket_answers(path));  // nothing there
    util::UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(listener.valid());
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
    ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_FALSE(socket_answers(path));  // bound, not listening: a dead service's leftover
    ASSERT_EQ(::listen(listener.get(), 1), 0);
    EXPECT_TRUE(socket_answers(path));
    listener.reset();
    EXPECT_FALSE(socket_answers(path));  // the file stays, nobody answers
    EXPECT_TRUE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace arunner::engine
