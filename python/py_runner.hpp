#pragma once
// ansible_runner.Runner over arunner::Runner, and run() / run_async() without a streamer.

#include <pybind11/pybind11.h>

#include <memory>

#include "arunner/runner.hpp"
#include "py_kwargs.hpp"

namespace arunner::python {

namespace py = pybind11;

/// The Python Runner: the C++ job and the RunnerConfig-like object its callbacks see.
struct PythonRunner {
    std::shared_ptr<Runner> job;
    py::object config = py::none();
};

/// Adds Runner and its event iterator to `module`.
void add_runner(py::module_& module);

/// A Runner for `split` (no streamer), not started. Raises ConfigurationError for bad options.
py::object make_runner(const SplitKwargs& split);

/// A Runner for `options` with `callbacks`, not started. Raises ConfigurationError for bad
/// options.
py::object make_python_runner(const RunOptions& options, const PythonCallbacks& callbacks);
/// Runs a Python Runner to the end without the GIL; returns (status, rc).
py::tuple run_runner(PythonRunner& runner);

/// Starts it on its own thread and returns a threading.Thread that ends with the job.
py::object start_runner(PythonRunner& runner);

}  // namespace arunner::python
