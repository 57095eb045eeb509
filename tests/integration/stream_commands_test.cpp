// transmit -> worker -> process with arunner (A) and Debian's ansible-runner (AR) in every
// position: the processed artifacts and events must equal a local run's.

#include <gtest/gtest.h>

#include <set>

#include "support/command.hpp"
#include "support/fixture.hpp"
#include "support/job_events.hpp"

namespace arunner::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

const std::string kA = ARUNNER_BINARY;
const std::string kAR = "/usr/bin/ansible-runner";

std::string quote(const std::string& s) {
    return "'" + s + "'";
}

/// Runs `command` through /bin/sh (for redirections and pipes).
CommandResult shell(const std::string& command) {
    return run_command({"/bin/sh", "-c", command});
}

struct Processed {
    fs::path art;
    std::string status, rc, stdout_text;
    std::vector<Json> events;
};

Processed collect(const fs::path& art) {
    Processed p;
    p.art = art;
    p.status = read_text(art / "status");
    p.rc = read_text(art / "rc");
    p.stdout_text = read_text(art / "stdout");
    p.events = load_job_events(art);
    return p;
}

std::vector<std::string> sequence(const std::vector<Json>& events) {
    std::vector<std::string> out;
    for (const auto& e : events) {
        out.push_back(e.value("event", "") + "|" +
                      (e.contains("event_data") ? e["event_data"].value("task", "") : "") + "|" +
                      e.value("stdout", ""));
    }
    return out;
}

/// One trip: transmit with `t`, work with `w`, process with `p`.
Processed round_trip(const TempDir& tmp, const std::string& fixture, const std::string& t,
                     const std::string& w, const std::string& p, const std::string& ident) {
    fs::path pdd = copy_fixture(fixture, tmp);
    fs::path job = tmp / (ident + ".job");
    fs::path result = tmp / (ident + ".stream");
    fs::path worker_dir = tmp / (ident + "-worker");
    fs::path out_dir = tmp / (ident + "-processed");
    CommandResult sent = shell(quote(t) + " transmit " + quote(pdd.string()) +
                               " -p site.yml --ident " + ident + " > " + quote(job.string()));
    EXPECT_EQ(sent.exit_code, 0) << sent.err;
    CommandResult worked =
        shell(quote(w) + " worker --private-data-dir " + quote(worker_dir.string()) + " < " +
              quote(job.string()) + " > " + quote(result.string()));
    EXPECT_EQ(worked.err, "") << "the worker must keep stderr clean";
    CommandResult processed = shell(quote(p) + " process " + quote(out_dir.string()) + " --ident " +
                                    ident + " < " + quote(result.string()));
    EXPECT_EQ(processed.exit_code, 0) << processed.err;
    EXPECT_EQ(fs::exists(out_dir / "artifacts" / ident / "status"), true) << processed.out;
    return collect(out_dir / "artifacts" / ident);
}

class InteropMatrix
    : public ::testing::TestWithParam<std::tuple<const char*, const char*, const char*>> {};

TEST_P(InteropMatrix, SameArtifactsAndEventsAsALocalRun) {
    auto pick = [](const char* who) { return std::string(who) == "A" ? kA : kAR; };
    auto [t, w, p] = GetParam();
    TempDir tmp;
    // The local run, for reference.
    fs::path local_pdd = copy_fixture("hello", tmp);
    fs::rename(local_pdd, tmp / "local");
    local_pdd = tmp / "local";
    ASSERT_EQ(run_command({kA, "run", local_pdd.string(), "-p", "site.yml", "-i", "local", "-q"})
                  .exit_code,
              0);
    Processed local = collect(local_pdd / "artifacts/local");

    Processed remote =
        round_trip(tmp, "hello", pick(t), pick(w), pick(p), "0123456789abcdef0123456789abcdef");
    EXPECT_EQ(remote.status, "successful");
    EXPECT_EQ(remote.rc, "0");
    EXPECT_EQ(remote.stdout_text, local.stdout_text);
    EXPECT_EQ(sequence(remote.events), sequence(local.events));
    for (size_t i = 0; i < std::min(remote.events.size(), local.events.size()); ++i) {
        EXPECT_EQ(keys_of(remote.events[i]), keys_of(local.events[i])) << i;
    }
    std::set<std::string> files;
    for (const auto& entry : fs::directory_iterator(remote.art)) {
        files.insert(entry.path().filename().string());
    }
    for (const char* name : {"command", "stdout", "stderr", "status", "rc", "job_events"}) {
        EXPECT_EQ(files.count(name), 1u) << name;
    }
}

