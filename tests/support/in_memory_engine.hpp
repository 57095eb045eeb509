#pragma once
// InMemoryEngine: a ContainerEngine held in memory, for unit tests of the code that drives
// containers (isolation/container_job). No socket, no podman: every path of a container job,
// failures included, runs in milliseconds and ends the same way every time.
//
// - Containers live in a map (id, name, spec, labels, created/running/exited, exit code,
//   OOM-killed, removed). A name in use makes create fail as podman does; inspect takes an id
//   or a name; remove of a container that is gone is fine; remove without force of a running
//   one fails.
// - Any call can be made to fail: fail_next("create", Error{...}) (the next call, or the next
//   `times` calls) or fail_always("remove", ...). Every call is logged by name (calls()).
// - attach() returns an AttachStream over one end of a socketpair; the engine keeps the other.
//   What the job writes to stdin is collected (stdin_received()); its end (a half-close, or
//   Ctrl-D with a tty) is EOF for the program.
// - start() runs the container's program (set_program, or set_program_for_image; none: exit 0)
//   on its own thread with a ContainerProcess: it reads stdin, writes stdout/stderr (framed as
//   an engine frames them when the spec has no tty, raw with one), writes raw bytes or an engine
//   error frame, cuts the stream (break_stream) while it keeps running, marks itself OOM-killed,
//   or blocks until it is killed (wait_until_killed). Its return value is the exit code.
//   start() returns once the program has ended or first blocks (waiting for stdin, for a kill,
//   or for room in the socket), so what it wrote before that is already in the socket: tests
//   need no sleeps. A program must block only through ContainerProcess.
// - When the container ends (its program returns, kill, stop, a forced remove) the engine shuts
//   its end of the socket, so the reader gets the output written so far, then EOF; wait()
//   returns the exit code: the program's, 128+signal after kill(), 137 after stop() or OOM.
// - remove() joins the container's threads, so nothing of it runs once it returns.
// - image_exists() answers from set_images() (default: every image exists).

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "arunner/error.hpp"
#include "engine/attach_stream.hpp"
#include "engine/container_engine.hpp"
#include "util/unique_fd.hpp"

namespace arunner::testing {

class ContainerProcess;

/// A container's command, run on its own thread from start(); returns the exit code (ignored
/// when the container was killed, stopped or OOM-killed first).
using ContainerProgram = std::function<int(ContainerProcess&)>;

namespace in_memory {
struct Container {
    std::string id;
    engine::ContainerSpec spec;
    std::string status = "created";  // created, running, exited
    int exit_code = 0;
    bool oom_killed = false;
    bool removed = false;
    bool killed = false;        // ended by kill(), stop(), OOM or a forced remove
    bool settled = false;       // the program has blocked or ended since start()
    util::UniqueFd engine_end;  // the engine's end of the attach socketpair
    bool stream_open = false;   // engine_end attached and not shut down
    std::string stdin_bytes;
    size_t stdin_taken = 0;  // how much of stdin_bytes the program has read
    bool stdin_eof = false;
    std::thread program;
    std::thread stdin_pump;
};
}  // namespace in_memory

/// What a container's program can do. Used from the program's thread only.
class ContainerProcess {
  public:
    ContainerProcess(std::mutex& mutex, std::condition_variable& changed,
                     std::shared_ptr<in_memory::Container> c)
        : mutex_(mutex), changed_(changed), c_(std::move(c)) {}

    const std::string& id() const { return c_->id; }
    const engine::ContainerSpec& spec() const { return c_->spec; }

    /// Output, framed unless the spec has a tty. False once the stream is shut (nobody attached:
    /// the bytes are dropped, true).
    bool write_stdout(std::string_view bytes) { return write_output(OutputStream::out, bytes); }
    bool write_stderr(std::string_view bytes) { return write_output(OutputStream::err, bytes); }
    /// Bytes as they are (half a frame, say).
    bool write_raw(std::string_view bytes);
    /// The frame an engine sends when it fails mid-stream: stream byte 3, the message.
    bool write_engine_error(std::string_view message) {
        const auto n = static_cast<uint32_t>(message.size());
        std::string frame = {'\x03',
                             0,
                             0,
                             0,
                             static_cast<char>(n >> 24),
                             static_cast<char>(n >> 16),
                             static_cast<char>(n >> 8),
                             static_cast<char>(n)};
        return write_raw(frame.append(message));
    }

