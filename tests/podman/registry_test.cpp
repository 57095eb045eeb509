// Images from a registry (docs/image-pulls.md) against the engine under test and a real private
// registry on 127.0.0.1 (Debian's docker-registry with TLS from a self-signed certificate and
// htpasswd credentials, started once per ctest run by tests/support/registry-fixture, which pushes
// the EE image into it): the right credentials pull and run, a wrong password is a clear error
// naming the registry and the 401, --pull=never with the image absent is a clear error,
// --pull=always pulls a changed tag again where --pull=missing keeps the local image, verify_ssl,
// and the password in no file under the private data dir, no process's argv and no output.

#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "arunner/runner.hpp"
#include "support/command.hpp"
#include "support/fixture.hpp"
#include "support/podman_service.hpp"
#include "support/temp_dir.hpp"

namespace arunner::testing {
namespace {

using namespace std::chrono_literals;

/// The fixture's registry: its address and password (read from its directory).
struct TestRegistry {
    std::filesystem::path dir = ARUNNER_REGISTRY_DIR;
    std::string address;
    std::string password;

    TestRegistry() {
        address = read_text(dir / "address");
        password = read_text(dir / "password");
        for (std::string* text : {&address, &password}) {
            while (!text->empty() && text->back() == '\n') {
                text->pop_back();
            }
        }
    }
};

class Registry : public EngineSuite {
  protected:
    void SetUp() override {
        EngineSuite::SetUp();
        ASSERT_FALSE(registry_.address.empty())
            << "no registry: the tests run through ctest, whose registry fixture starts one";
    }
    void TearDown() override {
        for (const std::string& image : pulled_) {
            (void)service_->engine().untag_image(image);
        }
    }

    /// Pushes podman's `source` to the registry as arunner/ee:TAG (this test's own tag, so that
    /// tests running at once never share one) and returns the reference. The layers are in the
    /// registry already: only a manifest travels.
    std::string push(const std::string& source, const std::string& tag) {
        const std::string reference = registry_.address + "/arunner/ee:" + tag;
        auto pushed =
            run_command({"podman", "push", "-q", "--tls-verify=false", "--authfile",
                         (registry_.dir / "auth.json").string(), source, "docker://" + reference});
        EXPECT_EQ(pushed.exit_code, 0) << pushed.out << pushed.err;
        pulled_.push_back(reference);
        return reference;
    }
    std::string push_ee(const std::string& what) {
        return push(kEeImage, what + "-" + TestEngine::name() + "-" + std::to_string(::getpid()));
    }

    bool present(const std::string& image) {
        auto exists = service_->engine().image_exists(image);
        EXPECT_TRUE(exists.ok()) << exists.error().message;
        return exists.ok() && *exists;
    }

    /// A private data dir whose play prints the marker file of the image (or "none").
    std::filesystem::path marker_project(TempDir& dir) {
        auto pdd = dir / "pdd";
        std::filesystem::create_directories(pdd / "project");
        std::ofstream(pdd / "project" / "site.yml")
            << "- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n"
               "    - debug:\n        msg: \"marker={{ lookup('pipe', 'cat "
               "/etc/arunner-pull-marker 2>/dev/null || echo none') }}\"\n";
        return pdd;
    }

    /// env/settings with container_auth_data for the registry.
    void write_auth_settings(const std::filesystem::path& pdd, const std::string& password,
                             const char* verify_ssl) {
        std::filesystem::create_directories(pdd / "env");
        std::ofstream settings(pdd / "env" / "settings");
        settings << "container_auth_data:\n  host: " << registry_.address
                 << "\n  username: arunner\n  password: " << password << "\n";
        if (verify_ssl != nullptr) {
            settings << "  verify_ssl: " << verify_ssl << "\n";
        }
    }

    /// `arunner run` of `image` with process isolation and `extra`.
    std::vector<std::string> run_of(const std::filesystem::path& pdd, const std::string& ident,
                                    const std::string& image,
                                    const std::vector<std::string>& extra = {}) {
        auto argv = container_run(pdd, ident, "--process-isolation", extra);
        argv[9] = image;
        return argv;
    }

    /// podman verifies TLS unless told not to; dockerd treats a registry on 127.0.0.0/8 as
    /// insecure whatever the client asks (docs/image-pulls.md).
    static const char* verify_off() { return "false"; }

    TestRegistry registry_;
    std::vector<std::string> pulled_;
};

std::string unique_ident(const std::string& what) {
    return "t" + std::to_string(::getpid()) + "_" + what;
}

/// Every regular file under `root` whose bytes contain `needle` (the path, relative).
std::vector<std::string> files_containing(const std::filesystem::path& root,
                                          const std::string& needle) {
    std::vector<std::string> found;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
        if (entry.is_regular_file() && read_text(entry.path()).find(needle) != std::string::npos) {
            found.push_back(std::filesystem::relative(entry.path(), root).string());
        }
    }
    return found;
}

/// Watches every process's argv while it lives, recording any that holds `needle`.
class ArgvWatch {
  public:
    explicit ArgvWatch(std::string needle) : needle_(std::move(needle)) {
        thread_ = std::thread([this] {
            while (!stop_) {
                scan();
                std::this_thread::sleep_for(5ms);
            }
        });
    }
    ~ArgvWatch() { finish(); }
    std::vector<std::string> finish() {
        stop_ = true;
        if (thread_.joinable()) {
            thread_.join();
        }
        return seen_;
    }
    size_t scans() const { return scans_; }