INSTANTIATE_TEST_SUITE_P(AllPositions, InteropMatrix,
                         ::testing::Values(std::make_tuple("AR", "A", "AR"),
                                           std::make_tuple("A", "AR", "A"),
                                           std::make_tuple("A", "A", "AR"),
                                           std::make_tuple("AR", "A", "A"),
                                           std::make_tuple("A", "A", "A")),
                         [](const auto& info) {
                             return std::string(std::get<0>(info.param)) + "_" +
                                    std::get<1>(info.param) + "_" + std::get<2>(info.param);
                         });

TEST(Stream, TransmitKwargsLineIsAnsibleRunnersByteForByte) {
    TempDir tmp;
    fs::path pdd = copy_fixture("hello", tmp);
    for (const std::string& flags :
         {std::string(" -p site.yml"),
          std::string(" -p site.yml --container-image localhost/arunner-ee "
                      "--container-volume-mount /srv:/srv:Z --limit all -v")}) {
        std::string args = " transmit " + quote(pdd.string()) + " --ident k1" + flags;
        CommandResult ours = shell(quote(kA) + args + " | head -1");
        CommandResult theirs = shell(quote(kAR) + args + " 2>/dev/null | head -1");
        EXPECT_EQ(ours.out, theirs.out) << flags;
        EXPECT_NE(ours.out.find("\"container_image\": "), std::string::npos);
    }
}

TEST(Stream, FailingPlayTravelsAsAFailure) {
    TempDir tmp;
    Processed remote = round_trip(tmp, "failing", kA, kA, kA, "f");
    EXPECT_EQ(remote.status, "failed");
    EXPECT_EQ(remote.rc, "2");
}

TEST(Stream, ThreeProcessesJoinedByPipes) {
    TempDir tmp;
    fs::path pdd = copy_fixture("hello", tmp);
    fs::path out = tmp / "out";
    CommandResult r =
        shell(quote(kA) + " transmit " + quote(pdd.string()) + " -p site.yml -i p | " + quote(kA) +
              " worker | " + quote(kA) + " process " + quote(out.string()) + " -i p");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_text(out / "artifacts/p/status"), "successful");
    EXPECT_NE(r.out.find("hello from arunner"), std::string::npos);
    // The worker's temp dir is gone.
    EXPECT_EQ(read_text(pdd / "artifacts/p/status"), "") << "transmit must not write into the PDD";
}

TEST(Stream, ThreeProcessesJoinedByUnixSockets) {
    TempDir tmp;
    fs::path pdd = copy_fixture("hello", tmp);
    fs::path out = tmp / "out";
    // socketpairs between the stages, made and wired by Debian's python3.
    std::string script =
        "import socket, subprocess, sys\n"
        "a, b = socket.socketpair(socket.AF_UNIX)\n"
        "c, d = socket.socketpair(socket.AF_UNIX)\n"
        "exe, pdd, out = sys.argv[1:4]\n"
        "t = subprocess.Popen([exe, 'transmit', pdd, '-p', 'site.yml', '-i', 's'], stdout=a)\n"
        "w = subprocess.Popen([exe, 'worker'], stdin=b, stdout=c)\n"
        "p = subprocess.Popen([exe, 'process', out, '-i', 's', '-q'], stdin=d)\n"
        "t.wait(); a.shutdown(socket.SHUT_WR); a.close()\n"
        "w.wait(); c.shutdown(socket.SHUT_WR); c.close()\n"
        "sys.exit(p.wait())\n";
    CommandResult r =
        run_command({"/usr/bin/python3", "-c", script, kA, pdd.string(), out.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_text(out / "artifacts/s/status"), "successful");
    EXPECT_GE(load_job_events(out / "artifacts/s").size(), 8u);
}

TEST(Stream, WorkerReportsAGarbageStreamAsAnErrorLine) {
    TempDir tmp;
    std::ofstream(tmp / "garbage") << "this is not json\n";
    CommandResult r = shell(quote(kA) + " worker < " + quote((tmp / "garbage").string()));
    EXPECT_EQ(r.out,
              "{\"status\": \"error\", \"job_explanation\": \"Failed to JSON parse a line from "
              "transmit stream.\"}\n{\"eof\": true}\n");
    EXPECT_EQ(r.err, "");
}

TEST(Stream, ProcessReportsACutStream) {
    TempDir tmp;
    std::ofstream(tmp / "cut") << "{\"status\": \"running\", \"runner_ident\": \"x\"}\n";
    CommandResult r = shell(quote(kA) + " process " + quote((tmp / "out").string()) + " < " +
                            quote((tmp / "cut").string()));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("stream was cut"), std::string::npos) << r.err;
}

