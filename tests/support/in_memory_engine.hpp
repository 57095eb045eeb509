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
#include "engine/pull_progress.hpp"
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

class InMemoryEngine;

/// What a container's program can do. Used from the program's thread only.
class ContainerProcess {
  public:
    ContainerProcess(InMemoryEngine& engine, std::shared_ptr<in_memory::Container> c)
        : engine_(engine), c_(std::move(c)) {}

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
    /// Whether kill(), stop(), OOM or a forced remove ended the container.
    bool killed() const;
    /// The kernel's OOM killer ends the container now: exit code 137, OOMKilled set.
    void oom_kill();

  private:
    bool write_output(OutputStream stream, std::string_view bytes) {
        return c_->spec.tty ? write_raw(bytes)
                            : write_raw(engine::encode_stream_frame(stream, bytes));
    }

    InMemoryEngine& engine_;
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
                end_locked(*c, 128 + SIGKILL, true);
                shut_stream_locked(*c);
                threads.push_back(std::move(c->program));
                threads.push_back(std::move(c->stdin_pump));
            }
        }
        join(threads);
    }
    InMemoryEngine(const InMemoryEngine&) = delete;
    InMemoryEngine& operator=(const InMemoryEngine&) = delete;

    // ---- scripting ----
    /// The program of every container whose image has none of its own.
    void set_program(ContainerProgram program) {
        locked([&] { default_program_ = program; });
    }
    void set_program_for_image(const std::string& image, ContainerProgram program) {
        locked([&] { image_programs_[image] = std::move(program); });
    }
    /// The next `times` calls of `method` ("create", "attach", "start", "wait", "inspect",
    /// "stop", "kill", "remove", "list", "ping", "image_exists", …) fail with `error`.
    void fail_next(const std::string& method, Error error, int times = 1) {
        locked([&] { failures_[method] = {std::move(error), times}; });
    }
    void fail_always(const std::string& method, Error error) { fail_next(method, error, -1); }
    /// The images that exist; without this call, every image does.
    void set_images(std::set<std::string> images) {
        locked([&] { images_ = std::move(images); });
    }

    /// What a pull from a registry finds: the images the registry has (a pull of any other one
    /// fails with "manifest unknown"), the lines it reports, and the credentials it wants
    /// (none: anyone may pull). A pull adds the image to set_images()'s set.
    void set_registry(std::set<std::string> images, std::vector<engine::PullLine> lines = {},
                      std::optional<engine::RegistryAuth> wanted = std::nullopt) {
        locked([&] {
            registry_ = std::move(images);
            pull_lines_ = std::move(lines);
            wanted_auth_ = std::move(wanted);
        });
    }

    // ---- observers ----
    /// Every pull asked for, in order (keep_going cleared).
    std::vector<engine::PullRequest> pulls() const {
        return locked([&] { return pulls_; });
    }
    /// Ids of the containers created and not removed, in creation order.
    std::vector<std::string> containers_left() const {
        return locked([&] {
            std::vector<std::string> ids;
            for (const auto& c : containers_) {
                if (!c->removed) {
                    ids.push_back(c->id);
                }
            }
            return ids;
        });
    }
    std::vector<std::string> removed_ids() const {
        return locked([&] { return removed_; });
    }
    std::vector<engine::ContainerSpec> created_specs() const {
        return locked([&] { return specs_; });
    }
    /// Every call, by method name, in order (failed ones too).
    std::vector<std::string> calls() const {
        return locked([&] { return calls_; });
    }
    /// Everything the job wrote to the container's stdin.
    std::string stdin_received(const std::string& id) const {
        return locked([&] {
            auto c = find_locked(id, true);
            return c ? c->stdin_bytes : std::string();
        });
    }
    /// A container's state by id or name, removed ones included; empty for an unknown one.
    std::optional<engine::ContainerInfo> container(const std::string& id) const {
        return locked([&] {
            auto c = find_locked(id, true);
            return c ? std::optional(info_locked(*c)) : std::nullopt;
        });
    }
    /// Whether kill(), stop(), OOM or a forced remove ended the container.
    bool was_killed(const std::string& id) const {
        return locked([&] {
            auto c = find_locked(id, true);
            return c && c->killed;
        });
    }

    // ---- ContainerEngine ----
    engine::EngineDialect dialect() const override { return dialect_; }
    Result<engine::EngineVersion> version() override {
        return call<engine::EngineVersion>("version", [&](auto&) {
            return engine::EngineVersion{"4.3.1", "1.41",
                                         dialect_ == engine::EngineDialect::podman};
        });
    }
    Result<bool> ping() override {
        return call<bool>("ping", [&](auto&) { return dialect_ == engine::EngineDialect::podman; });
    }
    Result<bool> image_exists(const std::string& image) override {
        return call<bool>("image_exists", [&](auto&) { return image_known_locked(image); });
    }
    Result<engine::ImageInfo> inspect_image(const std::string& image) override {
        return call<engine::ImageInfo>("inspect_image", [&](auto&) -> Result<engine::ImageInfo> {
            if (!image_known_locked(image)) {
                return Error{"GET /images/" + image + "/json: 404: no such image"};
            }
            return engine::ImageInfo{"sha256:" + image, {image}, 0};
        });
    }
    Result<std::vector<engine::ImageInfo>> list_images() override {
        return call<std::vector<engine::ImageInfo>>("list_images", [&](auto&) {
            std::vector<engine::ImageInfo> list;
            for (const auto& image : images_.value_or(std::set<std::string>{})) {
                list.push_back(engine::ImageInfo{"sha256:" + image, {image}, 0});
            }
            return list;
        });
    }
    Status untag_image(const std::string& reference) override {
        return call<void>("untag_image", [&](auto&) -> Status {
            if (images_) {
                images_->erase(reference);
            }
            return {};
        });
    }
    Result<engine::PruneReport> prune_images() override {
        return call<engine::PruneReport>("prune_images",
                                         [](auto&) { return engine::PruneReport{}; });
    }

    Status pull_image(const engine::PullRequest& request,
                      const engine::PullObserver& observer) override {
        std::vector<engine::PullLine> lines;
        auto asked = call<void>("pull_image", [&](auto&) -> Status {
            pulls_.push_back(request);
            pulls_.back().keep_going = nullptr;
            if (wanted_auth_ &&
                (!request.auth || request.auth->username != wanted_auth_->username ||
                 request.auth->password != wanted_auth_->password)) {
                return Error{"initializing source docker://" + request.image +
                             ": reading manifest: unauthorized: authentication required"};
            }
            if (!registry_.contains(request.image)) {
                return Error{"initializing source docker://" + request.image +
                             ": reading manifest latest: manifest unknown: manifest unknown"};
            }
            lines = pull_lines_;
            return {};
        });
        if (!asked.ok()) {
            return asked;
        }
        for (const auto& line : lines) {  // outside the lock: the observer may call back
            if (request.keep_going && !request.keep_going()) {
                return Error{"POST /images/create: canceled"};
            }
            if (observer && !observer(line)) {
                return Error{"POST /images/create: canceled"};
            }
        }
        locked([&] {
            if (images_) {
                images_->insert(request.image);
            }
        });
        return {};
    }

    Result<std::string> create(const engine::ContainerSpec& spec) override {
        return call<std::string>("create", [&](auto&) -> Result<std::string> {
            if (!spec.name.empty() && find_locked(spec.name, false)) {
                return Error{"POST /containers/create: 500: the container name \"" + spec.name +
                             "\" is already in use"};
            }
            if (!image_known_locked(spec.image)) {
                return Error{"POST /containers/create: 404: " + spec.image + ": image not known"};
            }
            auto c = std::make_shared<in_memory::Container>();
            char id[65];  // 64 hex digits, distinct in the first 12 as podman's are
            std::snprintf(id, sizeof id, "%016llx%048d",
                          0x9e3779b97f4a7c15ULL * (containers_.size() + 1), 0);
            c->id = id;
            c->spec = spec;
            containers_.push_back(c);
            specs_.push_back(spec);
            return c->id;
        });
    }

    Result<engine::AttachStream> attach(const std::string& id) override {
        return call_on<engine::AttachStream>(
            "attach", id, [&](auto&, auto c) -> Result<engine::AttachStream> {
                if (c->engine_end.valid() || c->status != "created") {
                    return Error{"POST /containers/" + id +
                                 "/attach: 500: attach once, before start"};
                }
                int fds[2];
                if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
                    return Error{"socketpair failed"};
                }
                c->engine_end.reset(fds[0]);
                c->stream_open = true;
                c->stdin_pump = std::thread([this, c, fd = fds[0]] { pump_stdin(*c, fd); });
                return engine::AttachStream(util::UniqueFd(fds[1]), "", c->spec.tty);
            });
    }

    Status start(const std::string& id) override {
        return call_on<void>("start", id, [&](auto& lock, auto c) -> Status {
            if (c->status != "created") {
                return c->status == "running"
                           ? Status{}
                           : Error{"POST /containers/" + id + "/start: 500: it has already run"};
            }
            auto own = image_programs_.find(c->spec.image);
            ContainerProgram program =
                own != image_programs_.end() ? own->second : default_program_;
            c->status = "running";
            c->program = std::thread([this, c, program = std::move(program)] {
                ContainerProcess process(*this, c);
                const int code = program ? program(process) : 0;
                std::lock_guard<std::mutex> done(mutex_);
                c->settled = true;
                end_locked(*c, code, false);
                changed_.notify_all();  // start() may wait for `settled` still
            });
            changed_.wait(lock, [&] { return c->settled; });
            return {};
        });
    }

    Result<int> wait(const std::string& id) override {
        return call_on<int>("wait", id, [&](auto& lock, auto c) -> Result<int> {
            changed_.wait(lock, [&] { return c->status == "exited" || c->removed; });
            return c->status == "exited" ? Result<int>(c->exit_code) : no_such_container(id);
        });
    }

    Result<engine::ContainerInfo> inspect(const std::string& id) override {
        return call_on<engine::ContainerInfo>("inspect", id,
                                              [&](auto&, auto c) { return info_locked(*c); });
    }

    Status kill(const std::string& id, int signal) override {
        return call_on<void>("kill", id, [&](auto&, auto c) -> Status {
            end_locked(*c, 128 + signal, true);
            return {};
        });
    }
    Status stop(const std::string& id, int /*grace_seconds*/) override {
        return call_on<void>("stop", id, [&](auto&, auto c) -> Status {
            end_locked(*c, 128 + SIGKILL, true);
            return {};
        });
    }

    Status remove(const std::string& id, bool force) override {
        return call<void>("remove", [&](auto& lock) -> Status {
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
            std::vector<std::thread> threads;
            threads.push_back(std::move(c->program));
            threads.push_back(std::move(c->stdin_pump));
            lock.unlock();
            join(threads);
            lock.lock();
            c->engine_end.reset();
            return {};
        });
    }

    Result<std::vector<engine::ContainerSummary>> list(const std::string& label) override {
        return call<std::vector<engine::ContainerSummary>>("list", [&](auto&) {
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
        });
    }

  private:
    friend class ContainerProcess;
    using Lock = std::unique_lock<std::mutex>;
    using ContainerPtr = std::shared_ptr<in_memory::Container>;

    template <typename Body>
    auto locked(Body body) const -> decltype(body()) {
        Lock lock(mutex_);
        return body();
    }

    /// Logs the call, then fails it as scripted or runs `body(lock)` under the lock.
    template <typename T, typename Body>
    Result<T> call(const std::string& method, Body body) {
        Lock lock(mutex_);
        calls_.push_back(method);
        if (auto it = failures_.find(method); it != failures_.end()) {
            Error error = it->second.first;
            if (it->second.second > 0 && --it->second.second == 0) {
                failures_.erase(it);
            }
            return error;
        }
        return body(lock);
    }

    /// call() on the live container `id` (or name).
    template <typename T, typename Body>
    Result<T> call_on(const std::string& method, const std::string& id, Body body) {
        return call<T>(method, [&](Lock& lock) -> Result<T> {
            auto c = find_locked(id, false);
            if (!c) {
                return no_such_container(id);
            }
            return body(lock, c);
        });
    }

    static Error no_such_container(const std::string& id) {
        return Error{"GET /containers/" + id + "/json: 404: no such container"};
    }

    static void join(std::vector<std::thread>& threads) {
        for (auto& t : threads) {
            if (t.joinable()) {
                t.join();
            }
        }
    }

    bool image_known_locked(const std::string& image) const {
        return !images_ || images_->count(image) > 0;
    }

    ContainerPtr find_locked(const std::string& id_or_name, bool removed_too) const {
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
        return info;  // no pid: nothing runs on this host
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
            Lock lock(mutex_);
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
    std::vector<ContainerPtr> containers_;
    std::vector<engine::ContainerSpec> specs_;
    std::vector<std::string> removed_;
    std::vector<std::string> calls_;
    std::map<std::string, std::pair<Error, int>> failures_;  // method: error, times (-1: always)
    std::optional<std::set<std::string>> images_;
    std::set<std::string> registry_;
    std::vector<engine::PullLine> pull_lines_;
    std::optional<engine::RegistryAuth> wanted_auth_;
    std::vector<engine::PullRequest> pulls_;
    ContainerProgram default_program_;
    std::map<std::string, ContainerProgram> image_programs_;
};

