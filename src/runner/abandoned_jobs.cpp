#include "runner/abandoned_jobs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "artifacts/artifact_dir.hpp"
#include "util/files.hpp"
#include "util/read_beneath.hpp"
#include "util/uuid.hpp"

namespace arunner::runner {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr size_t kMaxRecord = size_t{64} * 1024;
constexpr size_t kMaxEnviron = size_t{1} << 20;
constexpr int kKillRounds = 20;

/// Makes `dir` (0700) when missing; it must then be a directory of ours, not a link.
Status ensure_private_dir(const fs::path& dir) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        return util::errno_error("cannot create the job registry", dir.string(), errno);
    }
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) {
        return util::errno_error("cannot use the job registry", dir.string(), errno);
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 077) != 0) {
        return Error{"the job registry " + dir.string() +
                     " is not a private directory of this user (a link, or another's, or open "
                     "to others)"};
    }
    return {};
}

/// Whether /proc/<pid>/environ holds exactly `entry`.
bool environ_holds(pid_t pid, const std::string& entry) {
    util::UniqueFd fd(
        ::open(("/proc/" + std::to_string(pid) + "/environ").c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        return false;
    }
    std::string text;
    char buffer[8192];
    ssize_t n = 0;
    while (text.size() < kMaxEnviron && (n = ::read(fd.get(), buffer, sizeof buffer)) > 0) {
        text.append(buffer, static_cast<size_t>(n));
    }
    size_t at = 0;
    while (at < text.size()) {
        size_t end = text.find('\0', at);
        if (end == std::string::npos) {
            end = text.size();
        }
        if (std::string_view(text).substr(at, end - at) == entry) {
            return true;
        }
        at = end + 1;
    }
    return false;
}

/// Kills every process whose environment holds `entry` (through pidfds, checked again after
/// the pidfd is open, so a reused pid is never hit), scanning until a scan finds none; waits up
/// to 5 s for them to go. How many were killed.
int kill_marked(const std::string& entry) {
    std::vector<util::UniqueFd> killed;
    for (int round = 0; round < kKillRounds; ++round) {
        int found = 0;
        std::error_code ec;
        for (const auto& proc : fs::directory_iterator("/proc", ec)) {
            const std::string name = proc.path().filename().string();
            char* end = nullptr;
            long pid = std::strtol(name.c_str(), &end, 10);
            if (end == name.c_str() || *end != '\0' || pid <= 0 || pid == ::getpid()) {
                continue;
            }
            if (!environ_holds(static_cast<pid_t>(pid), entry)) {
                continue;
            }
            util::UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
            if (!pidfd.valid() || !environ_holds(static_cast<pid_t>(pid), entry)) {
                continue;
            }
            ::fcntl(pidfd.get(), F_SETFD, FD_CLOEXEC);
            if (::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0) == 0) {
                ++found;
                killed.push_back(std::move(pidfd));
            }
        }
        if (found == 0) {
            break;
        }
        // A dying process's environ stays readable until it is reaped: wait for the exits
        // before scanning again.
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        for (const auto& fd : killed) {
            pollfd p{fd.get(), POLLIN, 0};
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            ::poll(&p, 1, static_cast<int>(std::max<long>(0, left.count())));
        }
    }
    return static_cast<int>(killed.size());
}