  private:
    void scan() {
        DIR* proc = ::opendir("/proc");
        if (proc == nullptr) {
            return;
        }
        while (dirent* entry = ::readdir(proc)) {
            if (entry->d_name[0] < '0' || entry->d_name[0] > '9') {
                continue;
            }
            std::string argv = read_text(std::string("/proc/") + entry->d_name + "/cmdline");
            if (argv.find(needle_) != std::string::npos) {
                for (char& c : argv) {
                    c = c == '\0' ? ' ' : c;
                }
                seen_.push_back(argv);
            }
        }
        ::closedir(proc);
        ++scans_;
    }

    std::string needle_;
    std::atomic<bool> stop_{false};
    std::atomic<size_t> scans_{0};
    std::vector<std::string> seen_;
    std::thread thread_;
};

TEST_F(Registry, RightCredentialsPullAndRunAndThePasswordIsNowhere) {
    const std::string image = push_ee("right");
    ASSERT_FALSE(present(image));
    TempDir dir;
    auto pdd = marker_project(dir);
    write_auth_settings(pdd, registry_.password, verify_off());
    const std::string ident = unique_ident("pull_right");
    ArgvWatch watch(registry_.password);
    auto result = run_command(run_of(pdd, ident, image, {"--debug"}));
    auto argvs = watch.finish();
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
    auto art = pdd / "artifacts" / ident;
    EXPECT_EQ(read_text(art / "status"), "successful");
    EXPECT_NE(result.out.find("marker=none"), std::string::npos) << result.out;
    EXPECT_TRUE(present(image));
    // The user's own settings file holds it; nothing else does.
    EXPECT_EQ(files_containing(pdd, registry_.password),
              (std::vector<std::string>{"env/settings"}));
    EXPECT_GT(watch.scans(), 0u);
    EXPECT_TRUE(argvs.empty()) << argvs.front();
    EXPECT_EQ(result.out.find(registry_.password), std::string::npos);
    EXPECT_EQ(result.err.find(registry_.password), std::string::npos) << result.err;
    // Not a terminal: no progress line.
    EXPECT_EQ(result.out.find("Pulling "), std::string::npos) << result.out;
}

// On a terminal the pull shows one line, rewritten, and erased before the job's output.
TEST_F(Registry, ProgressLineOnATerminalOnly) {
    const std::string image = push_ee("tty");
    TempDir dir;
    auto pdd = marker_project(dir);
    write_auth_settings(pdd, registry_.password, verify_off());
    const std::string ident = unique_ident("pull_tty");
    std::string command;
    for (const std::string& word : run_of(pdd, ident, image)) {
        std::string quoted = "'";
        for (char c : word) {
            quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
        }
        command += quoted + "' ";
    }
    // script(1) runs it on a pseudo-terminal and copies what it printed.
    auto result = run_command({"script", "-qefc", command, "/dev/null"});
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
    const size_t shown = result.out.find("\r\033[KPulling " + image + ": ");
    ASSERT_NE(shown, std::string::npos) << result.out;
    const size_t erased = result.out.find("\r\033[K", shown + 1);
    ASSERT_NE(erased, std::string::npos) << result.out;
    EXPECT_LT(erased, result.out.find("PLAY [localhost]")) << result.out;
    EXPECT_EQ(read_text(pdd / "artifacts" / ident / "stdout").find("Pulling"), std::string::npos);
}

// Through the C++ API: no file under the private data dir at all.
TEST_F(Registry, ApiCredentialsAreInNoFileArgvOrEvent) {
    const std::string image = push_ee("api");
    TempDir dir;
    auto pdd = marker_project(dir);
    RunOptions options;
    options.private_data_dir = pdd;
    options.playbook = "site.yml";
    options.ident = unique_ident("pull_api");
    options.quiet = true;
    options.process_isolation = true;
    options.process_isolation_executable = TestEngine::name();
    options.container_image = image;
    options.container_engine_socket = service_->socket().string();
    options.container_auth_data =
        ContainerAuthData{registry_.address, "arunner", registry_.password, false};
    ArgvWatch watch(registry_.password);
    auto runner = run(options, {});
    ASSERT_TRUE(runner.ok()) << runner.error().message;
    auto argvs = watch.finish();
    EXPECT_EQ((*runner)->error_message(), "");
    EXPECT_EQ((*runner)->status(), JobStatus::successful);
    EXPECT_TRUE(files_containing(pdd, registry_.password).empty());
    EXPECT_TRUE(argvs.empty()) << argvs.front();
    for (const auto& event : (*runner)->events()) {
        EXPECT_EQ(event.dump().find(registry_.password), std::string::npos);
    }
}

TEST_F(Registry, WrongPasswordNamesTheRegistryAndThe401AndLeavesNothing) {
    const std::string image = push_ee("wrong");
    TempDir dir;
    auto pdd = marker_project(dir);
    write_auth_settings(pdd, "not-the-password", verify_off());
    const std::string ident = unique_ident("pull_wrong");
    auto result = run_command(run_of(pdd, ident, image));
    EXPECT_NE(result.exit_code, 0);
    EXPECT_NE(result.err.find("pulling container image '" + image + "' from " + registry_.address +
                              " failed"),
              std::string::npos)
        << result.err;
    EXPECT_NE(result.err.find("401 unauthorized"), std::string::npos) << result.err;
    EXPECT_EQ(result.err.find("not-the-password"), std::string::npos) << result.err;
    EXPECT_FALSE(present(image));
    auto listed = service_->engine().list(std::string("arunner.ident=") + ident);
    ASSERT_TRUE(listed.ok());
    EXPECT_TRUE(listed->empty());
}

TEST_F(Registry, PullNeverWithTheImageAbsentIsAClearError) {
    const std::string image = push_ee("never");
    TempDir dir;
    auto pdd = marker_project(dir);
    write_auth_settings(pdd, registry_.password, verify_off());
    auto result = run_command(
        run_of(pdd, unique_ident("pull_never"), image, {"--container-option=--pull=never"}));
    EXPECT_NE(result.exit_code, 0);
    EXPECT_NE(result.err.find("container image '" + image + "' is not present"), std::string::npos)
        << result.err;
    EXPECT_NE(result.err.find("--pull=never"), std::string::npos) << result.err;
    EXPECT_FALSE(present(image));
}

// A tag that moves: --pull=missing keeps the local image, --pull=always fetches the new one.
TEST_F(Registry, PullAlwaysPullsAChangedTagAgain) {
    const std::string tag =
        std::string("moving-") + TestEngine::name() + "-" + std::to_string(::getpid());
    const std::string image = push(kEeImage, tag);
    TempDir dir;
    auto pdd = marker_project(dir);
    write_auth_settings(pdd, registry_.password, verify_off());
    auto first = run_command(
        run_of(pdd, unique_ident("always1"), image, {"--container-option=--pull=always"}));
    EXPECT_EQ(first.exit_code, 0) << first.out << first.err;
    EXPECT_NE(first.out.find("marker=none"), std::string::npos) << first.out;

    // The same tag, now an image with a marker file.
    const std::string marked = "localhost/arunner-pull-marker-" + std::to_string(::getpid());
    std::filesystem::create_directories(dir / "context");
    std::ofstream(dir / "context" / "marker") << "second-version\n";
    std::ofstream(dir / "context" / "Containerfile")
        << "FROM " << kEeImage << "\nCOPY marker /etc/arunner-pull-marker\n";
    auto built = run_command({"podman", "build", "-q", "-t", marked, (dir / "context").string()});
    ASSERT_EQ(built.exit_code, 0) << built.out << built.err;
    push(marked, tag);
    run_command({"podman", "rmi", marked});

    auto kept = run_command(run_of(pdd, unique_ident("always2"), image));
    EXPECT_EQ(kept.exit_code, 0) << kept.out << kept.err;
    EXPECT_NE(kept.out.find("marker=none"), std::string::npos) << kept.out;
    auto again = run_command(
        run_of(pdd, unique_ident("always3"), image, {"--container-option=--pull=always"}));
    EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
    EXPECT_NE(again.out.find("marker=second-version"), std::string::npos) << again.out;
}

TEST_F(Registry, VerifySslAgainstTheSelfSignedCertificate) {
    const std::string image = push_ee("tls");
    TempDir dir;
    auto pdd = marker_project(dir);
    write_auth_settings(pdd, registry_.password, "true");
    auto verified = run_command(
        run_of(pdd, unique_ident("tls_on"), image, {"--container-option=--pull=always"}));
    if (on_docker()) {
        // dockerd decides TLS verification itself and counts 127.0.0.0/8 as insecure.
        EXPECT_EQ(verified.exit_code, 0) << verified.err;
    } else {
        EXPECT_NE(verified.exit_code, 0);
        EXPECT_NE(verified.err.find("TLS certificate is not trusted"), std::string::npos)
            << verified.err;
        EXPECT_NE(verified.err.find("x509"), std::string::npos) << verified.err;
        EXPECT_FALSE(present(image));
    }
    write_auth_settings(pdd, registry_.password, "false");
    auto unverified = run_command(
        run_of(pdd, unique_ident("tls_off"), image, {"--container-option=--pull=always"}));
    EXPECT_EQ(unverified.exit_code, 0) << unverified.out << unverified.err;
    EXPECT_TRUE(present(image));
}

}  // namespace
}  // namespace arunner::testing