    /// The next bytes of stdin; empty at its end or once the container has ended.
    std::optional<std::string> read_stdin();
    /// All of stdin up to its end.
    std::string read_stdin_to_end() {
        std::string all;
        while (auto bytes = read_stdin()) {
            all += *bytes;
        }
        return all;
    }

    /// Cuts the attach stream: the reader gets EOF though the container keeps running.
    void break_stream();
    /// Blocks until the container is killed or stopped (a hung command).
    void wait_until_killed();
    /// Whether kill(), stop() or a forced remove ended the container.
    bool killed() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return c_->killed;
    }
    /// The kernel's OOM killer ends the container now: exit code 137, OOMKilled set.
    void oom_kill();

  private:
    bool write_output(OutputStream stream, std::string_view bytes) {
        return c_->spec.tty ? write_raw(bytes)
                            : write_raw(engine::encode_stream_frame(stream, bytes));
    }

    std::mutex& mutex_;
    std::condition_variable& changed_;
    std::shared_ptr<in_memory::Container> c_;
};

class InMemoryEngine final : public engine::ContainerEngine {
  public:
    explicit InMemoryEngine(engine::EngineDialect dialect = engine::EngineDialect::podman)
        : dialect_(dialect) {}
    ~InMemoryEngine() override {
        std::vector<std::thread> threads;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            for (auto& c : containers_) {
                end_locked(*c, 137, true);
                shut_stream_locked(*c);
                threads.push_back(std::move(c->program));
                threads.push_back(std::move(c->stdin_pump));
            }
        }
        for (auto& t : threads) {
            if (t.joinable()) {
                t.join();
            }
        }
    }
    InMemoryEngine(const InMemoryEngine&) = delete;
    InMemoryEngine& operator=(const InMemoryEngine&) = delete;

    // ---- scripting ----
    /// The program of every container whose image has none of its own.
    void set_program(ContainerProgram program) {
        std::lock_guard<std::mutex> lock(mutex_);
        default_program_ = std::move(program);
    }
    void set_program_for_image(const std::string& image, ContainerProgram program) {
        std::lock_guard<std::mutex> lock(mutex_);
        image_programs_[image] = std::move(program);
    }
    /// The next `times` calls of `method` ("create", "attach", "start", "wait", "inspect",
    /// "stop", "kill", "remove", "list", "ping", "image_exists", …) fail with `error`.
    void fail_next(const std::string& method, Error error, int times = 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        failures_[method] = {std::move(error), times};
    }
    void fail_always(const std::string& method, Error error) { fail_next(method, error, -1); }
    /// The images that exist; without this call, every image does.
    void set_images(std::set<std::string> images) {
        std::lock_guard<std::mutex> lock(mutex_);
        images_ = std::move(images);
    }

    // ---- observers ----
    /// Ids of the containers created and not removed, in creation order.
    std::vector<std::string> containers_left() const {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<std::string> ids;
        for (const auto& c : containers_) {
            if (!c->removed) {
                ids.push_back(c->id);
            }
        }
        return ids;
    }
    std::vector<std::string> removed_ids() const { return locked_copy(removed_); }
    std::vector<engine::ContainerSpec> created_specs() const { return locked_copy(specs_); }
    /// Every call, by method name, in order (failed ones too).
    std::vector<std::string> calls() const { return locked_copy(calls_); }
    /// Everything the job wrote to the container's stdin.
    std::string stdin_received(const std::string& id) const {
        std::lock_guard<std::mutex> lock(mutex_);
        auto c = find_locked(id, true);
        return c ? c->stdin_bytes : std::string();
    }
    /// A container's state, removed ones included; empty for an unknown id.
    std::optional<engine::ContainerInfo> container(const std::string& id) const {
        std::lock_guard<std::mutex> lock(mutex_);
        auto c = find_locked(id, true);
        return c ? std::optional(info_locked(*c)) : std::nullopt;
    }
    /// Whether kill(), stop() or a forced remove ended the container.
    bool was_killed(const std::string& id) const {
        std::lock_guard<std::mutex> lock(mutex_);
        auto c = find_locked(id, true);
        return c && c->killed;
    }

    // ---- ContainerEngine ----
    engine::EngineDialect dialect() const override { return dialect_; }
    Result<engine::EngineVersion> version() override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (auto e = called_locked("version")) {
            return *e;
        }
        return engine::EngineVersion{"4.3.1", "1.41", dialect_ == engine::EngineDialect::podman};
    }
    Result<bool> ping() override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (auto e = called_locked("ping")) {
            return *e;
        }
        return dialect_ == engine::EngineDialect::podman;
    }
    Result<bool> image_exists(const std::string& image) override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (auto e = called_locked("image_exists")) {
            return *e;
        }
        return image_known_locked(image);
    }
    Result<engine::ImageInfo> inspect_image(const std::string& image) override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (auto e = called_locked("inspect_image")) {
            return *e;
        }
        if (!image_known_locked(image)) {
            return Error{"GET /images/" + image + "/json: 404: no such image"};
        }
        return engine::ImageInfo{"sha256:" + image, {image}, 0};
    }
    Result<std::vector<engine::ImageInfo>> list_images() override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (auto e = called_locked("list_images")) {
            return *e;
        }
        std::vector<engine::ImageInfo> list;
        for (const auto& image : images_.value_or(std::set<std::string>{})) {
            list.push_back(engine::ImageInfo{"sha256:" + image, {image}, 0});
        }
        return list;
    }
    Status untag_image(const std::string& reference) override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (auto e = called_locked("untag_image")) {
            return *e;
        }
        if (images_) {
            images_->erase(reference);
        }
        return {};
    }
    Result<engine::PruneReport> prune_images() override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (auto e = called_locked("prune_images")) {
            return *e;
        }
        return engine::PruneReport{};
    }

    Result<std::string> create(const engine::ContainerSpec& spec) override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (auto e = called_locked("create")) {
            return *e;
        }
        if (!spec.name.empty() && find_locked(spec.name, false)) {
            return Error{"POST /containers/create: 500: the container name \"" + spec.name +
                         "\" is already in use"};
        }
        if (!image_known_locked(spec.image)) {
            return Error{"POST /containers/create: 404: " + spec.image + ": image not known"};
        }
        auto c = std::make_shared<in_memory::Container>();
        char id[65];
        std::snprintf(
            id, sizeof id, "%016llx%048d",
            0x9e3779b97f4a7c15ULL * static_cast<unsigned long long>(containers_.size() + 1), 0);
        c->id = id;
        c->spec = spec;
        containers_.push_back(c);
        specs_.push_back(spec);
        return c->id;
    }

    Result<engine::AttachStream> attach(const std::string& id) override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (auto e = called_locked("attach")) {
            return *e;
        }
        auto c = find_locked(id, false);
        if (!c) {
            return no_such_container(id);
        }
        if (c->engine_end.valid() || c->status != "created") {
            return Error{"POST /containers/" + id + "/attach: 500: attach only once, before start"};
        }
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
            return Error{"socketpair failed"};
        }
        c->engine_end.reset(fds[0]);
        c->stream_open = true;
        c->stdin_pump = std::thread([this, c, fd = fds[0]] { pump_stdin(*c, fd); });
        return engine::AttachStream(util::UniqueFd(fds[1]), "", c->spec.tty);
    }

    Status start(const std::string& id) override {
        std::unique_lock<std::mutex> lock(mutex_);
        if (auto e = called_locked("start")) {
            return *e;
        }
        auto c = find_locked(id, false);
        if (!c) {
            return no_such_container(id);
        }
        if (c->status == "running") {
            return {};
        }
        if (c->status != "created") {
            return Error{"POST /containers/" + id + "/start: 500: the container has already run"};
        }
        auto own = image_programs_.find(c->spec.image);
        ContainerProgram program = own != image_programs_.end() ? own->second : default_program_;
        c->status = "running";
        c->program = std::thread([this, c, program = std::move(program)] {
            ContainerProcess process(mutex_, changed_, c);
            const int code = program ? program(process) : 0;
            std::lock_guard<std::mutex> done(mutex_);
            c->settled = true;
            end_locked(*c, code, false);
            changed_.notify_all();
        });
        changed_.wait(lock, [&] { return c->settled; });
        return {};
    }

    Result<int> wait(const std::string& id) override {
        std::unique_lock<std::mutex> lock(mutex_);
        if (auto e = called_locked("wait")) {
            return *e;
        }
        auto c = find_locked(id, false);
        if (!c) {
            return no_such_container(id);
        }
        changed_.wait(lock, [&] { return c->status == "exited" || c->removed; });
        if (c->status != "exited") {
            return no_such_container(id);
        }
        return c->exit_code;
    }

    Result<engine::ContainerInfo> inspect(const std::string& id) override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (auto e = called_locked("inspect")) {
            return *e;
        }
        auto c = find_locked(id, false);
        if (!c) {
            return no_such_container(id);
        }
        return info_locked(*c);
    }

    Status kill(const std::string& id, int signal) override {
        return end_by_request("kill", id, 128 + signal);
    }
    Status stop(const std::string& id, int /*grace_seconds*/) override {
        return end_by_request("stop", id, 128 + SIGKILL);
    }

    Status remove(const std::string& id, bool force) override {
        std::unique_lock<std::mutex> lock(mutex_);
        if (auto e = called_locked("remove")) {
            return *e;
        }
        auto c = find_locked(id, false);
        if (!c) {
            return {};  // already gone
        }
        if (c->status == "running" && !force) {
            return Error{"DELETE /containers/" + id + ": 409: the container is running"};
        }
        end_locked(*c, 128 + SIGKILL, true);
        shut_stream_locked(*c);
        c->removed = true;
        removed_.push_back(c->id);
        changed_.notify_all();
        std::thread program = std::move(c->program);
        std::thread pump = std::move(c->stdin_pump);
        lock.unlock();
        for (std::thread* t : {&program, &pump}) {
            if (t->joinable()) {
                t->join();
            }
        }
        lock.lock();
        c->engine_end.reset();
        return {};
    }

    Result<std::vector<engine::ContainerSummary>> list(const std::string& label) override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (auto e = called_locked("list")) {
            return *e;
        }
        std::vector<engine::ContainerSummary> list;
        for (const auto& c : containers_) {
            bool match = label.empty();
            for (const auto& [key, value] : c->spec.labels) {
                match = match || label == key || label == key + "=" + value;
            }
            if (!c->removed && match) {
                list.push_back({c->id, c->spec.name, c->spec.image, c->status, c->spec.labels});
            }
        }
        return list;
    }

  private:
    template <typename T>
    T locked_copy(const T& value) const {
        std::lock_guard<std::mutex> lock(mutex_);
        return value;
    }

    static Error no_such_container(const std::string& id) {
        return Error{"GET /containers/" + id + "/json: 404: no such container"};
    }

    /// Logs the call; the scripted failure, if any.
    std::optional<Error> called_locked(const std::string& method) {
        calls_.push_back(method);
        auto it = failures_.find(method);
        if (it == failures_.end()) {
            return std::nullopt;
        }
        Error error = it->second.first;
        if (it->second.second > 0 && --it->second.second == 0) {
            failures_.erase(it);
        }
        return error;
    }

    bool image_known_locked(const std::string& image) const {
        return !images_ || images_->count(image) > 0;
    }

    std::shared_ptr<in_memory::Container> find_locked(const std::string& id_or_name,
                                                      bool removed_too) const {
        for (const auto& c : containers_) {
            if ((c->id == id_or_name || c->spec.name == id_or_name) &&
                (removed_too || !c->removed)) {
                return c;
            }
        }
        return nullptr;
    }

    static engine::ContainerInfo info_locked(const in_memory::Container& c) {
        engine::ContainerInfo info;
        info.id = c.id;
        info.name = c.spec.name;
        info.image = c.spec.image;
        info.status = c.status;
        info.running = c.status == "running";
        info.exit_code = c.exit_code;
        info.oom_killed = c.oom_killed;
        info.tty = c.spec.tty;
        info.labels = c.spec.labels;
        return info;
    }

    Status end_by_request(const std::string& method, const std::string& id, int code) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (auto e = called_locked(method)) {
            return *e;
        }
        auto c = find_locked(id, false);
        if (!c) {
            return no_such_container(id);
        }
        end_locked(*c, code, true);
        return {};
    }

    // The one place a container ends: later ends (the program returning after a kill) are
    // ignored, so the first one decides the exit code.
    void end_locked(in_memory::Container& c, int code, bool killed) {
        if (c.status != "running") {
            return;
        }
        c.status = "exited";
        c.exit_code = code;
        c.killed = killed;
        shut_stream_locked(c);
        changed_.notify_all();
    }

    // The reader sees what was written, then EOF; the stdin pump and a blocked write wake up.
    // The fd itself stays open until remove() has joined the threads that use it.
    static void shut_stream_locked(in_memory::Container& c) {
        if (c.stream_open) {
            ::shutdown(c.engine_end.get(), SHUT_RDWR);
            c.stream_open = false;
        }
    }

    void pump_stdin(in_memory::Container& c, int fd) {
        char buffer[4096];
        for (;;) {
            ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            std::lock_guard<std::mutex> lock(mutex_);
            std::string_view bytes(buffer, n > 0 ? static_cast<size_t>(n) : 0);
            // With a tty the job ends stdin with Ctrl-D, which a pty turns into EOF.
            size_t eot = c.spec.tty ? bytes.find('\x04') : std::string_view::npos;
            if (!c.stdin_eof) {
                c.stdin_bytes.append(bytes.substr(0, eot));
            }
            c.stdin_eof = c.stdin_eof || n <= 0 || eot != std::string_view::npos;
            changed_.notify_all();
            if (n <= 0) {
                return;
            }
        }
    }

    engine::EngineDialect dialect_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::shared_ptr<in_memory::Container>> containers_;
    std::vector<engine::ContainerSpec> specs_;
    std::vector<std::string> removed_;
    std::vector<std::string> calls_;
    std::map<std::string, std::pair<Error, int>> failures_;  // method: error, times (-1: always)
    std::optional<std::set<std::string>> images_;
    ContainerProgram default_program_;
    std::map<std::string, ContainerProgram> image_programs_;
};

