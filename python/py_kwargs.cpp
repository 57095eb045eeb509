#include "py_kwargs.hpp"

#include <vector>

#include "arunner/kwargs.hpp"
#include "py_errors.hpp"
#include "py_json.hpp"

namespace arunner::python {
namespace {

void take_callable(py::object& slot, const std::string& name, py::handle value) {
    if (!value.is_none() && PyCallable_Check(value.ptr()) == 0) {
        throw py::type_error(name + " must be callable");
    }
    slot = py::reinterpret_borrow<py::object>(value);
}

}  // namespace

bool take_callback(PythonCallbacks& callbacks, const std::string& key, py::handle value) {
    py::object* slot = key == "event_handler"       ? &callbacks.event_handler
                       : key == "status_handler"    ? &callbacks.status_handler
                       : key == "cancel_callback"   ? &callbacks.cancel_callback
                       : key == "artifacts_handler" ? &callbacks.artifacts_handler
                       : key == "finished_callback" ? &callbacks.finished_callback
                                                    : nullptr;
    if (slot == nullptr) {
        return false;
    }
    take_callable(*slot, key, value);
    return true;
}

SplitKwargs split_kwargs(const py::dict& kwargs, const char* function) {
    SplitKwargs split;
    std::vector<std::string> unknown;
    for (auto [key_handle, value] : kwargs) {
        std::string key = py::str(key_handle).cast<std::string>();
        switch (run_keyword(key)) {
            case RunKeyword::unknown:
                unknown.push_back(key);
                continue;
            case RunKeyword::option:
            case RunKeyword::not_yet:
                try {
                    split.options[key] = from_python(value);
                } catch (py::error_already_set& e) {
                    throw py::type_error("the keyword argument '" + key + "': " + describe(e));
                } catch (const std::exception& e) {
                    throw py::type_error("the keyword argument '" + key + "': " + e.what());
                }
                continue;
            case RunKeyword::caller:
                break;
        }
        if (take_callback(split.callbacks, key, value)) {
            continue;
        }
        if (key == "streamer") {
            if (!value.is_none()) {
                if (!py::isinstance<py::str>(value)) {
                    raise_configuration_error("streamer must be 'transmit', 'worker' or 'process'");
                }
                split.streamer = value.cast<std::string>();
                if (split.streamer != "transmit" && split.streamer != "worker" &&
                    split.streamer != "process") {
                    raise_configuration_error(
                        "streamer must be 'transmit', 'worker' or 'process', not '" +
                        split.streamer + "'");
                }
            }
        } else if (key == "_input") {
            split.input = py::reinterpret_borrow<py::object>(value);
        } else if (key == "_output") {
            split.output = py::reinterpret_borrow<py::object>(value);
        } else if (key == "keepalive_seconds") {
            if (!value.is_none()) {
                if (!py::isinstance<py::int_>(value) && !py::isinstance<py::float_>(value)) {
                    throw py::type_error("keepalive_seconds must be a number of seconds");
                }
                split.keepalive_seconds = value.cast<double>();
            }
        } else if (key == "only_transmit_kwargs") {
            split.only_transmit_kwargs = is_true(value);
        } else if (key == "debug" || key == "logfile") {
            // ansible-runner logs through Python's logging; arunner's library writes no log.
            if (is_true(value)) {
                raise_configuration_error(
                    "the keyword '" + key +
                    "' is not supported by arunner's Python module: the "
                    "library writes no log (use the CLI's --debug/--logfile)");
            }
        }
        // ignore_logging: arunner never configures Python's logging, whatever its value.
    }
    raise_unknown_keywords(unknown, function);
    return split;
}

void raise_unknown_keywords(const std::vector<std::string>& unknown, const char* function) {
    if (unknown.empty()) {
        return;
    }
    std::string names;
    for (const std::string& name : unknown) {
        names += (names.empty() ? "'" : ", '") + name + "'";
    }
    throw py::type_error(std::string(function) + "() got " +
                         (unknown.size() == 1 ? "an unexpected keyword argument "
                                              : "unexpected keyword arguments ") +
                         names);
}

RunOptions run_options(const SplitKwargs& split) {
    auto options = from_run_kwargs(split.options);
    if (!options) {
        raise_configuration_error(options.error().message);
    }
    return std::move(*options);
}

}  // namespace arunner::python
