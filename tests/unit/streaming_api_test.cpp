// transmit -> work -> process through the public API, over socketpairs, in three threads (as
// ansible-runner's test_remote_job_by_sockets), with a fake child instead of ansible.

#include "arunner/streaming.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "support/temp_dir.hpp"

namespace arunner {
namespace {

namespace fs = std::filesystem;

TEST(Streaming, ThreeEndsOverSocketsGiveTheLocalArtifacts) {
    testing::TempDir tmp;
    fs::path pdd = tmp / "pdd";
    fs::create_directories(pdd / "project");
    std::ofstream(pdd / "project/job.sh")
        << "s=$(cat <&$ARUNNER_FRAME_FD)\n"  // the frame secret, as the plugin reads it
           "printf '\\033_arunner:%s:{\"event\": \"runner_on_ok\", \"pid\": 1, \"uuid\": "
           "\"00000000-0000-4000-8000-000000000001\", \"event_data\": {\"host\": \"h\"}}"
           "\\033\\\\ok: [h]\\r\\n\\033_arunner:%s:\\033\\\\' \"$s\" \"$s\"\n";
    // The command runs in the project dir of the worker's copy of the private data dir.
    std::ofstream(pdd / "args") << "/bin/sh job.sh";
    int job[2];
    int results[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, job), 0);
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, results), 0);

    RunOptions options;
    options.private_data_dir = pdd;
    options.playbook = "unused.yml";
    options.ident = "remote";
    Status sent;
    std::thread transmitter([&] {
        sent = transmit(options, job[0]);
        ::shutdown(job[0], SHUT_WR);
    });
    Result<int> worker_rc = -1;
    WorkerOptions worker_options;
    worker_options.private_data_dir = tmp / "worker";
    std::thread worker([&] {
        worker_rc = work(job[1], results[0], worker_options);
        ::shutdown(results[0], SHUT_WR);
    });
    ProcessorOptions processor_options;
    processor_options.private_data_dir = tmp / "controller";
    processor_options.ident = "remote";
    processor_options.console_fd = -1;
    std::vector<std::string> statuses;
    processor_options.callbacks.status_handler = [&](const StatusUpdate& u) {
        statuses.push_back(std::string(to_string(u.status)));
    };
    Result<ProcessResult> result = process(results[1], processor_options);
    transmitter.join();
    worker.join();
    for (int fd : {job[0], job[1], results[0], results[1]}) {
        ::close(fd);
    }
    EXPECT_TRUE(sent.ok());
    ASSERT_TRUE(worker_rc.ok()) << worker_rc.error().message;
    EXPECT_EQ(*worker_rc, 0);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->status, JobStatus::successful);
    EXPECT_EQ(statuses, (std::vector<std::string>{"starting", "running", "successful"}));
    fs::path art = tmp / "controller/artifacts/remote";
    EXPECT_TRUE(fs::exists(art / "job_events/1-00000000-0000-4000-8000-000000000001.json"));
    std::ifstream out(art / "stdout");
    std::string text((std::istreambuf_iterator<char>(out)), {});
    EXPECT_EQ(text, "ok: [h]\n");
    EXPECT_FALSE(fs::exists(pdd / "artifacts")) << "transmit must not write into the PDD";
}

}  // namespace
}  // namespace arunner
