// `arunner run --process-isolation` end to end against a real engine (a private podman service,
// or the docker run's dockerd: podman_service.hpp) and the offline EE image (scripts/build-ee): the
// container run matches the local run, mounts and options reach the container, cancel / timeout /
// SIGTERM / SIGINT leave no container (checked through the API), and each broken setup is a clear
// error without a hang.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <set>

#include "support/command.hpp"
#include "support/fixture.hpp"
#include "support/job_events.hpp"
#include "support/podman_service.hpp"
#include "support/temp_dir.hpp"

namespace arunner::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::ordered_json;

constexpr const char* kImage = kEeImage;

class Isolation : public EngineSuite {
  protected:
    /// `arunner run PDD -p site.yml --process-isolation …` through the private socket.
    static std::vector<std::string> isolated(const std::filesystem::path& pdd,
                                             const std::string& ident,
                                             const std::vector<std::string>& extra = {}) {
        return container_run(pdd, ident, "--process-isolation", extra);
    }

    /// Containers of this job the engine still knows, running or not.
    size_t containers_of(const std::string& ident) {
        auto listed = service_->engine().list(std::string("arunner.ident=") + ident);
        EXPECT_TRUE(listed.ok()) << listed.error().message;
        return listed.ok() ? listed->size() : 99;
    }

    /// A run that is stopped from outside while its long task sleeps: status and rc of the run,
    /// and no container left.
    void expect_stopped_cleanly(const std::string& ident, int signal,
                                const std::string& expected_status,
                                const std::vector<std::string>& extra = {}) {
        TempDir dir;
        auto pdd = copy_fixture("sleeper", dir);
        BackgroundCommand run(isolated(pdd, ident, extra));
        auto art = pdd / "artifacts" / ident;
        // The long task has started once its task event is there.
        bool sleeping = wait_for_task_start(art, "sleep for a long time", 120s);
        ASSERT_TRUE(sleeping) << run.current_output();
        EXPECT_EQ(containers_of(ident), 1u);
        auto started = std::chrono::steady_clock::now();
        if (signal != 0) {
            ::kill(run.pid(), signal);
        }
        auto result = run.finish();
        auto took = std::chrono::steady_clock::now() - started;
        EXPECT_LT(took, 30s) << "stopping took too long";
        EXPECT_EQ(read_text(art / "status"), expected_status) << result.err;
        EXPECT_EQ(read_text(art / "rc"), "254");
        EXPECT_EQ(containers_of(ident), 0u) << "a container was left behind";
        EXPECT_TRUE(std::filesystem::exists(art / "container_id"));
    }
};

std::string unique_ident(const std::string& what) {
    return "t" + std::to_string(::getpid()) + "_" + what;
}

/// (event, task, host, item) of every event: what a user compares between two runs.
std::vector<std::string> event_summary(const std::vector<ordered_json>& events) {
    std::vector<std::string> summary;
    for (const auto& event : events) {
        const auto& data = event["event_data"];
        std::string item =
            data.contains("res") && data["res"].is_object() && data["res"].contains("item")
                ? data["res"]["item"].dump()
                : "";
        summary.push_back(event.value("event", "") + "|" + data.value("task", "") + "|" +
                          data.value("host", "") + "|" + item);
    }
    return summary;
}

/// ART/stdout without what differs between any two runs (times, uuids, paths).
std::string normalized_stdout(const std::filesystem::path& art, const std::filesystem::path& pdd) {
    std::string text = read_text(art / "stdout");
    text = std::regex_replace(text, std::regex(pdd.string()), "PDD");
    text = std::regex_replace(text, std::regex("/runner"), "PDD");
    // Temp file names, job ids, times and durations differ from run to run.
    text = std::regex_replace(text, std::regex("ansible-local-[^/]+/tmp[A-Za-z0-9_]+"), "TMP");
    text = std::regex_replace(text, std::regex("[0-9]+"), "0");
    return text;
}

