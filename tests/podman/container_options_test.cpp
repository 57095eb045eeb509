// The translated container options (src/isolation/container_options.cpp) on a real engine:
// each is checked from inside the container of a process-isolated run (a probe script the
// playbook runs through a pipe lookup writes what it sees to the private data dir), and what an
// engine would ignore or cannot do is a clear error without a container left. Few runs, each
// checking many options (CI time). docs/containers.md says where the engines differ.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>

#include "support/command.hpp"
#include "support/podman_service.hpp"
#include "support/temp_dir.hpp"

namespace arunner::testing {
namespace {

/// What the probe writes: one "key=value" per line, in /runner/probe.out.
constexpr const char* kProbe = R"probe(#!/bin/sh
{
  echo "capeff=$(awk '/^CapEff/ {print $2}' /proc/self/status)"
  echo "hostname=$(hostname)"
  [ -c /dev/arunner-null ] && echo "device=char"
  awk '$2 == "/scratch" || $2 == "/mnt/t" || $2 == "/dev/shm" {print "mount " $2 "=" $3 " " $4}' /proc/mounts
  echo "pids=$(cat /sys/fs/cgroup/pids/pids.max)"
  awk '$2 == "arunner-db" {print "hosts=" $1 " " $2}' /etc/hosts
  awk '{print "resolv " $1 "=" $2}' /etc/resolv.conf
  echo "msgmax=$(cat /proc/sys/kernel/msgmax)"
  if touch /arunner-root-file 2>/dev/null; then echo "root=writable"; else echo "root=read-only"; fi
  echo "groups=$(id -G)"
  echo "env=$ARUNNER_FROM_FILE,$ARUNNER_TEST_BARE,$HOME"
  [ -d /mnt/b ] && echo "bind=$(cat /mnt/b/note.txt)"
  if touch /mnt/b/x 2>/dev/null; then echo "bind-write=yes"; else echo "bind-write=no"; fi
  echo "pidns=$(readlink /proc/self/ns/pid)"
  echo "ipcns=$(readlink /proc/self/ns/ipc)"
  for f in memory/memory.soft_limit_in_bytes memory/memory.memsw.limit_in_bytes cpu/cpu.shares cpuset/cpuset.cpus; do
    echo "$f=$(cat /sys/fs/cgroup/$f)"
  done
} > /runner/probe.out 2>&1
echo probed
)probe";

class ContainerOptions : public EngineSuite {
  protected:
    /// A private data dir whose playbook runs the probe (no module: the root may be read-only).
    static std::filesystem::path probe_pdd(const TempDir& dir) {
        auto pdd = dir / "pdd";
        std::filesystem::create_directories(pdd / "project");
        std::ofstream(pdd / "probe.sh") << kProbe;
        std::ofstream(pdd / "project" / "site.yml")
            << "- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n"
               "    - debug:\n        msg: \"{{ lookup('pipe', 'sh /runner/probe.sh') }}\"\n";
        return pdd;
    }

    /// The probe's lines as key -> value (a key seen twice keeps both, joined by '|').
    static std::map<std::string, std::string> probed(const std::filesystem::path& pdd) {
        std::map<std::string, std::string> values;
        std::istringstream lines(read_text(pdd / "probe.out"));
        for (std::string line; std::getline(lines, line);) {
            size_t eq = line.find('=');
            std::string key = line.substr(0, eq);
            std::string value = eq == std::string::npos ? "" : line.substr(eq + 1);
            auto [it, added] = values.emplace(key, value);
            if (!added) {
                it->second += "|" + value;
            }
        }
        return values;
    }

    size_t containers_of(const std::string& ident) {
        auto listed = service_->engine().list(std::string("arunner.ident=") + ident);
        EXPECT_TRUE(listed.ok()) << listed.error().message;
        return listed.ok() ? listed->size() : 99;
    }

    static std::string unique_ident(const std::string& what) {
        return "t" + std::to_string(::getpid()) + "_opt_" + what;
    }
};

/// A capability set as /proc/<pid>/status shows it, as a number.
uint64_t caps_of(const std::string& hex) {
    return hex.empty() ? 0 : std::stoull(hex, nullptr, 16);
}

/// This process's bounding set: what a privileged container can get at most on this host.
std::string own_bounding_set() {
    std::istringstream lines(read_text("/proc/self/status"));
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("CapBnd:")) {
            std::string value = line.substr(7);
            value.erase(0, value.find_first_not_of(" \t"));
            return value;
        }
    }
    return "";
}

std::string own_namespace(const char* name) {
    std::error_code ec;
    return std::filesystem::read_symlink(std::string("/proc/self/ns/") + name, ec).string();
}

/// Whether the host lets a container have every capability the kernel knows (this machine's
/// sandbox lacks CAP_SYS_RESOURCE: runc under dockerd then cannot start a privileged container).
bool host_has_every_capability() {
    int last = std::atoi(read_text("/proc/sys/kernel/cap_last_cap").c_str());
    return last > 0 && last < 63 && caps_of(own_bounding_set()) == (uint64_t{2} << last) - 1;
}

