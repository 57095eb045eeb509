#pragma once
// ansible-runner's five callbacks as C++ RunCallbacks that call Python: each takes the GIL for
// its call only (the job runs without it), converts the event or status to the dict
// ansible-runner passes, and turns a Python exception into the C++ exception the runner records
// ("Exception in Event Handler: ValueError: boom"). An OSError from the event handler is
// swallowed and the event's file not written, as ansible-runner does.

#include <pybind11/pybind11.h>

#include <memory>

#include "arunner/runner.hpp"
#include "py_kwargs.hpp"

namespace arunner::python {

namespace py = pybind11;

/// The Python objects C++ callbacks hold. The last owner may be a job's thread without the GIL:
/// the destructor takes it to let go of them.
struct CallbackObjects {
    PythonCallbacks callbacks;
    /// Passed as status_handler's `runner_config`; its command, env and cwd are set at starting.
    py::object config = py::none();
    /// What finished_callback receives (the Python Runner); dropped once it has been called, so
    /// the Runner and its callbacks do not keep each other alive.
    py::object finished_argument = py::none();

    CallbackObjects() = default;
    CallbackObjects(const CallbackObjects&) = delete;
    CallbackObjects& operator=(const CallbackObjects&) = delete;
    ~CallbackObjects();
};

/// C++ callbacks over `objects` (the finished callback only when `with_finished`).
RunCallbacks make_callbacks(const std::shared_ptr<CallbackObjects>& objects, bool with_finished);

/// The status_data dict of ansible-runner: status, runner_ident, and for `starting` command,
/// env and cwd. Needs the GIL.
py::dict status_data(const StatusUpdate& update);

}  // namespace arunner::python
