#pragma once
// Runs a program for an integration test: its stdout and stderr go to files (no pipe can fill up
// and deadlock), its exit code comes back. Can also start it in the background to signal it.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace arunner::testing {

/// What a finished command left.
struct CommandResult {
    int exit_code = -1;  ///< -1 when killed by a signal
    std::string out;
    std::string err;
};

inline std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// A started command. Waits for it (and reads its output) on finish().
class BackgroundCommand {
  public:
    BackgroundCommand(const std::vector<std::string>& argv,
                      const std::vector<std::pair<std::string, std::string>>& extra_env = {},
                      const std::filesystem::path& cwd = {}) {
        static int counter = 0;
        auto base = std::filesystem::temp_directory_path() /
                    ("arunner-cmd-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        out_path_ = base.string() + ".out";
        err_path_ = base.string() + ".err";
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 1, out_path_.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_addopen(&actions, 2, err_path_.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (!cwd.empty()) {
            posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
        }
        std::vector<std::string> env_strings;
        for (char** p = environ; *p; ++p) {
            std::string entry(*p);
            bool replaced = false;
            for (const auto& [name, value] : extra_env) {
                replaced = replaced || entry.rfind(name + "=", 0) == 0;
            }
            if (!replaced) {
                env_strings.push_back(entry);
            }
        }
        for (const auto& [name, value] : extra_env) {
            env_strings.push_back(name + "=" + value);
        }
        std::vector<char*> args;
        for (const auto& a : argv) {
            args.push_back(const_cast<char*>(a.c_str()));
        }
        args.push_back(nullptr);
        std::vector<char*> envp;
        for (auto& e : env_strings) {
            envp.push_back(e.data());
        }
        envp.push_back(nullptr);
        if (::posix_spawnp(&pid_, argv[0].c_str(), &actions, nullptr, args.data(), envp.data()) !=
            0) {
            pid_ = -1;
        }
        posix_spawn_file_actions_destroy(&actions);
    }
    ~BackgroundCommand() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        std::filesystem::remove(out_path_);
        std::filesystem::remove(err_path_);
    }
    BackgroundCommand(const BackgroundCommand&) = delete;
    BackgroundCommand& operator=(const BackgroundCommand&) = delete;

    pid_t pid() const { return pid_; }
    std::string current_output() const { return read_text(out_path_); }

    /// Waits for the command to end.
    CommandResult finish() {
        CommandResult result;
        int status = 0;
        if (pid_ > 0 && ::waitpid(pid_, &status, 0) == pid_) {
            result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        pid_ = -1;
        result.out = read_text(out_path_);
        result.err = read_text(err_path_);
        return result;
    }

  private:
    pid_t pid_ = -1;
    std::string out_path_;
    std::string err_path_;
};

/// Runs `argv` to the end.
inline CommandResult run_command(
    const std::vector<std::string>& argv,
    const std::vector<std::pair<std::string, std::string>>& extra_env = {},
    const std::filesystem::path& cwd = {}) {
    BackgroundCommand command(argv, extra_env, cwd);
    return command.finish();
}

/// Polls `condition` every 50 ms for up to `limit`; true once it holds.
template <typename Condition>
bool wait_until(Condition condition, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return condition();
}

/// Pids of live processes whose environment contains `needle` (e.g. "AWX_ISOLATED_DATA_DIR=<ART>"):
/// everything a job started inherits it, so an empty list means nothing of the job is left.
inline std::vector<int> processes_with_environment(const std::string& needle) {
    std::vector<int> pids;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        std::string environ_text = read_text(entry.path() / "environ");
        std::string stat_text = read_text(entry.path() / "stat");
        bool zombie = stat_text.find(") Z ") != std::string::npos;
        size_t pos = 0;
        while (!zombie && (pos = environ_text.find(needle, pos)) != std::string::npos) {
            bool starts = pos == 0 || environ_text[pos - 1] == '\0';
            size_t end = pos + needle.size();
            bool ends = end == environ_text.size() || environ_text[end] == '\0';
            if (starts && ends) {
                pids.push_back(std::stoi(name));
                break;
            }
            pos = end;
        }
    }
    return pids;
}

#ifdef ARUNNER_BINARY
/// The argv of the arunner under test with `args`.
inline std::vector<std::string> arunner(std::vector<std::string> args) {
    args.insert(args.begin(), ARUNNER_BINARY);
    return args;
}
#endif

/// The environment entry every process of a local run carries (AWX_ISOLATED_DATA_DIR names its
/// artifact dir): how a test finds what a run left running.
inline std::string art_env(const std::filesystem::path& art) {
    return "AWX_ISOLATED_DATA_DIR=" + art.string();
}

/// Live processes of the job at `art` running `sleep 300` (tests/fixtures/detached-sleeper's).
inline std::vector<int> detached_sleepers(const std::filesystem::path& art) {
    std::vector<int> found;
    for (int pid : processes_with_environment(art_env(art))) {
        std::string cmdline = read_text("/proc/" + std::to_string(pid) + "/cmdline");
        if (cmdline == std::string("sleep\0"
                                   "300\0",
                                   10)) {
            found.push_back(pid);
        }
    }
    return found;
}

}  // namespace arunner::testing