TEST_F(ContainerOptions, ManyOptionsReachTheContainer) {
    TempDir dir;
    auto pdd = probe_pdd(dir);
    std::filesystem::create_directories(dir / "shared");
    std::ofstream(dir / "shared" / "note.txt") << "bound";
    // The root is read-only: HOME on the tmpfs, for ansible's temp files.
    std::ofstream(dir / "job.env") << "# the job's variables\nHOME=/scratch\n"
                                      "ARUNNER_FROM_FILE=file value\nARUNNER_TEST_BARE\n";
    const std::string ident = unique_ident("many");
    auto result = run_command(
        container_run(pdd, ident, "--process-isolation",
                      {"--container-option=--cap-add=net_admin,SYS_PTRACE",
                       "--container-option=--cap-drop=CHOWN",
                       "--container-option=--hostname=optbox",
                       "--container-option=--device=/dev/null:/dev/arunner-null:rw",
                       "--container-option=--tmpfs=/scratch:size=64m",
                       "--container-option=--mount=type=tmpfs,target=/mnt/t,tmpfs-size=128k",
                       "--container-option=--mount=type=bind,source=" + (dir / "shared").string() +
                           ",target=/mnt/b,readonly",
                       "--container-option=--pids-limit=77",
                       "--container-option=--add-host",
                       "--container-option=arunner-db:10.1.2.3",
                       "--container-option=--dns=10.0.0.53",
                       "--container-option=--dns-search=example.test",
                       "--container-option=--dns-option=ndots:3",
                       "--container-option=--sysctl=kernel.msgmax=4321",
                       "--container-option=--shm-size=8m",
                       "--container-option=--read-only",
                       "--container-option=--group-add=1234",
                       "--container-option=--env-file=" + (dir / "job.env").string(),
                       "--container-option=--pull=never",
                       "--container-option=--platform=linux/amd64"}),
        {{"ARUNNER_TEST_BARE", "from the controller"}});
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
    auto seen = probed(pdd);
    // NET_ADMIN (12) and SYS_PTRACE (19) added, CHOWN (0) dropped.
    const uint64_t caps = caps_of(seen["capeff"]);
    EXPECT_TRUE(caps & (uint64_t{1} << 12)) << seen["capeff"];
    EXPECT_TRUE(caps & (uint64_t{1} << 19)) << seen["capeff"];
    EXPECT_FALSE(caps & 1u) << seen["capeff"];
    EXPECT_EQ(seen["hostname"], "optbox");
    EXPECT_EQ(seen["device"], "char");
    EXPECT_NE(seen["mount /scratch"].find("size=65536k"), std::string::npos)
        << seen["mount /scratch"];
    EXPECT_NE(seen["mount /mnt/t"].find("size=128k"), std::string::npos) << seen["mount /mnt/t"];
    EXPECT_EQ(seen["mount /mnt/t"].find("mode=0,"), std::string::npos) << "podman's mode 0000";
    EXPECT_NE(seen["mount /dev/shm"].find("size=8192k"), std::string::npos)
        << seen["mount /dev/shm"];
    EXPECT_EQ(seen["pids"], "77");
    EXPECT_EQ(seen["hosts"], "10.1.2.3 arunner-db");
    EXPECT_EQ(seen["resolv nameserver"], "10.0.0.53");
    EXPECT_EQ(seen["resolv search"], "example.test");
    EXPECT_EQ(seen["resolv options"], "ndots:3");
    EXPECT_EQ(seen["msgmax"], "4321");
    EXPECT_EQ(seen["root"], "read-only");
    EXPECT_EQ(seen["groups"], "0 1234");  // root's group in the image (the tests run as root)
    EXPECT_EQ(seen["env"], "file value,from the controller,/scratch");
    EXPECT_EQ(seen["bind"], "bound");
    EXPECT_EQ(seen["bind-write"], "no");
    // podman's read-only root comes with tmpfs on /tmp, /run and /var/tmp; docker's without.
    EXPECT_EQ(seen.count("mount /scratch"), 1u);
    EXPECT_EQ(containers_of(ident), 0u);
}

