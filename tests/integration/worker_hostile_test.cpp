// The worker against hostile input: a job that tries to swap or fake its dir's lock, signals
// while the job is received, a line above the cap, values out of range, and API extravars that
// must never reach a command line.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <utime.h>

#include <functional>

#include <nlohmann/json.hpp>

#include "support/command.hpp"
#include "support/fixture.hpp"

namespace arunner::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Json = nlohmann::ordered_json;

const std::string kA = ARUNNER_BINARY;

std::string quote(const std::string& s) {
    return "'" + s + "'";
}
CommandResult shell(const std::string& command) {
    return run_command({"/bin/sh", "-c", command});
}

/// `arunner transmit` of the fixture copy at `pdd` (playbook site.yml, ident w) into `job`.
void transmit(const fs::path& pdd, const fs::path& job) {
    CommandResult r = shell(quote(kA) + " transmit " + quote(pdd.string()) +
                            " -p site.yml -i w > " + quote(job.string()));
    ASSERT_EQ(r.exit_code, 0) << r.err;
}

/// The job stream at `job` with its kwargs line changed by `edit`.
void edit_kwargs(const fs::path& job, const std::function<void(Json&)>& edit) {
    std::string text = read_text(job);
    size_t newline = text.find('\n');
    Json line = Json::parse(text.substr(0, newline));
    edit(line["kwargs"]);
    std::ofstream(job, std::ios::binary | std::ios::trunc) << line.dump() << text.substr(newline);
}

/// The JSON lines of a worker's output.
std::vector<Json> lines_of(const std::string& out) {
    std::vector<Json> lines;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) {
        Json parsed = Json::parse(line, nullptr, false);
        if (!parsed.is_discarded()) {
            lines.push_back(parsed);
        }
    }
    return lines;
}

/// The job_explanation of the worker's error status line, "" if there is none; and whether the
/// stream ends with eof.
std::string error_of(const std::string& out, bool* eof = nullptr) {
    std::string explanation;
    auto lines = lines_of(out);
    for (const auto& line : lines) {
        if (line.value("status", "") == "error") {
            explanation =
                line.value("job_explanation", "") + " " + line.value("result_traceback", "");
        }
    }
    if (eof != nullptr) {
        *eof = !lines.empty() && lines.back() == Json{{"eof", true}};
    }
    return explanation;
}

void make_old(const fs::path& dir) {
    struct utimbuf old {};
    old.actime = old.modtime = std::time(nullptr) - 3 * 3600;
    ::utime(dir.c_str(), &old);
}

