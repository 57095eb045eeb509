// The sweep of containers whose arunner is gone (src/isolation/container_sweep.cpp): the label
// format, and which containers a sweep removes, against a fake engine and a fake view of this
// host's processes. Only a controller that is provably gone loses its container.

#include <gtest/gtest.h>
#include <unistd.h>

#include <map>

#include "isolation/container_sweep.hpp"

namespace arunner::isolation {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kBoot = "6f1c3c2e-9a4b-4a1e-8d7c-0123456789ab";
constexpr uint64_t kPidNs = 4026531836;

/// A host where the processes in `processes` (pid -> start time) exist, and no other.
HostView fake_host(std::map<pid_t, uint64_t> processes) {
    HostView host;
    host.boot_id = kBoot;
    host.pid_namespace = kPidNs;
    host.start_time_of = [processes](pid_t pid) -> std::optional<uint64_t> {
        auto it = processes.find(pid);
        if (it == processes.end()) {
            return std::nullopt;
        }
        return it->second;
    };
    return host;
}

std::string label_for(pid_t pid, uint64_t start, std::string boot = kBoot, uint64_t ns = kPidNs) {
    return format_controller_label(ControllerId{pid, start, std::move(boot), ns});
}

/// Lists what it holds; records stop and remove calls. Everything else is unused here.
class FakeEngine final : public engine::ContainerEngine {
  public:
    std::vector<engine::ContainerSummary> containers;
    std::vector<std::string> calls;
    bool fail_remove = false;

    engine::EngineDialect dialect() const override { return engine::EngineDialect::podman; }
    Result<engine::EngineVersion> version() override { return Error{"unused"}; }
    Result<bool> ping() override { return true; }
    Result<bool> image_exists(const std::string&) override { return true; }
    Result<engine::ImageInfo> inspect_image(const std::string&) override { return Error{"unused"}; }
    Result<std::vector<engine::ImageInfo>> list_images() override { return Error{"unused"}; }
    Status untag_image(const std::string&) override { return Error{"unused"}; }
    Result<engine::PruneReport> prune_images() override { return Error{"unused"}; }
    Status pull_image(const engine::PullRequest&, const engine::PullObserver&) override {
        return Error{"unused"};
    }
    Result<std::string> create(const engine::ContainerSpec&) override { return Error{"unused"}; }
    Result<engine::AttachStream> attach(const std::string&) override { return Error{"unused"}; }
    Status start(const std::string&) override { return Error{"unused"}; }
    Result<int> wait(const std::string&) override { return Error{"unused"}; }
    Result<engine::ContainerInfo> inspect(const std::string&) override { return Error{"unused"}; }
    Status kill(const std::string&, int) override { return Error{"unused"}; }
    Status stop(const std::string& id, int) override {
        calls.push_back("stop " + id);
        return {};
    }
    Status remove(const std::string& id, bool force) override {
        calls.push_back(std::string("remove ") + id + (force ? " force" : ""));
        if (fail_remove) {
            return Error{"DELETE /v1.41/containers/" + id + ": 500 device busy"};
        }
        return {};
    }
    Result<std::vector<engine::ContainerSummary>> list(const std::string& label) override {
        calls.push_back("list " + label);
        return containers;
    }

    void add(const std::string& id, Labels labels) {
        containers.push_back(engine::ContainerSummary{id, "ansible_runner_" + id, "img", "running",
                                                      std::move(labels)});
    }
};

Labels controller(const std::string& value) {
    return {{"arunner.ident", "x"}, {kControllerLabel, value}};
}

TEST(ContainerSweepLabel, RoundTrips) {
    ControllerId id{1234, 98765, kBoot, kPidNs};
    std::string text = format_controller_label(id);
    EXPECT_EQ(text, std::string("pid=1234 start=98765 boot=") + kBoot + " pidns=4026531836");
    auto parsed = parse_controller_label(text);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->pid, 1234);
    EXPECT_EQ(parsed->start_time, 98765u);
    EXPECT_EQ(parsed->boot_id, kBoot);
    EXPECT_EQ(parsed->pid_namespace, kPidNs);
}

