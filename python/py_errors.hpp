#pragma once
// ansible-runner's exception classes (ansible_runner.exceptions), made once by the module, and
// how a Python callback's exception becomes the text the C++ runner records.

#include <pybind11/pybind11.h>

#include <string>

namespace arunner::python {

namespace py = pybind11;

/// Creates AnsibleRunnerException, ConfigurationError and CallbackError in `module`.
void add_exceptions(py::module_& module);

/// Raises ansible_runner's ConfigurationError (a subclass of AnsibleRunnerException).
[[noreturn]] void raise_configuration_error(const std::string& message);
/// Raises AnsibleRunnerException.
[[noreturn]] void raise_runner_exception(const std::string& message);

/// "ValueError: boom": the type and text of a Python exception that was caught. Needs the GIL.
std::string describe(const py::error_already_set& error);

}  // namespace arunner::python