/// A worker whose stdin is a pipe this test keeps open (so it can block mid-receive).
class PipedWorker {
  public:
    PipedWorker(const std::vector<std::string>& args, const fs::path& tmpdir, const fs::path& out)
        : out_(out) {
        int fds[2];
        EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[0], 0);
        posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                         0600);
        std::vector<std::string> argv = {kA, "worker"};
        argv.insert(argv.end(), args.begin(), args.end());
        std::vector<char*> argv_c;
        for (auto& a : argv) {
            argv_c.push_back(a.data());
        }
        argv_c.push_back(nullptr);
        std::vector<std::string> env = {"TMPDIR=" + tmpdir.string(),
                                        "PATH=" + std::string(std::getenv("PATH"))};
        std::vector<char*> env_c;
        for (auto& e : env) {
            env_c.push_back(e.data());
        }
        env_c.push_back(nullptr);
        EXPECT_EQ(::posix_spawn(&pid_, kA.c_str(), &actions, nullptr, argv_c.data(), env_c.data()),
                  0);
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[0]);
        stdin_ = fds[1];
    }
    ~PipedWorker() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        if (stdin_ >= 0) {
            ::close(stdin_);
        }
    }
    void send(const std::string& bytes) {
        ASSERT_EQ(::write(stdin_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    }
    pid_t pid() const { return pid_; }
    /// Waits (up to `limit`) for the exit; the exit code, or -1 for a signal / still running.
    int wait(std::chrono::milliseconds limit) {
        int status = 0;
        bool done = wait_until([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, limit);
        if (!done) {
            return -2;
        }
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::string output() const { return read_text(out_); }

  private:
    fs::path out_;
    pid_t pid_ = -1;
    int stdin_ = -1;
};

std::vector<std::string> names_in(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) {
        names.push_back(entry.path().filename().string());
    }
    return names;
}

bool has_prefix(const fs::path& dir, const std::string& prefix) {
    for (const auto& name : names_in(dir)) {
        if (name.rfind(prefix, 0) == 0) {
            return true;
        }
    }
    return false;
}

// The job carries a symlink named like the old lock file (which, in the old design, made the dir
// look idle) and a file named like it: `worker cleanup` must still see the dir as busy, and a
// second worker with --delete must refuse it without clearing anything.
TEST(WorkerLock, AJobCannotSwapOrFakeItsDirsLock) {
    TempDir tmp;
    fs::path pdd = copy_fixture("sleeper", tmp);
    fs::create_symlink("project", pdd / ".arunner-worker.lock");
    std::ofstream(pdd / "project/.arunner-worker.lock") << "forged";
    fs::path job = tmp / "job";
    transmit(pdd, job);
    fs::path running = tmp / "pdd_running";
    BackgroundCommand worker({"/bin/sh", "-c",
                              quote(kA) + " worker --private-data-dir " + quote(running.string()) +
                                  " < " + quote(job.string()) + " > /dev/null"});
    ASSERT_TRUE(wait_until([&] { return fs::exists(running / "artifacts/w/job_events"); }, 120s));
    make_old(running);

    CommandResult cleanup = run_command({kA, "worker", "cleanup", "--file-pattern",
                                         (tmp / "pdd_*").string(), "--grace-period", "0"});
    EXPECT_EQ(cleanup.exit_code, 0) << cleanup.err;
    EXPECT_NE(cleanup.out.find("Excluding running project " + running.string()), std::string::npos)
        << cleanup.out;
    EXPECT_TRUE(fs::exists(running / "project/site.yml"));

    CommandResult second = shell(quote(kA) + " worker --delete --private-data-dir " +
                                 quote(running.string()) + " < " + quote(job.string()));
    EXPECT_EQ(second.exit_code, 1);
    EXPECT_NE(error_of(second.out).find("is in use by another worker"), std::string::npos)
        << second.out;
    EXPECT_TRUE(fs::exists(running / "project/site.yml"));
    EXPECT_TRUE(fs::exists(running / "artifacts/w/job_events"));

    ::kill(worker.pid(), SIGTERM);
    worker.finish();
}

TEST(WorkerLock, DeleteEmptiesTheDirAndKeepsItsSemantics) {
    TempDir tmp;
    fs::path pdd = copy_fixture("hello", tmp);
    fs::path job = tmp / "job";
    transmit(pdd, job);
    fs::path dir = tmp / "doomed";
    fs::create_directories(dir / "sub/ro");
    std::ofstream(dir / "sub/ro/old") << "goes";
    ::chmod((dir / "sub/ro").c_str(), 0555);
    fs::create_symlink(pdd / "project/site.yml", dir / "link");
    CommandResult r = shell(quote(kA) + " worker --delete --private-data-dir " +
                            quote(dir.string()) + " < " + quote(job.string()));
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_FALSE(fs::exists(dir));
    EXPECT_TRUE(fs::exists(pdd / "project/site.yml"));  // the link's target stays
}

// Cleanup of an artifact dir named `*`: only the registry auth dir of that literal ident goes.
TEST(WorkerLock, AnArtifactNamedStarDoesNotWidenTheRegistryGlob) {
    TempDir tmp;
    fs::path tmpdir = tmp / "t";
    fs::create_directories(tmpdir / "ansible_runner_registry_other_abcd");
    fs::create_directories(tmpdir / "ansible_runner_registry_*_abcd");
    fs::path done = tmp / "pdd_done";
    fs::create_directories(done / "artifacts/*");
    CommandResult r = run_command({kA, "worker", "cleanup", "--file-pattern",
                                   (tmp / "pdd_*").string(), "--grace-period", "0"},
                                  {{"TMPDIR", tmpdir.string()}});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(fs::exists(done));
    EXPECT_TRUE(fs::exists(tmpdir / "ansible_runner_registry_other_abcd"));
    EXPECT_FALSE(fs::exists(tmpdir / "ansible_runner_registry_*_abcd"));
}

/// Whether process `pid` holds a file in `dir` open that has no name there (the spool: O_TMPFILE
/// shows as "<dir>/#<inode> (deleted)"). The tests run as root, so the worker's /proc/<pid>/fd
/// is readable although the worker is not dumpable.
bool holds_unnamed_file_in(pid_t pid, const fs::path& dir) {
    std::error_code ec;
    for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
        const std::string target = fs::read_symlink(fd.path(), ec).string();
        if (!ec && target.rfind(dir.string() + "/", 0) == 0 &&
            target.find(" (deleted)") != std::string::npos) {
            return true;
        }
    }
    return false;
}

// SIGTERM while the zip is half received: the temp dir and the spooled zip are gone, and the
// stream still ends with an error status and eof. The spool never had a name.
TEST(WorkerSignals, SigtermMidReceiveRemovesTheTempDirAndTheSpool) {
    TempDir tmp;
    fs::path tmpdir = tmp / "t";
    fs::create_directories(tmpdir);
    PipedWorker worker({}, tmpdir, tmp / "out");
    worker.send(
        "{\"kwargs\": {\"ident\": \"w\", \"playbook\": \"site.yml\"}}\n"
        "{\"zipfile\": 100000}\nUEsDBBQAAAAI");
    ASSERT_TRUE(wait_until(
        [&] {
            return holds_unnamed_file_in(worker.pid(), tmpdir) &&
                   has_prefix(tmpdir, "arunner-worker-");
        },
        60s));
    EXPECT_FALSE(has_prefix(tmpdir, "arunner-zip-"));
    ::kill(worker.pid(), SIGTERM);
    EXPECT_EQ(worker.wait(60s), 128 + SIGTERM);
    bool eof = false;
    EXPECT_NE(error_of(worker.output(), &eof).find("signal 15"), std::string::npos)
        << worker.output();
    EXPECT_TRUE(eof) << worker.output();
    EXPECT_EQ(names_in(tmpdir), std::vector<std::string>{});
}

// SIGKILL mid-receive: no cleanup runs, and still no file holding the job's inputs is left
// (only the worker's private data dir, for `worker cleanup`).
TEST(WorkerSignals, SigkillMidReceiveLeavesNoSpool) {
    TempDir tmp;
    fs::path tmpdir = tmp / "t";
    fs::create_directories(tmpdir);
    PipedWorker worker({}, tmpdir, tmp / "out");
    worker.send(
        "{\"kwargs\": {\"ident\": \"w\", \"playbook\": \"site.yml\", "
        "\"passwords\": {\"x\": \"hunter2\"}}}\n"
        "{\"zipfile\": 100000}\nUEsDBBQAAAAI");
    ASSERT_TRUE(wait_until([&] { return holds_unnamed_file_in(worker.pid(), tmpdir); }, 60s));
    ::kill(worker.pid(), SIGKILL);
    EXPECT_EQ(worker.wait(60s), -1);  // killed by the signal
    const std::vector<std::string> left = names_in(tmpdir);
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0].rfind("arunner-worker-", 0), 0u) << left[0];
}

