#pragma once
// ansible_runner.streaming's Transmitter, Worker and Processor over arunner::transmit(),
// work() and process(), and run(streamer=...).

#include <pybind11/pybind11.h>

#include "py_kwargs.hpp"

namespace arunner::python {

namespace py = pybind11;

/// Adds Transmitter, Worker and Processor to `module`.
void add_streamers(py::module_& module);

/// The streamer object `split.streamer` names, built from `split` and not run yet.
py::object make_streamer(const SplitKwargs& split);

}  // namespace arunner::python