TEST_F(ContainerOptions, NamespacesPrivilegeAndResourcesReachTheContainer) {
    TempDir dir;
    auto pdd = probe_pdd(dir);
    const std::string ident = unique_ident("ns");
    // dockerd's runc cannot start a privileged container on a host that lacks a capability
    // (this sandbox lacks CAP_SYS_RESOURCE); podman gives it what the host has.
    const bool privileged = !on_docker() || host_has_every_capability();
    std::vector<std::string> options = {"--container-option=--ipc=host",
                                        "--container-option=--userns=host",
                                        "--container-option=--memory=256m",
                                        "--container-option=--memory-swap=512m",
                                        "--container-option=--memory-reservation=128m",
                                        "--container-option=--cpu-shares=512",
                                        "--container-option=--cpuset-cpus=0",
                                        "--container-option=--stop-signal=SIGUSR1"};
    if (privileged) {
        options.emplace_back("--container-option=--privileged");
    }
    if (on_docker()) {  // podman cannot run the init in the host's PID namespace (refused below)
        options.emplace_back("--container-option=--pid=host");
    }
    auto result = run_command(container_run(pdd, ident, "--process-isolation", options));
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
    auto seen = probed(pdd);
    if (privileged) {
        EXPECT_EQ(caps_of(seen["capeff"]), caps_of(own_bounding_set())) << seen["capeff"];
    }
    if (on_docker()) {
        EXPECT_EQ(seen["pidns"], own_namespace("pid"));
    } else {
        EXPECT_NE(seen["pidns"], own_namespace("pid"));
    }
    EXPECT_EQ(seen["ipcns"], own_namespace("ipc"));
    EXPECT_EQ(seen["memory/memory.soft_limit_in_bytes"], std::to_string(128 << 20));
    EXPECT_EQ(seen["memory/memory.memsw.limit_in_bytes"], std::to_string(512 << 20));
    EXPECT_EQ(seen["cpu/cpu.shares"], "512");
    EXPECT_EQ(seen["cpuset/cpuset.cpus"], "0");
    EXPECT_EQ(containers_of(ident), 0u);
}

// What one engine would take silently and not do is refused before anything is created.
TEST_F(ContainerOptions, WhatAnEngineWouldIgnoreIsRefused) {
    TempDir dir;
    auto pdd = probe_pdd(dir);
    // An image of another platform: dockerd refuses it on create; podman 4.3's compat create
    // ignores `platform`, so arunner compares the image's own.
    const std::string ident = unique_ident("platform");
    auto result = run_command(container_run(
        pdd, ident, "--process-isolation",
        {"--container-option=--platform=linux/arm64", "--container-option=--pull=never"}));
    EXPECT_NE(result.exit_code, 0);
    EXPECT_NE(result.err.find(on_docker() ? "does not match the specified platform"
                                          : "is linux/amd64, not the --platform linux/arm64"),
              std::string::npos)
        << result.err;
    EXPECT_FALSE(std::filesystem::exists(pdd / "probe.out"));
    EXPECT_EQ(containers_of(ident), 0u);

    // The dialect checks of create(), straight through the engine.
    engine::ContainerSpec spec;
    spec.image = kEeImage;
    spec.name = "arunner_" + unique_ident("refused");
    spec.cmd = {"true"};
    if (on_docker()) {
        // dockerd would store these and run the container in the host's namespaces.
        spec.userns_mode = "keep-id";
        auto userns = service_->engine().create(spec);
        ASSERT_FALSE(userns.ok());
        EXPECT_NE(userns.error().message.find("--userns=keep-id: docker knows only host"),
                  std::string::npos)
            << userns.error().message;
        spec.userns_mode.clear();
        spec.pid_mode = "bogus";
        auto pid = service_->engine().create(spec);
        ASSERT_FALSE(pid.ok());
        EXPECT_NE(pid.error().message.find("--pid=bogus: docker knows only"), std::string::npos)
            << pid.error().message;
    } else {
        // podman's compat API would make -1 twice --memory.
        spec.memory_bytes = 64 << 20;
        spec.memory_swap = -1;
        auto swap = service_->engine().create(spec);
        ASSERT_FALSE(swap.ok());
        EXPECT_NE(swap.error().message.find("--memory-swap=-1"), std::string::npos)
            << swap.error().message;
        // podman runs an init only as PID 1.
        spec.memory_swap.reset();
        spec.init = true;
        spec.pid_mode = "host";
        auto pid = service_->engine().create(spec);
        ASSERT_FALSE(pid.ok());
        EXPECT_NE(pid.error().message.find("--pid=host: podman cannot run the container's init"),
                  std::string::npos)
            << pid.error().message;
    }
    auto left = service_->engine().list("");
    ASSERT_TRUE(left.ok()) << left.error().message;
    for (const auto& container : *left) {
        EXPECT_NE(container.name, spec.name) << "a refused container was created";
    }

    // docker's --privileged on a host without every capability: the engine's error, no container.
    if (on_docker() && !host_has_every_capability()) {
        const std::string privileged = unique_ident("privileged");
        auto refused = run_command(container_run(pdd, privileged, "--process-isolation",
                                                 {"--container-option=--privileged"}));
        EXPECT_NE(refused.exit_code, 0);
        EXPECT_NE(refused.err.find("unable to apply caps"), std::string::npos) << refused.err;
        EXPECT_EQ(containers_of(privileged), 0u);
    }
}

}  // namespace
}  // namespace arunner::testing