inline bool ContainerProcess::write_raw(std::string_view bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
        int fd = -1;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!c_->engine_end.valid()) {
                return true;  // nobody attached: the output goes nowhere
            }
            if (!c_->stream_open) {
                return false;
            }
            fd = c_->engine_end.get();
        }
        ssize_t n =
            ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            sent += static_cast<size_t>(n);
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            {
                std::lock_guard<std::mutex> lock(mutex_);
                c_->settled = true;  // blocked until the job reads: start() may return
                changed_.notify_all();
            }
            pollfd room{fd, POLLOUT, 0};
            (void)::poll(&room, 1, 100);  // a shutdown wakes it; the timeout is a safety net
        } else if (n < 0 && errno != EINTR) {
            return false;
        }
    }
    return true;
}

inline std::optional<std::string> ContainerProcess::read_stdin() {
    std::unique_lock<std::mutex> lock(mutex_);
    c_->settled = true;
    changed_.notify_all();
    changed_.wait(lock, [&] {
        return c_->stdin_taken < c_->stdin_bytes.size() || c_->stdin_eof ||
               !c_->engine_end.valid() || c_->status != "running";
    });
    if (c_->stdin_taken >= c_->stdin_bytes.size()) {
        return std::nullopt;
    }
    std::string bytes = c_->stdin_bytes.substr(c_->stdin_taken);
    c_->stdin_taken = c_->stdin_bytes.size();
    return bytes;
}

inline void ContainerProcess::break_stream() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (c_->stream_open) {
        ::shutdown(c_->engine_end.get(), SHUT_RDWR);
        c_->stream_open = false;
    }
}

inline void ContainerProcess::wait_until_killed() {
    std::unique_lock<std::mutex> lock(mutex_);
    c_->settled = true;
    changed_.notify_all();
    changed_.wait(lock, [&] { return c_->status != "running"; });
}

inline void ContainerProcess::oom_kill() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (c_->status != "running") {
        return;
    }
    c_->oom_killed = true;
    c_->status = "exited";
    c_->exit_code = 128 + SIGKILL;
    c_->killed = true;
    if (c_->stream_open) {
        ::shutdown(c_->engine_end.get(), SHUT_RDWR);
        c_->stream_open = false;
    }
    changed_.notify_all();
}

}  // namespace arunner::testing