// A worker blocked on a stdin that says nothing notices SIGINT too.
TEST(WorkerSignals, SigintOnASilentStdinEndsTheWorkerCleanly) {
    TempDir tmp;
    fs::path tmpdir = tmp / "t";
    fs::create_directories(tmpdir);
    fs::path dir = tmp / "deleted";
    PipedWorker worker({"--delete", "--private-data-dir", dir.string()}, tmpdir, tmp / "out");
    ASSERT_TRUE(wait_until([&] { return fs::exists(dir); }, 60s));
    ::kill(worker.pid(), SIGINT);
    EXPECT_EQ(worker.wait(60s), 128 + SIGINT);
    bool eof = false;
    EXPECT_NE(error_of(worker.output(), &eof).find("signal 2"), std::string::npos);
    EXPECT_TRUE(eof);
    EXPECT_FALSE(fs::exists(dir));
    EXPECT_EQ(names_in(tmpdir), std::vector<std::string>{});
}

// A 100 MB kwargs line: refused at the 64 MiB cap with a clear error, memory bounded near it.
TEST(WorkerBounds, ALineAboveTheCapIsAClearErrorWithBoundedMemory) {
    TempDir tmp;
    fs::path out = tmp / "out";
    std::string command =
        "{ printf '{\"kwargs\": {\"ident\": \"'; head -c 100000000 /dev/zero | "
        "tr '\\0' a; } | " +
        quote(kA) + " worker > " + quote(out.string()) + " 2>/dev/null";
    pid_t pid = 0;
    std::vector<std::string> argv = {"/bin/sh", "-c", command};
    std::vector<char*> argv_c = {argv[0].data(), argv[1].data(), argv[2].data(), nullptr};
    ASSERT_EQ(::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv_c.data(), environ), 0);
    int status = 0;
    struct rusage usage {};
    ASSERT_EQ(::wait4(pid, &status, 0, &usage), pid);
    std::string text = read_text(out);
    bool eof = false;
    EXPECT_NE(error_of(text, &eof).find("longer than the limit of 67108864 bytes"),
              std::string::npos)
        << text.substr(0, 500);
    EXPECT_TRUE(eof);
    // ru_maxrss (KiB) of the largest waited-for process in the pipeline: the worker.
    EXPECT_LT(usage.ru_maxrss, 200 * 1024) << "KiB";

    // Below the cap but with millions of tiny values: refused before a DOM is built.
    std::string values = "{\"kwargs\": {\"x\": [";
    for (int i = 0; i < 2000000; ++i) {
        values += "0,";
    }
    values += "0]}}\n";
    std::ofstream(tmp / "values") << values;
    CommandResult many = shell(quote(kA) + " worker < " + quote((tmp / "values").string()));
    EXPECT_NE(error_of(many.out).find("more than 1048576 JSON values"), std::string::npos)
        << many.out.substr(0, 300);

    CommandResult small = shell("printf '{\"kwargs\": {\"ident\": \"" + std::string(3000, 'b') +
                                "\"}}\\n' | " + quote(kA) + " worker --max-line-bytes 1000");
    EXPECT_NE(error_of(small.out).find("longer than the limit of 1000 bytes"), std::string::npos)
        << small.out;
}