TEST(ContainerSweepLabel, MalformedLabelsDoNotParse) {
    for (const char* text :
         {"", "pid=1", "pid=1 start=2 boot=b", "pid=x start=2 boot=b pidns=3",
          "pid=-1 start=2 boot=b pidns=3", "pid=0 start=2 boot=b pidns=3",
          "pid=1 start=2 boot=b pidns=3 pid=4", "pid=1 start=2 boot= pidns=3",
          "pid=1 start=99999999999999999999999 boot=b pidns=3", "pid=1  start=2 boot=b pidns=3",
          "pid=1 start=2 boot=b pidns=3 extra=1", "pid=1 start=2 boot=b pidns=0"}) {
        EXPECT_FALSE(parse_controller_label(text)) << text;
    }
}

TEST(ContainerSweepLabel, ThisProcessIsItsOwnLiveController) {
    auto me = this_controller();
    ASSERT_TRUE(me.ok()) << me.error().message;
    EXPECT_EQ(me->pid, ::getpid());
    auto host = this_host();
    ASSERT_TRUE(host.ok()) << host.error().message;
    Labels labels = controller(format_controller_label(*me));
    EXPECT_FALSE(controller_gone(labels, *host));
    auto live = live_controller(labels, *host);
    ASSERT_TRUE(live);
    EXPECT_EQ(*live, "arunner (pid " + std::to_string(::getpid()) + "), still running");
}

TEST(ContainerSweep, RemovesOnlyContainersWhoseControllerIsGone) {
    FakeEngine engine;
    engine.add("alive", controller(label_for(100, 5000)));
    engine.add("dead", controller(label_for(200, 6000)));
    engine.add("reused", controller(label_for(300, 7000)));  // pid 300 now started at 9999
    engine.add("otherboot", controller(label_for(200, 6000, "another-boot-id")));
    engine.add("otherns", controller(label_for(200, 6000, kBoot, kPidNs + 1)));
    engine.add("malformed", controller("pid=200 start=6000"));
    engine.add("garbage", controller("\x01\xff not a label"));
    engine.add("nolabel", {{"arunner.ident", "old"}});
    HostView host = fake_host({{100, 5000}, {300, 9999}});

    auto report = sweep_orphaned_containers(engine, host);
    ASSERT_TRUE(report.ok()) << report.error().message;
    std::vector<std::string> removed;
    for (const auto& c : report->removed) {
        removed.push_back(c.id);
    }
    EXPECT_EQ(removed, (std::vector<std::string>{"dead", "reused"}));
    EXPECT_TRUE(report->errors.empty());
    EXPECT_EQ(engine.calls,
              (std::vector<std::string>{"list arunner.controller", "stop dead", "remove dead force",
                                        "stop reused", "remove reused force"}));
    EXPECT_EQ(report->removed[0].reason, "its arunner (pid 200) is gone");
    EXPECT_EQ(report->removed[1].reason,
              "its arunner (pid 300) is gone; the pid now belongs to another process");
}

TEST(ContainerSweep, ControllerOfAnotherNamespaceOrBootIsNeverJudgedDead) {
    HostView host = fake_host({});
    EXPECT_FALSE(controller_gone(controller(label_for(7, 1, "b2")), host));
    EXPECT_FALSE(controller_gone(controller(label_for(7, 1, kBoot, 1)), host));
    EXPECT_TRUE(controller_gone(controller(label_for(7, 1)), host));
    auto live = live_controller(controller(label_for(7, 1, kBoot, 1)), host);
    ASSERT_TRUE(live);
    EXPECT_NE(live->find("cannot be judged from here"), std::string::npos);
    EXPECT_FALSE(live_controller(controller(label_for(7, 1)), host));
    // A host whose boot id could not be read judges nothing.
    host.boot_id.clear();
    EXPECT_FALSE(controller_gone(controller(label_for(7, 1)), host));
}

TEST(ContainerSweep, RemoveFailureIsReportedAndTheRestGoOn) {
    FakeEngine engine;
    engine.fail_remove = true;
    engine.add("dead1", controller(label_for(200, 1)));
    engine.add("dead2", controller(label_for(201, 1)));
    auto report = sweep_orphaned_containers(engine, fake_host({}));
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->removed.empty());
    ASSERT_EQ(report->errors.size(), 2u);
    EXPECT_EQ(report->errors[0],
              "cannot remove container ansible_runner_dead1 (dead1), whose arunner (pid 200) is "
              "gone: DELETE /v1.41/containers/dead1: 500 device busy");
}

}  // namespace
}  // namespace arunner::isolation
