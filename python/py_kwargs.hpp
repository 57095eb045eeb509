#pragma once
// run()'s keyword arguments as a Python caller passes them, split into what the binding handles
// itself (callbacks, streamer, _input/_output) and the run options the library reads
// (from_run_kwargs), with ansible-runner's errors: an unknown keyword is a TypeError.

#include <pybind11/pybind11.h>

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arunner/run_options.hpp"

namespace arunner::python {

namespace py = pybind11;
using Json = nlohmann::ordered_json;

/// The five callbacks of ansible-runner, as Python callables (None when not given).
struct PythonCallbacks {
    py::object event_handler = py::none();
    py::object status_handler = py::none();
    py::object cancel_callback = py::none();
    py::object artifacts_handler = py::none();
    py::object finished_callback = py::none();
};

struct SplitKwargs {
    Json options = Json::object();  ///< every run option keyword, as JSON, in the caller's order
    PythonCallbacks callbacks;
    std::string streamer;  ///< "", "transmit", "worker" or "process"
    py::object input = py::none();
    py::object output = py::none();
    std::optional<double> keepalive_seconds;
    bool only_transmit_kwargs = false;
};

/// Splits `kwargs` of `function` ("run", "Worker", ...). Raises TypeError naming every keyword
/// ansible-runner's run() does not take, TypeError/ValueError naming a keyword whose value is
/// not JSON-like, ConfigurationError for a streamer that is not one of the three.
SplitKwargs split_kwargs(const py::dict& kwargs, const char* function);

/// Python's TypeError for keywords `function` does not take (nothing when `unknown` is empty).
void raise_unknown_keywords(const std::vector<std::string>& unknown, const char* function);
/// If `key` names one of the five callbacks, stores `value` there (TypeError when it is not
/// callable) and returns true.
bool take_callback(PythonCallbacks& callbacks, const std::string& key, py::handle value);
/// The run options of `split.options` (from_run_kwargs), or ConfigurationError.
RunOptions run_options(const SplitKwargs& split);

}  // namespace arunner::python