TEST_F(Isolation, MatchesTheLocalRun) {
    TempDir dir;
    auto pdd = copy_fixture("events", dir);
    auto local = run_command(
        {ARUNNER_BINARY, "run", pdd.string(), "-p", "site.yml", "--ident", "local", "-q"});
    const std::string ident = unique_ident("match");
    auto contained = run_command(isolated(pdd, ident, {"-q"}));
    auto local_art = pdd / "artifacts" / "local";
    auto art = pdd / "artifacts" / ident;
    EXPECT_EQ(contained.exit_code, local.exit_code) << contained.err;
    EXPECT_EQ(read_text(art / "status"), read_text(local_art / "status"));
    EXPECT_EQ(read_text(art / "rc"), read_text(local_art / "rc"));
    auto events = load_job_events(art);
    auto local_events = load_job_events(local_art);
    ASSERT_GT(events.size(), 20u);
    EXPECT_EQ(event_summary(events), event_summary(local_events));
    for (size_t i = 0; i < events.size() && i < local_events.size(); ++i) {
        EXPECT_EQ(keys_of(events[i]), keys_of(local_events[i])) << i;
        EXPECT_EQ(events[i].value("counter", 0), static_cast<int>(i + 1));
        EXPECT_EQ(events[i].value("runner_ident", ""), ident);
    }
    EXPECT_EQ(normalized_stdout(art, pdd), normalized_stdout(local_art, pdd));
    // ansible-runner's files, plus the container's id; the job saw itself inside /runner.
    for (const char* file :
         {"command", "status", "rc", "stdout", "stderr", "env.list", "container_id"}) {
        EXPECT_TRUE(std::filesystem::exists(art / file)) << file;
    }
    auto command = ordered_json::parse(read_text(art / "command"));
    EXPECT_EQ(command["cwd"], "/runner/project");
    EXPECT_EQ(command["env"]["AWX_ISOLATED_DATA_DIR"], "/runner/artifacts/" + ident);
    EXPECT_NE(read_text(art / "env.list").find("ANSIBLE_STDOUT_CALLBACK=awx_display"),
              std::string::npos);
    EXPECT_EQ(containers_of(ident), 0u);
}

// A task that rewrites env/settings (process_isolation: false would have run the next run on the
// host), env/envvars and the inventory, and plants a link in env/, changes nothing: the run's
// inputs are read-only in the container (docs/private-data-dir-trust.md).
TEST_F(Isolation, ATaskCannotRewriteTheRunsInputs) {
    TempDir dir;
    auto pdd = copy_fixture("inputs_rewrite", dir);
    const std::string settings = read_text(pdd / "env/settings");
    const std::string envvars = read_text(pdd / "env/envvars");
    const std::string hosts = read_text(pdd / "inventory/hosts");
    const std::string ident = unique_ident("inputs");
    auto run = run_command(isolated(pdd, ident, {"-q"}));
    auto art = pdd / "artifacts" / ident;
    EXPECT_EQ(run.exit_code, 0) << run.err << read_text(art / "stdout");
    std::string said;
    for (const auto& event : load_job_events(art)) {
        if (event.value("event", "") == "runner_on_ok") {
            said += event["event_data"]["res"].value("stdout", "");
        }
    }
    EXPECT_EQ(said,
              "kept /runner/env/settings\nkept /runner/env/envvars\nkept "
              "/runner/inventory/hosts\nnot planted");
    EXPECT_EQ(read_text(pdd / "env/settings"), settings);
    EXPECT_EQ(read_text(pdd / "env/envvars"), envvars);
    EXPECT_EQ(read_text(pdd / "inventory/hosts"), hosts);
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(pdd / "env/cmdline")));
    EXPECT_EQ(containers_of(ident), 0u);
}

TEST_F(Isolation, MountsOptionsAndEnvironmentReachTheContainer) {
    TempDir dir;
    auto pdd = dir / "pdd";
    std::filesystem::create_directories(pdd / "project");
    std::filesystem::create_directories(pdd / "env");
    std::filesystem::create_directories(dir / "shared");
    std::ofstream(dir / "shared" / "note.txt") << "mounted-note";
    // User 1234 has no home in the image; HOME=/tmp gives ansible a place for its temp files.
    std::ofstream(pdd / "env" / "envvars") << "FROM_ENVVARS: envvars-value\n";
    std::ofstream(pdd / "project" / "site.yml")
        << "- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n"
           "    - debug:\n        msg: \"{{ lookup('file', '/data/note.txt') }} "
           "{{ lookup('env', 'FROM_OPTION') }} {{ lookup('env', 'FROM_ENVVARS') }} "
           "{{ lookup('pipe', 'id -u') }} {{ lookup('pipe', 'ls /sys/class/net') | "
           "replace('\\n', ',') }}\"\n";
    const std::string ident = unique_ident("mounts");
    auto result = run_command(isolated(
        pdd, ident,
        {"--container-volume-mount", (dir / "shared").string() + ":/data:ro",
         "--container-option=--env=FROM_OPTION=option-value", "--container-option=--network=none",
         "--container-option=--user=1234", "--container-option=--env=HOME=/tmp"}));
    auto art = pdd / "artifacts" / ident;
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
    EXPECT_EQ(read_text(art / "status"), "successful");
    // Only the loopback device exists with --network=none.
    EXPECT_NE(result.out.find("mounted-note option-value envvars-value 1234 lo"), std::string::npos)
        << result.out;
    EXPECT_EQ(containers_of(ident), 0u);
}

