#pragma once
// A streamer's _input / _output (any Python binary file object) as a file descriptor the C++
// stages read or write without the GIL. An object with a working fileno() is used directly;
// any other (io.BytesIO, a wrapper) is served through a pipe by a pump thread that calls its
// read() or write() with the GIL.

#include <pybind11/pybind11.h>

#include <string>
#include <thread>

#include "util/unique_fd.hpp"

namespace arunner::python {

namespace py = pybind11;

class FileEnd {
  public:
    enum class Direction { input, output };
    /// `file` None means sys.stdin.buffer / sys.stdout.buffer. Needs the GIL.
    FileEnd(py::object file, Direction direction);
    ~FileEnd();
    FileEnd(const FileEnd&) = delete;
    FileEnd& operator=(const FileEnd&) = delete;

    /// What the stage reads from or writes to.
    int fd() const { return fd_; }
    /// After the stage: ends the pump (the stage's end of the pipe is closed) and flushes an
    /// output. Needs the GIL (it lets go of it while it waits). Raises what the file raised.
    void finish();

  private:
    void pump_output(int from);
    void pump_input(int to);

    py::object file_;
    Direction direction_;
    int fd_ = -1;
    util::UniqueFd stage_end_;  ///< our end of the pipe the stage uses, when pumping
    std::thread pump_;
    std::string pump_error_;  ///< what the file object raised in the pump
    bool finished_ = false;
};

}  // namespace arunner::python
