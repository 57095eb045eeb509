#pragma once
// A tiny container engine for unit tests, run in-process on a unix socket: it accepts one
// connection at a time and hands it to a handler that reads requests and writes canned answers
// (a 101 upgrade followed by frames, JSON errors, a peer that hangs up or is not HTTP).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "util/strings.hpp"
#include "util/unique_fd.hpp"

namespace arunner::testing {

/// One request as the fake engine read it.
struct FakeRequest {
    std::string method;
    std::string target;
    std::string head;  ///< request line and headers
    std::string body;
};

/// The server side of one accepted connection.
class FakeConnection {
  public:
    FakeConnection(int fd, int stop_fd) : fd_(fd), stop_fd_(stop_fd) {}

    /// The next request on this connection; empty at EOF or when the engine stops.
    std::optional<FakeRequest> read_request() {
        size_t end;
        while ((end = buffered_.find("\r\n\r\n")) == std::string::npos) {
            if (!fill()) {
                return std::nullopt;
            }
        }
        FakeRequest request;
        request.head = buffered_.substr(0, end);
        buffered_.erase(0, end + 4);
        size_t space = request.head.find(' ');
        request.method = request.head.substr(0, space);
        request.target =
            request.head.substr(space + 1, request.head.find(' ', space + 1) - space - 1);
        size_t length = 0;
        if (size_t at = request.head.find("Content-Length: "); at != std::string::npos) {
            std::string_view value = std::string_view(request.head).substr(at + 16);
            length = util::parse_int<size_t>(value.substr(0, value.find("\r\n"))).value_or(0);
        }
        while (buffered_.size() < length) {
            if (!fill()) {
                return std::nullopt;
            }
        }
        request.body = buffered_.substr(0, length);
        buffered_.erase(0, length);
        return request;
    }

    /// Everything the client sends until it half-closes (stdin after an upgrade) or the fake
    /// engine stops; also how a silent peer holds a connection open.
    std::string read_to_eof() {
        while (fill()) {
        }
        return std::exchange(buffered_, {});
    }

    /// Writes all of `bytes`; false once the client has hung up.
    bool write_some(std::string_view bytes) {
        while (!bytes.empty()) {
            ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                return false;
            }
            bytes.remove_prefix(static_cast<size_t>(n));
        }
        return true;
    }

    void write(std::string_view bytes) {
        while (!bytes.empty()) {
            ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                return;
            }
            bytes.remove_prefix(static_cast<size_t>(n));
        }
    }

  private:
    bool fill() {
        pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
        if (::poll(fds, 2, 10000) <= 0 || (fds[1].revents & POLLIN)) {
            return false;
        }
        char buffer[4096];
        ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
        if (n <= 0) {
            return false;
        }
        buffered_.append(buffer, static_cast<size_t>(n));
        return true;
    }

    int fd_;
    int stop_fd_;
    std::string buffered_;
};

/// Listens on `socket` and runs `handler` for each connection, one at a time, on its thread.
class FakeEngine {
  public:
    using Handler = std::function<void(FakeConnection&, FakeEngine&)>;

    FakeEngine(const std::filesystem::path& socket, Handler handler)
        : handler_(std::move(handler)) {
        listen_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, socket.c_str(), sizeof(address.sun_path) - 1);
        if (::bind(listen_.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
            ::listen(listen_.get(), 8) != 0) {
            ADD_FAILURE() << "cannot listen on " << socket << ": " << std::strerror(errno);
        }
        int pipe_fds[2];
        if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
            ADD_FAILURE() << "pipe2";
        }
        stop_read_.reset(pipe_fds[0]);
        stop_write_.reset(pipe_fds[1]);
        thread_ = std::thread([this] { run(); });
    }
    ~FakeEngine() {
        (void)!::write(stop_write_.get(), "x", 1);
        thread_.join();
    }

    int connections() const { return connections_; }
    std::vector<FakeRequest> requests() {
        std::lock_guard lock(mutex_);
        return requests_;
    }
    void record(const FakeRequest& request) {
        std::lock_guard lock(mutex_);
        requests_.push_back(request);
    }

  private:
    void run() {
        for (;;) {
            pollfd fds[2] = {{listen_.get(), POLLIN, 0}, {stop_read_.get(), POLLIN, 0}};
            if (::poll(fds, 2, -1) < 0 || (fds[1].revents & POLLIN)) {
                return;
            }
            util::UniqueFd client(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (!client.valid()) {
                continue;
            }
            ++connections_;
            FakeConnection connection(client.get(), stop_read_.get());
            handler_(connection, *this);
        }
    }

    Handler handler_;
    util::UniqueFd listen_;
    util::UniqueFd stop_read_;
    util::UniqueFd stop_write_;
    std::thread thread_;
    std::atomic<int> connections_{0};
    std::mutex mutex_;
    std::vector<FakeRequest> requests_;
};

inline std::string http_answer(int status, const std::string& reason, const std::string& body,
                               const std::string& content_type = "application/json") {
    std::string head = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n";
    if (!body.empty()) {
        head += "Content-Type: " + content_type + "\r\n";
    }
    return head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

/// Answers every request on a connection with `answer(request)` and records it.
inline FakeEngine::Handler answering(std::function<std::string(const FakeRequest&)> answer) {
    return [answer](FakeConnection& connection, FakeEngine& engine) {
        while (auto request = connection.read_request()) {
            engine.record(*request);
            connection.write(answer(*request));
        }
    };
}

}  // namespace arunner::testing