/// Writes status `error` and rc 1 to an ART its dead arunner left without a status, and the
/// reason at the end of its stdout. Never follows a link at ART or in it.
void conclude_art(const fs::path& art, const std::string& reason) {
    util::UniqueFd dir(::open(art.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir.valid()) {
        return;
    }
    struct stat st {};
    if (::fstatat(dir.get(), "status", &st, AT_SYMLINK_NOFOLLOW) != 0) {
        (void)artifacts::write_art_file(art, "status", "error", true);
        (void)artifacts::write_art_file(art, "rc", "1", true);
    }
    util::UniqueFd out(
        ::openat(dir.get(), "stdout", O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (out.valid() && ::fstat(out.get(), &st) == 0 && S_ISREG(st.st_mode)) {
        (void)util::write_all(out.get(), "\n" + reason + "\n");
    }
}

}  // namespace

fs::path job_registry_dir() {
    if (const char* dir = std::getenv("ARUNNER_RUNTIME_DIR"); dir != nullptr && *dir != '\0') {
        return fs::path(dir) / "jobs";
    }
    if (::geteuid() == 0) {
        return "/run/arunner/jobs";
    }
    if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg != nullptr && *xdg == '/') {
        return fs::path(xdg) / "arunner/jobs";
    }
    return fs::path("/tmp") / ("arunner-" + std::to_string(::geteuid())) / "jobs";
}

Result<JobRecord> JobRecord::create(const fs::path& registry, const fs::path& artifact_dir,
                                    const std::string& ident) {
    ARUNNER_TRY(ensure_private_dir(registry.parent_path()));
    ARUNNER_TRY(ensure_private_dir(registry));
    JobRecord record;
    record.dir_.reset(::open(registry.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!record.dir_.valid()) {
        return util::errno_error("cannot open the job registry", registry.string(), errno);
    }
    record.marker_ = util::uuid_hex(util::uuid4());
    record.name_ = "job-" + record.marker_ + ".json";
    const std::string temp = ".new-" + record.marker_;
    record.file_.reset(::openat(record.dir_.get(), temp.c_str(),
                                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!record.file_.valid()) {
        return util::errno_error("cannot create a job record in", registry.string(), errno);
    }
    // Locked before it has its name: a sweep never sees it unlocked while this process lives.
    if (::flock(record.file_.get(), LOCK_EX) != 0 ||
        !util::write_all(
            record.file_.get(),
            Json{{"marker", record.marker_},
                 {"controller_pid", ::getpid()},
                 {"artifact_dir", artifact_dir.string()},
                 {"ident", ident}}
                .dump(-1, ' ', false,
                      Json::error_handler_t::replace)) ||  // no throw on a non-UTF-8 path
        ::renameat(record.dir_.get(), temp.c_str(), record.dir_.get(), record.name_.c_str()) != 0) {
        int err = errno;
        ::unlinkat(record.dir_.get(), temp.c_str(), 0);
        return util::errno_error("cannot write a job record in", registry.string(), err);
    }
    return record;
}

JobRecord::~JobRecord() {
    if (file_.valid() && dir_.valid()) {
        ::unlinkat(dir_.get(), name_.c_str(), 0);
    }
}

std::string JobRecord::environment_entry() const {
    return std::string(kJobMarkerVariable) + "=" + marker_;
}

std::vector<std::string> end_abandoned_jobs(const fs::path& registry) {
    std::vector<std::string> done;
    util::UniqueFd dir(::open(registry.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir.valid()) {
        return done;  // no registry yet: no job was ever recorded
    }
    std::vector<std::string> names;
    if (DIR* listing = ::fdopendir(::fcntl(dir.get(), F_DUPFD_CLOEXEC, 0))) {
        while (dirent* entry = ::readdir(listing)) {
            std::string name = entry->d_name;
            if (name.rfind("job-", 0) == 0 && name.size() > 9 &&
                name.compare(name.size() - 5, 5, ".json") == 0) {
                names.push_back(std::move(name));
            }
        }
        ::closedir(listing);
    }
    for (const std::string& name : names) {
        util::UniqueFd file(
            ::openat(dir.get(), name.c_str(), O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
        struct stat st {};
        if (!file.valid() || ::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
            ::flock(file.get(), LOCK_EX | LOCK_NB) != 0) {
            continue;  // its arunner still runs (or it is not a record)
        }
        util::ReadBounds bounds;
        bounds.max_bytes = kMaxRecord;
        auto text = util::read_file_beneath(dir.get(), name, name, bounds);
        Json record = text.ok() && *text ? Json::parse(**text, nullptr, false) : Json();
        const std::string marker = record.is_object() && record.value("marker", Json()).is_string()
                                       ? record["marker"].get<std::string>()
                                       : "";
        if (marker.size() != 32 ||
            marker.find_first_not_of("0123456789abcdef") != std::string::npos) {
            done.push_back("removed the job record " + name + ", which does not parse");
            ::unlinkat(dir.get(), name.c_str(), 0);
            continue;
        }
        const int killed = kill_marked(std::string(kJobMarkerVariable) + "=" + marker);
        const std::string ident =
            record.value("ident", Json()).is_string() ? record["ident"].get<std::string>() : "";
        const long pid = record.value("controller_pid", Json()).is_number_integer()
                             ? record["controller_pid"].get<long>()
                             : 0;
        const std::string reason =
            "arunner: the arunner that ran this job (pid " + std::to_string(pid) +
            ") ended before the job did; arunner (pid " + std::to_string(::getpid()) +
            ") ended what was left of it (" + std::to_string(killed) + " processes)";
        if (record.value("artifact_dir", Json()).is_string()) {
            fs::path art = record["artifact_dir"].get<std::string>();
            if (art.is_absolute()) {
                conclude_art(art, reason);
            }
        }
        done.push_back("ended job " + ident + ": " + reason.substr(9));
        ::unlinkat(dir.get(), name.c_str(), 0);
    }
    return done;
}

}  // namespace arunner::runner