TEST(WorkerBounds, OutOfRangeValuesFromKwargsAndEnvSettingsAreRefusedNamingTheKey) {
    TempDir tmp;
    fs::path pdd = copy_fixture("hello", tmp);
    fs::path job = tmp / "job";
    transmit(pdd, job);
    struct Case {
        std::function<void(Json&)> edit;
        std::string expected;
    };
    std::vector<Case> cases = {
        {[](Json& k) { k["verbosity"] = 2000000000; }, "verbosity must be at most 100"},
        {[](Json& k) {
             k["settings"] = {{"job_timeout", 1e300}};
         },
         "job_timeout is too large"},
        {[](Json& k) {
             k["settings"] = {{"idle_timeout", -1}};
         },
         "idle_timeout must not be"},
        {[](Json& k) { k["timeout"] = 1e10; }, "timeout is too large"},
        {[](Json& k) { k["forks"] = "100000000000"; }, "forks must be a whole number"},
    };
    for (const auto& c : cases) {
        fs::path edited = tmp / "edited";
        fs::copy_file(job, edited, fs::copy_options::overwrite_existing);
        edit_kwargs(edited, c.edit);
        CommandResult r = shell(quote(kA) + " worker < " + quote(edited.string()));
        EXPECT_EQ(r.exit_code, 1) << c.expected;
        bool eof = false;
        EXPECT_NE(error_of(r.out, &eof).find(c.expected), std::string::npos) << r.out;
        EXPECT_TRUE(eof);
    }
    fs::create_directories(pdd / "env");
    std::ofstream(pdd / "env/settings") << "job_timeout: .inf\n";
    transmit(pdd, job);
    CommandResult r = shell(quote(kA) + " worker < " + quote(job.string()));
    EXPECT_NE(error_of(r.out).find("env/settings: job_timeout is too large"), std::string::npos)
        << r.out;
}

// API extravars through transmit -> worker: the values reach ansible (a task prints them) but
// neither the command (ART/command, the starting status line) nor any process's
// /proc/<pid>/cmdline holds them.
TEST(WorkerExtravars, ApiExtravarsReachAnsibleButNoCommandLine) {
    TempDir tmp;
    fs::path pdd = tmp / "src";
    fs::create_directories(pdd / "project");
    fs::create_directories(pdd / "inventory");
    std::ofstream(pdd / "inventory/hosts")
        << "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n";
    fs::path count = tmp / "count";
    std::ofstream(pdd / "project/site.yml")
        << "- hosts: all\n  gather_facts: false\n  tasks:\n"
        << "    - name: look for the marker on every command line\n"
        << "      shell: \"cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\\\0' '\\\\n' | "
           "grep -c sEcReT-mArK[e]r- > "
        << count.string() << " || true\"\n"
        << "    - name: show it\n      debug:\n        msg: \"got {{ marker }} {{ from_file }}\"\n";
    fs::create_directories(pdd / "env");
    std::ofstream(pdd / "env/extravars") << "{\"marker\": \"overridden\", \"from_file\": \"ff\"}";
    fs::path job = tmp / "job";
    transmit(pdd, job);
    edit_kwargs(job, [](Json& k) { k["extravars"] = {{"marker", "sEcReT-mArKer-42"}}; });
    fs::path dir = tmp / "worker";
    CommandResult r = shell(quote(kA) + " worker --private-data-dir " + quote(dir.string()) +
                            " < " + quote(job.string()));
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("got sEcReT-mArKer-42 ff"), std::string::npos) << "still applied";
    EXPECT_EQ(read_text(count), "0\n");
    std::string command = read_text(dir / "artifacts/w/command");
    EXPECT_EQ(command.find("sEcReT"), std::string::npos) << command;
    EXPECT_NE(command.find("@" + (dir / "env/api-extravars-w.json").string()), std::string::npos)
        << command;
    for (const auto& line : lines_of(r.out)) {
        if (line.value("status", "") == "starting") {
            EXPECT_EQ(line["command"].dump().find("sEcReT"), std::string::npos);
        }
    }
    struct stat st {};
    ASSERT_EQ(::stat((dir / "env/api-extravars-w.json").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

}  // namespace
}  // namespace arunner::testing
