#include "py_file_ends.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "py_errors.hpp"
#include "util/files.hpp"

namespace arunner::python {
namespace {

constexpr size_t kChunk = 64 * 1024;

/// The file's descriptor, or -1 when it has none (io.UnsupportedOperation, no fileno()).
int file_descriptor(const py::object& file) {
    if (!py::hasattr(file, "fileno")) {
        return -1;
    }
    try {
        return file.attr("fileno")().cast<int>();
    } catch (py::error_already_set&) {
        return -1;
    } catch (py::cast_error&) {
        return -1;
    }
}

}  // namespace

FileEnd::FileEnd(py::object file, Direction direction) : direction_(direction) {
    if (file.is_none()) {
        file = py::module_::import("sys").attr(direction == Direction::input ? "stdin" : "stdout");
        if (py::hasattr(file, "buffer")) {
            file = file.attr("buffer");
        }
    }
    file_ = std::move(file);
    int fd = file_descriptor(file_);
    if (fd >= 0) {
        if (direction_ == Direction::output && py::hasattr(file_, "flush")) {
            file_.attr("flush")();  // what Python buffered goes first
        }
        fd_ = fd;
        return;
    }
    const char* needed = direction_ == Direction::input ? "read" : "write";
    if (!py::hasattr(file_, needed)) {
        throw py::type_error(std::string(direction_ == Direction::input ? "_input" : "_output") +
                             " must be a binary file object (it has no fileno() and no " + needed +
                             "())");
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        raise_runner_exception("cannot create a pipe for the stream");
    }
    util::UniqueFd read_end(fds[0]);
    util::UniqueFd write_end(fds[1]);
    if (direction_ == Direction::input) {
        fd_ = read_end.get();
        stage_end_ = std::move(read_end);
        pump_ = std::thread([this, to = write_end.release()] { pump_input(to); });
    } else {
        fd_ = write_end.get();
        stage_end_ = std::move(write_end);
        pump_ = std::thread([this, from = read_end.release()] { pump_output(from); });
    }
}

FileEnd::~FileEnd() {
    if (!finished_ && pump_.joinable()) {
        stage_end_.reset();
        py::gil_scoped_release release;
        pump_.join();
    }
}

void FileEnd::pump_output(int from) {
    util::UniqueFd in(from);
    std::array<char, kChunk> buffer{};
    for (;;) {
        ssize_t n = ::read(in.get(), buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        py::gil_scoped_acquire gil;
        try {
            file_.attr("write")(py::bytes(buffer.data(), static_cast<size_t>(n)));
        } catch (py::error_already_set& e) {
            pump_error_ = describe(e);
            return;  // closing our end makes the stage's next write fail (EPIPE)
        }
    }
}

void FileEnd::pump_input(int to) {
    util::UniqueFd out(to);
    bool has_read1 = false;
    {
        py::gil_scoped_acquire gil;
        has_read1 = py::hasattr(file_, "read1");
    }
    for (;;) {
        std::string chunk;
        {
            py::gil_scoped_acquire gil;
            try {
                py::object data = file_.attr(has_read1 ? "read1" : "read")(kChunk);
                if (py::isinstance<py::bytes>(data)) {
                    chunk = data.cast<std::string>();
                } else if (!data.is_none()) {
                    pump_error_ =
                        "_input must be opened in binary mode (read() returned " +
                        py::str(py::type::handle_of(data).attr("__name__")).cast<std::string>() +
                        ")";
                    return;
                }
            } catch (py::error_already_set& e) {
                pump_error_ = describe(e);
                return;
            }
        }
        if (chunk.empty() || !util::write_all(out.get(), chunk)) {
            return;  // end of the input, or the stage stopped reading
        }
    }
}

void FileEnd::finish() {
    finished_ = true;
    if (pump_.joinable()) {
        stage_end_.reset();
        {
            py::gil_scoped_release release;
            pump_.join();
        }
    }
    if (!pump_error_.empty()) {
        raise_runner_exception(std::string(direction_ == Direction::input ? "_input" : "_output") +
                               ": " + pump_error_);
    }
    if (direction_ == Direction::output && py::hasattr(file_, "flush")) {
        file_.attr("flush")();
    }
}

}  // namespace arunner::python
