#include "py_errors.hpp"

namespace arunner::python {
namespace {

// Never destroyed: module state that lives as long as the interpreter.
PyObject* runner_exception = nullptr;
PyObject* configuration_error = nullptr;

[[noreturn]] void raise(PyObject* type, const std::string& message) {
    PyErr_SetString(type != nullptr ? type : PyExc_RuntimeError, message.c_str());
    throw py::error_already_set();
}

}  // namespace

void add_exceptions(py::module_& module) {
    runner_exception = PyErr_NewExceptionWithDoc("arunner.AnsibleRunnerException",
                                                 "Generic Runner Error", PyExc_Exception, nullptr);
    configuration_error = PyErr_NewExceptionWithDoc(
        "arunner.ConfigurationError", "Misconfiguration of Runner", runner_exception, nullptr);
    PyObject* callback_error = PyErr_NewExceptionWithDoc(
        "arunner.CallbackError", "Exception occurred in Callback", runner_exception, nullptr);
    if (runner_exception == nullptr || configuration_error == nullptr ||
        callback_error == nullptr) {
        throw py::error_already_set();
    }
    module.attr("AnsibleRunnerException") = py::handle(runner_exception);
    module.attr("ConfigurationError") = py::handle(configuration_error);
    module.attr("CallbackError") = py::handle(callback_error);
}

void raise_configuration_error(const std::string& message) {
    raise(configuration_error, message);
}

void raise_runner_exception(const std::string& message) {
    raise(runner_exception, message);
}

std::string describe(const py::error_already_set& error) {
    std::string name = "Exception";
    if (error.type()) {
        name = py::str(error.type().attr("__name__")).cast<std::string>();
    }
    std::string text = error.value() ? py::str(error.value()).cast<std::string>() : "";
    return text.empty() ? name : name + ": " + text;
}

}  // namespace arunner::python
