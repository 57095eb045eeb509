#include "stream/wire.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "stream/base64_stream.hpp"
#include "util/files.hpp"
#include "util/python_json.hpp"
#include "util/unique_fd.hpp"

namespace arunner::stream {
namespace {

constexpr size_t kReadChunk = 1 << 16;

Error write_error() {
    return Error{std::string("cannot write the stream: ") + std::strerror(errno)};
}

Error line_too_long(size_t max_line) {
    return Error{"a line of the stream is longer than the limit of " + std::to_string(max_line) +
                 " bytes"};
}

}  // namespace

Status WireWriter::write_locked(std::string_view bytes) {
    if (!util::write_all(fd_, bytes)) {
        return write_error();
    }
    last_write_ = std::chrono::steady_clock::now();
    return {};
}

Status WireWriter::write_json(const nlohmann::ordered_json& line) {
    std::lock_guard<std::mutex> lock(mutex_);
    scratch_.clear();
    util::python_json_dump(line, scratch_);
    scratch_ += '\n';
    return write_locked(scratch_);
}

Status WireWriter::write_zip(const std::filesystem::path& zip_file) {
    util::UniqueFd in(::open(zip_file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!in.valid()) {
        return util::errno_error("cannot open", zip_file, errno);
    }
    struct stat st {};
    if (::fstat(in.get(), &st) != 0) {
        return util::errno_error("cannot stat", zip_file, errno);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    ARUNNER_TRY(write_locked("{\"zipfile\": " + std::to_string(st.st_size) + "}\n"));
    scratch_.clear();
    ARUNNER_TRY(base64_encode_fd(in.get(), fd_, scratch_));
    last_write_ = std::chrono::steady_clock::now();
    return {};
}

Status WireWriter::write_eof() {
    std::lock_guard<std::mutex> lock(mutex_);
    return write_locked("{\"eof\": true}\n");
}

bool WireWriter::try_write_keepalive() {
    std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock()) {
        return false;
    }
    return write_locked("{\"event\": \"keepalive\", \"counter\": 0, \"uuid\": 0}\n").ok();
}

std::chrono::steady_clock::time_point WireWriter::last_write() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_write_;
}

Result<bool> WireReader::fill(size_t max_line) {
    if (start_ == end_) {
        start_ = end_ = 0;
    }
    if (capacity_ - end_ < kReadChunk) {
        if (start_ > 0) {  // what is left is part of one line: move it to the front
            std::memmove(buffer_.get(), buffer_.get() + start_, end_ - start_);
            end_ -= start_;
            start_ = 0;
        }
        if (capacity_ - end_ < kReadChunk) {
            // Doubling, but never far past the longest line allowed.
            size_t cap =
                max_line < SIZE_MAX - 2 * kReadChunk ? max_line + 2 * kReadChunk : SIZE_MAX;
            size_t size = std::max(std::min(capacity_ * 2, cap), end_ + kReadChunk);
            std::unique_ptr<char[]> bigger(new char[size]);  // not zero-filled, on purpose
            if (end_ > 0) {
                std::memcpy(bigger.get(), buffer_.get(), end_);
            }
            buffer_ = std::move(bigger);
            capacity_ = size;
        }
    }
    for (;;) {
        if (interrupt_fd_ >= 0 || on_idle_) {
            ARUNNER_TRY(wait_readable());
        }
        ssize_t n = ::read(fd_, buffer_.get() + end_, kReadChunk);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return Error{std::string("cannot read the stream: ") + std::strerror(errno)};
        }
        end_ += static_cast<size_t>(n);
        return n > 0;
    }
}

Status WireReader::wait_readable() {
    bool idle_called = false;
    for (;;) {
        pollfd fds[2] = {{fd_, POLLIN, 0}, {interrupt_fd_, POLLIN, 0}};
        int timeout = !on_idle_ ? -1 : (idle_called ? idle_interval_ms_ : 0);
        int ready = ::poll(fds, 2, timeout);
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready < 0) {
            return Error{std::string("cannot wait for the stream: ") + std::strerror(errno)};
        }
        if (fds[1].revents != 0) {
            return Error{"interrupted by a signal while reading the stream"};
        }
        if (ready > 0) {
            return {};
        }
        on_idle_();
        idle_called = true;
    }
}

Result<std::optional<std::string>> WireReader::read_line(size_t max_line) {
    ARUNNER_ASSIGN_OR_RETURN(auto line, read_line_view(max_line));
    if (!line) {
        return std::optional<std::string>();
    }
    return std::optional<std::string>(std::string(*line));
}

Result<std::optional<std::string_view>> WireReader::read_line_view(size_t max_line) {
    size_t searched = start_;
    for (;;) {
        const void* newline =  // (no buffer at all before the first read)
            end_ > searched ? std::memchr(buffer_.get() + searched, '\n', end_ - searched)
                            : nullptr;
        if (newline != nullptr) {
            size_t at = static_cast<size_t>(static_cast<const char*>(newline) - buffer_.get());
            if (at - start_ > max_line) {
                return line_too_long(max_line);
            }
            std::string_view line(buffer_.get() + start_, at - start_);
            start_ = at + 1;
            return std::optional<std::string_view>(line);
        }
        if (end_ - start_ > max_line) {
            return line_too_long(max_line);
        }
        size_t searched_offset = end_ - start_;  // fill() may move the buffer's start
        ARUNNER_ASSIGN_OR_RETURN(bool more, fill(max_line));
        searched = start_ + searched_offset;
        if (!more) {
            if (start_ == end_) {
                return std::optional<std::string_view>();
            }
            std::string_view rest(buffer_.get() + start_, end_ - start_);
            start_ = end_;
            return std::optional<std::string_view>(rest);
        }
    }
}

Status WireReader::read_zip(uint64_t size, int out_fd) {
    if (size > kMaxBase64DecodedSize) {
        return Error{"a zip payload of " + std::to_string(size) +
                     " bytes is too large: its base64 length does not fit in 64 bits"};
    }
    Base64Decoder decoder(size);
    auto sink = [out_fd](std::string_view bytes) -> Status {
        if (!util::write_all(out_fd, bytes)) {
            return Error{std::string("cannot spool the zip payload: ") + std::strerror(errno)};
        }
        return {};
    };
    while (!decoder.complete()) {
        if (start_ == end_) {
            ARUNNER_ASSIGN_OR_RETURN(bool more, fill());
            if (!more) {
                return Error{"the stream ended inside a zip payload of " + std::to_string(size) +
                             " bytes"};
            }
        }
        ARUNNER_ASSIGN_OR_RETURN(
            size_t used,
            decoder.feed(std::string_view(buffer_.get() + start_, end_ - start_), sink));
        start_ += used;
    }
    return {};
}

std::string python_bytes_repr(std::string_view bytes) {
    bool has_single = bytes.find('\'') != std::string_view::npos;
    bool has_double = bytes.find('"') != std::string_view::npos;
    char quote = (has_single && !has_double) ? '"' : '\'';
    std::string out = "b";
    out += quote;
    static const char* hex = "0123456789abcdef";
    for (unsigned char c : bytes) {
        if (c == static_cast<unsigned char>(quote) || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c < 0x20 || c >= 0x7f) {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xF];
        } else {
            out += static_cast<char>(c);
        }
    }
    out += quote;
    return out;
}

}  // namespace arunner::stream
