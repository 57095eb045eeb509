// arunner::run_command() and default_command_mode() (arunner/commands.hpp): a command run as a
// job through arunner::Runner, its output read back from ART/stdout and ART/stderr.

#include <stdlib.h>

#include <filesystem>

#include "arunner/commands.hpp"
#include "util/files.hpp"

namespace arunner {
namespace {

namespace fs = std::filesystem;

/// A private data dir made for one call (ansible-runner's mkdtemp(prefix='.ansible-runner-')),
/// removed with everything in it when the call returns.
class TemporaryDataDir {
  public:
    static Result<TemporaryDataDir> create() {
        std::error_code ec;
        fs::path base = fs::temp_directory_path(ec);
        if (ec) {
            base = "/tmp";
        }
        std::string templ = (base / ".ansible-runner-XXXXXXXX").string();
        if (::mkdtemp(templ.data()) == nullptr) {  // mode 0700
            return Error{"cannot create a temporary private data dir under " + base.string()};
        }
        TemporaryDataDir dir;
        dir.path_ = templ;
        return dir;
    }
    TemporaryDataDir(TemporaryDataDir&& other) noexcept : path_(std::move(other.path_)) {
        other.path_.clear();
    }
    TemporaryDataDir& operator=(TemporaryDataDir&&) = delete;
    TemporaryDataDir(const TemporaryDataDir&) = delete;
    TemporaryDataDir& operator=(const TemporaryDataDir&) = delete;
    ~TemporaryDataDir() {
        if (!path_.empty()) {
            std::error_code ec;
            fs::remove_all(path_, ec);  // symlinks in it are removed, never followed
        }
    }
    const fs::path& path() const { return path_; }

  private:
    TemporaryDataDir() = default;
    fs::path path_;
};

}  // namespace

RunnerMode default_command_mode(const std::string& executable, bool has_input_fd) {
    // ansible-runner compares the last os.pathsep (':') piece of the executable, so
    // /usr/bin/ansible-doc misses; arunner compares the file name (docs/commands.md).
    std::string name = fs::path(executable).filename().string();
    bool non_interactive =
        name == "ansible-config" || name == "ansible-doc" || name == "ansible-galaxy";
    return has_input_fd || non_interactive ? RunnerMode::subprocess : RunnerMode::pexpect;
}

Result<CommandResult> run_command(const RunOptions& options, RunCallbacks callbacks) {
    if (options.command.empty()) {
        return Error{"run_command needs a command: the executable and its arguments"};
    }
    std::optional<TemporaryDataDir> temporary;
    const RunOptions* effective = &options;
    RunOptions with_temporary;
    if (options.private_data_dir.empty()) {
        ARUNNER_ASSIGN_OR_RETURN(auto dir, TemporaryDataDir::create());
        temporary.emplace(std::move(dir));
        with_temporary = options;
        with_temporary.private_data_dir = temporary->path();
        effective = &with_temporary;
    } else {
        // Created (0700) when missing, as ansible-runner's os.makedirs(private_data_dir).
        ARUNNER_TRY(util::make_dirs(util::absolute_path(options.private_data_dir), 0700));
    }
    ARUNNER_ASSIGN_OR_RETURN(auto runner, Runner::create(*effective, std::move(callbacks)));
    runner->run();
    CommandResult result;
    // Missing files (suppress_output_file) read as empty, as ansible-runner's empty handles.
    if (auto out = runner->stdout_text()) {
        result.out = std::move(*out);
    }
    if (auto err = runner->stderr_text()) {
        result.err = std::move(*err);
    }
    result.rc = runner->rc();
    result.status = runner->status();
    if (runner->errored()) {
        result.error_message = runner->error_message();
    }
    return result;
}

}  // namespace arunner