TEST(Stream, ProcessQuotesAnUnparsableLineBriefly) {
    TempDir tmp;
    std::ofstream(tmp / "bad") << std::string(10000, 'x') << "\n";
    CommandResult r = shell(quote(kA) + " process " + quote((tmp / "out").string()) + " < " +
                            quote((tmp / "bad").string()));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("Failed to JSON parse a line from worker stream."), std::string::npos);
    EXPECT_LT(r.err.size(), 2000u);
}

TEST(Stream, WorkerRefusesAJobOverMaxUnpackedBytes) {
    TempDir tmp;
    fs::path pdd = copy_fixture("hello", tmp);
    std::ofstream(pdd / "project/big.txt") << std::string(200000, 'z');
    fs::path job = tmp / "job";
    ASSERT_EQ(shell(quote(kA) + " transmit " + quote(pdd.string()) + " -p site.yml > " +
                    quote(job.string()))
                  .exit_code,
              0);
    CommandResult r =
        shell(quote(kA) + " worker --max-unpacked-bytes 100000 < " + quote(job.string()));
    EXPECT_NE(r.out.find("\"status\": \"error\", \"job_explanation\": \"Failed to extract private "
                         "data directory on worker.\""),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("more than the limit of 100000"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.substr(r.out.size() - 14), "{\"eof\": true}\n");
}

TEST(Stream, WorkerInfoLine) {
    CommandResult r = run_command({kA, "worker", "--worker-info"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out.rfind("{cpu_count: ", 0), 0u) << r.out;
    EXPECT_NE(r.out.find(", errors: [], mem_in_bytes: "), std::string::npos);
    EXPECT_NE(r.out.find(", runner_version: "), std::string::npos);
    EXPECT_NE(r.out.find(", uuid: "), std::string::npos);
}

TEST(Stream, KeepalivesNeverReachEventFiles) {
    TempDir tmp;
    fs::path pdd = copy_fixture("short-sleep", tmp);
    fs::path job = tmp / "job";
    fs::path stream = tmp / "stream";
    ASSERT_EQ(shell(quote(kA) + " transmit " + quote(pdd.string()) + " -p site.yml -i k > " +
                    quote(job.string()))
                  .exit_code,
              0);
    ASSERT_EQ(shell(quote(kA) + " worker --keepalive-seconds 1 < " + quote(job.string()) + " > " +
                    quote(stream.string()))
                  .exit_code,
              0);
    std::string text = read_text(stream);
    size_t keepalives = 0;
    for (size_t pos = 0; (pos = text.find("{\"event\": \"keepalive\"", pos)) != std::string::npos;
         ++pos) {
        ++keepalives;
        EXPECT_TRUE(pos == 0 || text[pos - 1] == '\n') << "a keepalive inside another line";
    }
    EXPECT_GE(keepalives, 1u);
    fs::path out = tmp / "out";
    ASSERT_EQ(shell(quote(kA) + " process " + quote(out.string()) + " -i k -q < " +
                    quote(stream.string()))
                  .exit_code,
              0);
    for (const auto& e : load_job_events(out / "artifacts/k")) {
        EXPECT_NE(e["event"], "keepalive");
    }
    EXPECT_EQ(read_text(out / "artifacts/k/status"), "successful");
}

}  // namespace
}  // namespace arunner::testing