/// The MAC addresses of the host's own network devices (not loopback, not the veths and
/// bridges of containers, which come and go while other tests run).
std::set<std::string> host_macs() {
    std::set<std::string> macs;
    for (const auto& entry : std::filesystem::directory_iterator("/sys/class/net")) {
        const std::string name = entry.path().filename().string();
        if (name == "lo" || name.starts_with("veth") || name.starts_with("podman") ||
            name.starts_with("cni") || name.starts_with("docker") || name.starts_with("br-")) {
            continue;
        }
        std::string mac = read_text(entry.path() / "address");
        if (!mac.empty() && mac.back() == '\n') {
            mac.pop_back();
        }
        macs.insert(mac);
    }
    return macs;
}

// SPEC 7.1-7.2 on the engine under test: on docker the container runs as the controller's uid
// (ansible-runner's --user=<uid>; the image's own USER would apply otherwise, as it does on
// podman) and gets no ANSIBLE_UNSAFE_WRITES, which podman's gets; --network reaches the engine.
TEST_F(Isolation, UserEnvironmentAndNetworkFollowTheEngine) {
    // The EE image with a USER of its own, so that the engine's choice of user shows.
    const std::string image = std::string(kImage) + "-user4321-" + std::to_string(::getpid());
    const std::string cli = service_->cli();
    auto made = run_command({"sh", "-c",
                             "set -e; id=$(" + cli + " create " + kImage + " true); " + cli +
                                 " commit --change 'USER 4321' $id " + image + " >/dev/null; " +
                                 cli + " rm $id"});
    ASSERT_EQ(made.exit_code, 0) << made.out << made.err;

    TempDir dir;
    auto pdd = dir / "pdd";
    std::filesystem::create_directories(pdd / "project");
    std::ofstream(pdd / "project" / "site.yml")
        << "- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n"
           "    - debug:\n        msg: \"uid={{ lookup('pipe', 'id -u') }} "
           "unsafe={{ lookup('env', 'ANSIBLE_UNSAFE_WRITES') }} "
           "macs={{ lookup('pipe', 'cat /sys/class/net/*/address') | replace('\\n', ',') }}\"\n";
    const std::string ident = unique_ident("dialect");
    auto argv = isolated(
        pdd, ident, {"--container-option=--network=host", "--container-option=--env=HOME=/tmp"});
    argv[9] = image;
    auto result = run_command(argv);
    run_command({"sh", "-c", cli + " rmi " + image});
    auto art = pdd / "artifacts" / ident;
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
    EXPECT_EQ(read_text(art / "status"), "successful");

    const std::string uid = on_docker() ? std::to_string(::getuid()) : "4321";
    EXPECT_NE(result.out.find("uid=" + uid + " "), std::string::npos) << result.out;
    const std::string unsafe = on_docker() ? "unsafe= " : "unsafe=1 ";
    EXPECT_NE(result.out.find(unsafe), std::string::npos) << result.out;
    EXPECT_EQ(read_text(art / "env.list").find("ANSIBLE_UNSAFE_WRITES=1") != std::string::npos,
              !on_docker())
        << read_text(art / "env.list");
    // With the host's network the container sees the host's own devices.
    size_t at = result.out.find("macs=");
    ASSERT_NE(at, std::string::npos) << result.out;
    const std::string seen = result.out.substr(at, result.out.find('"', at) - at);
    ASSERT_FALSE(host_macs().empty());
    for (const std::string& mac : host_macs()) {
        EXPECT_NE(seen.find(mac), std::string::npos) << mac << " not in " << seen;
    }
    EXPECT_EQ(containers_of(ident), 0u);
}

TEST_F(Isolation, FailingPlayIsFailedWithItsRc) {
    TempDir dir;
    auto pdd = copy_fixture("failing", dir);
    const std::string ident = unique_ident("failing");
    auto result = run_command(isolated(pdd, ident, {"-q"}));
    auto art = pdd / "artifacts" / ident;
    EXPECT_EQ(read_text(art / "status"), "failed");
    EXPECT_EQ(read_text(art / "rc"), "2");
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_EQ(containers_of(ident), 0u);
}