inline bool ContainerProcess::write_raw(std::string_view bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
        int fd = -1;
        {
            std::lock_guard<std::mutex> lock(engine_.mutex_);
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
                std::lock_guard<std::mutex> lock(engine_.mutex_);
                c_->settled = true;  // blocked until the job reads: start() may return
                engine_.changed_.notify_all();
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
    std::unique_lock<std::mutex> lock(engine_.mutex_);
    c_->settled = true;
    engine_.changed_.notify_all();
    engine_.changed_.wait(lock, [&] {
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
    std::lock_guard<std::mutex> lock(engine_.mutex_);
    InMemoryEngine::shut_stream_locked(*c_);
}

inline void ContainerProcess::wait_until_killed() {
    std::unique_lock<std::mutex> lock(engine_.mutex_);
    c_->settled = true;
    engine_.changed_.notify_all();
    engine_.changed_.wait(lock, [&] { return c_->status != "running"; });
}

inline bool ContainerProcess::killed() const {
    std::lock_guard<std::mutex> lock(engine_.mutex_);
    return c_->killed;
}

inline void ContainerProcess::oom_kill() {
    std::lock_guard<std::mutex> lock(engine_.mutex_);
    if (c_->status == "running") {
        c_->oom_killed = true;
    }
    engine_.end_locked(*c_, 128 + SIGKILL, true);
}

}  // namespace arunner::testing