// Issue 10: a process-isolated task replaces /runner/artifacts/<ident> (the private data dir is
// bind-mounted writable) with a symlink to a host directory. Nothing may be written through it:
// the host dir stays as it was, and status and rc land in the directory arunner created.
TEST_F(Isolation, ASymlinkSwappedInForArtIsNeverWrittenThrough) {
    TempDir dir;
    auto pdd = copy_fixture("failing", dir);
    const std::string ident = unique_ident("swap");
    auto host = dir / "host";
    std::filesystem::create_directories(host);
    { std::ofstream(host / "status") << "host file"; }
    ::chmod((host / "status").c_str(), 0644);
    ::chmod(host.c_str(), 0755);
    {
        std::ofstream site(pdd / "project/site.yml");
        site << "- hosts: all\n  gather_facts: false\n  tasks:\n"
             << "    - name: swap ART for a link to a host dir\n"
             << "      shell: mv /runner/artifacts/" << ident << " /runner/artifacts/" << ident
             << ".moved && ln -s " << host.string() << " /runner/artifacts/" << ident << "\n"
             << "    - name: after the swap\n      debug:\n        msg: after\n";
    }
    auto result = run_command(isolated(pdd, ident, {"-q"}));
    auto art = pdd / "artifacts" / ident;
    auto moved = pdd / "artifacts" / (ident + ".moved");
    // The swap happened, and the link is still there for the user to see.
    ASSERT_TRUE(std::filesystem::is_symlink(art)) << result.err;
    std::vector<std::string> in_host;
    for (const auto& entry : std::filesystem::directory_iterator(host)) {
        in_host.push_back(entry.path().filename().string());
    }
    EXPECT_EQ(in_host, std::vector<std::string>{"status"});
    EXPECT_EQ(read_text(host / "status"), "host file");
    struct stat st {};
    ASSERT_EQ(::stat((host / "status").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
    ASSERT_EQ(::stat(host.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0755u);
    EXPECT_EQ(read_text(moved / "status"), "successful") << result.err;
    EXPECT_EQ(read_text(moved / "rc"), "0");
    EXPECT_EQ(result.exit_code, 0) << result.err;
    bool after = false;
    for (const auto& event : load_job_events(moved)) {
        after = after || event["event_data"].value("task", "") == "after the swap";
    }
    EXPECT_TRUE(after) << "the events after the swap went to the original dir";
    EXPECT_EQ(containers_of(ident), 0u);
}

TEST_F(Isolation, SigtermLeavesNoContainer) {
    expect_stopped_cleanly(unique_ident("sigterm"), SIGTERM, "canceled");
}

TEST_F(Isolation, SigintLeavesNoContainer) {
    expect_stopped_cleanly(unique_ident("sigint"), SIGINT, "canceled");
}

TEST_F(Isolation, JobTimeoutLeavesNoContainer) {
    // The timeout comes from the settings; no signal is sent.
    TempDir dir;
    auto pdd = copy_fixture("sleeper", dir);
    std::filesystem::create_directories(pdd / "env");
    std::ofstream(pdd / "env" / "settings") << "job_timeout: 8\n";
    const std::string ident = unique_ident("timeout");
    auto result = run_command(isolated(pdd, ident, {"-q"}));
    auto art = pdd / "artifacts" / ident;
    EXPECT_EQ(read_text(art / "status"), "timeout") << result.err;
    EXPECT_EQ(read_text(art / "rc"), "254");
    EXPECT_EQ(containers_of(ident), 0u);
}

TEST_F(Isolation, WorkerRunsAnIsolatedJobFromAnsibleRunnersTransmit) {
    // AWX's path: the job says process_isolation (here in env/settings); Debian's ansible-runner
    // transmits it, arunner's worker runs it in a container, ansible-runner processes the result.
    TempDir dir;
    auto pdd = copy_fixture("hello", dir);
    std::filesystem::create_directories(pdd / "env");
    std::ofstream(pdd / "env" / "settings")
        << "process_isolation: true\nprocess_isolation_executable: " << TestEngine::name()
        << "\ncontainer_image: " << kImage << "\n";
    const std::string ident = unique_ident("worker");
    auto job = dir / "job", stream = dir / "stream";
    auto sent = run_command({"/bin/sh", "-c",
                             "/usr/bin/ansible-runner transmit '" + pdd.string() +
                                 "' -p site.yml --ident " + ident + " > '" + job.string() + "'"});
    ASSERT_EQ(sent.exit_code, 0) << sent.err;
    auto worked = run_command({"/bin/sh", "-c",
                               std::string("'") + ARUNNER_BINARY + "' worker < '" + job.string() +
                                   "' > '" + stream.string() + "'"},
                              {service_->host_variable()});
    EXPECT_EQ(worked.exit_code, 0) << worked.err;
    EXPECT_EQ(worked.err, "");
    auto out = dir / "processed";
    auto processed = run_command({"/bin/sh", "-c",
                                  "/usr/bin/ansible-runner process '" + out.string() +
                                      "' --ident " + ident + " < '" + stream.string() + "'"});
    EXPECT_EQ(processed.exit_code, 0) << processed.err;
    auto art = out / "artifacts" / ident;
    EXPECT_EQ(read_text(art / "status"), "successful") << read_text(stream);
    EXPECT_TRUE(std::filesystem::exists(art / "container_id"));
    EXPECT_NE(read_text(art / "stdout").find("hello from arunner"), std::string::npos);
    EXPECT_EQ(containers_of(ident), 0u);
}

TEST_F(Isolation, MissingImageFromAnAbsentRegistryIsAnImmediateError) {
    TempDir dir;
    auto pdd = copy_fixture("hello", dir);
    auto argv = isolated(pdd, unique_ident("noimage"));
    argv[9] = "localhost/arunner-no-such-image";
    auto started = std::chrono::steady_clock::now();
    auto result = run_command(argv);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
    EXPECT_NE(result.exit_code, 0);
    // Not present, so pulled (the default policy, missing) from a registry that is not there.
    EXPECT_NE(result.err.find("pulling container image 'localhost/arunner-no-such-image' from "
                              "localhost failed: the registry is unreachable"),
              std::string::npos)
        << result.err;
}

TEST_F(Isolation, MissingSocketIsAClearError) {
    TempDir dir;
    auto pdd = copy_fixture("hello", dir);
    auto argv = isolated(pdd, unique_ident("nosocket"));
    argv[11] = (dir / "no-such.sock").string();
    auto result = run_command(argv);
    EXPECT_NE(result.exit_code, 0);
    EXPECT_NE(result.err.find((dir / "no-such.sock").string()), std::string::npos) << result.err;
}

TEST_F(Isolation, SocketThatIsNotAnEngineIsAClearErrorWithoutAHang) {
    TempDir dir;
    auto pdd = copy_fixture("hello", dir);
    // A unix socket that accepts and answers garbage, then closes.
    auto socket_path = dir / "not-an-engine.sock";
    int listener = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, socket_path.c_str(), sizeof(address.sun_path) - 1);
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ASSERT_EQ(::listen(listener, 4), 0);
    std::thread server([listener] {
        int client = ::accept(listener, nullptr, nullptr);
        if (client >= 0) {
            char buffer[1024];
            (void)!::read(client, buffer, sizeof(buffer));
            const char garbage[] = "SSH-2.0-OpenSSH_9.2\r\n";
            (void)!::write(client, garbage, sizeof(garbage) - 1);
            ::close(client);
        }
    });
    auto argv = isolated(pdd, unique_ident("notengine"));
    argv[11] = socket_path.string();
    auto started = std::chrono::steady_clock::now();
    auto result = run_command(argv);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 15s);
    server.join();
    ::close(listener);
    EXPECT_NE(result.exit_code, 0);
    EXPECT_NE(result.err.find("cannot be used"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find(socket_path.string()), std::string::npos) << result.err;
}

TEST_F(Isolation, EngineErrorOnCreateIsClearAndLeavesNothing) {
    TempDir dir;
    auto pdd = copy_fixture("hello", dir);
    const std::string ident = unique_ident("createfails");
    auto result =
        run_command(isolated(pdd, ident, {"--container-option=--network=arunner-no-such-network"}));
    EXPECT_NE(result.exit_code, 0);
    // podman refuses the network on create, dockerd only on start.
    EXPECT_NE(result.err.find(on_docker() ? "/start: 404 network" : "containers/create"),
              std::string::npos)
        << result.err;
    EXPECT_NE(result.err.find("arunner-no-such-network"), std::string::npos) << result.err;
    EXPECT_EQ(containers_of(ident), 0u);
}

TEST_F(Isolation, UntranslatableOptionIsRefusedByName) {
    TempDir dir;
    auto pdd = copy_fixture("hello", dir);
    const std::string ident = unique_ident("cidfile");
    auto result = run_command(isolated(pdd, ident, {"--container-option=--cidfile=/tmp/cid"}));
    EXPECT_NE(result.exit_code, 0);
    EXPECT_NE(result.err.find("'--cidfile'"), std::string::npos) << result.err;
    EXPECT_EQ(containers_of(ident), 0u);
}

}  // namespace
}  // namespace arunner::testing
