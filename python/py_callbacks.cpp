#include "py_callbacks.hpp"

#include <stdexcept>
#include <string>

#include "py_errors.hpp"
#include "py_json.hpp"

namespace arunner::python {
namespace {

/// Calls `call` with the GIL; a Python exception leaves as std::runtime_error("Type: text").
template <typename F>
auto with_python(F&& call) -> decltype(call()) {
    py::gil_scoped_acquire gil;
    try {
        return call();
    } catch (py::error_already_set& e) {
        throw std::runtime_error(describe(e));
    }
}

}  // namespace

CallbackObjects::~CallbackObjects() {
    if (Py_IsInitialized() == 0) {
        // The interpreter is gone (a job outlived it): the objects cannot be released.
        (void)callbacks.event_handler.release();
        (void)callbacks.status_handler.release();
        (void)callbacks.cancel_callback.release();
        (void)callbacks.artifacts_handler.release();
        (void)callbacks.finished_callback.release();
        (void)config.release();
        (void)finished_argument.release();
        return;
    }
    try {
        py::gil_scoped_acquire gil;
        callbacks = PythonCallbacks{};
        config = py::object();
        finished_argument = py::object();
    } catch (...) {  // NOLINT(bugprone-empty-catch): nothing to do in a destructor
    }
}

py::dict status_data(const StatusUpdate& update) {
    py::dict data;
    data["status"] = std::string(to_string(update.status));
    data["runner_ident"] = update.runner_ident;
    if (update.status == JobStatus::starting) {
        py::list command;
        for (const std::string& word : update.command) {
            command.append(word);
        }
        py::dict env;
        for (const auto& [name, value] : update.env) {
            env[py::str(name)] = value;
        }
        data["command"] = command;
        data["env"] = env;
        data["cwd"] = update.cwd;
    }
    // A worker's error line: what AWX shows as the job's explanation.
    if (!update.job_explanation.empty()) {
        data["job_explanation"] = update.job_explanation;
    }
    if (!update.result_traceback.empty()) {
        data["result_traceback"] = update.result_traceback;
    }
    return data;
}

RunCallbacks make_callbacks(const std::shared_ptr<CallbackObjects>& objects, bool with_finished) {
    RunCallbacks run;
    const PythonCallbacks& python = objects->callbacks;
    if (!python.event_handler.is_none()) {
        run.event_handler = [objects](Json& event) {
            return with_python([&] {
                py::object dict = to_python(event);
                py::object kept;
                try {
                    kept = objects->callbacks.event_handler(dict);
                } catch (py::error_already_set& e) {
                    if (e.matches(PyExc_OSError)) {
                        return false;  // ansible-runner: logged, the event's file not written
                    }
                    throw;
                }
                if (!is_true(kept)) {
                    return false;
                }
                event = from_python(dict);  // the handler may have changed it
                return true;
            });
        };
    }
    // status_handler also keeps runner_config's command, env and cwd, as RunnerConfig has them.
    run.status_handler = [objects](const StatusUpdate& update) {
        with_python([&] {
            py::dict data = status_data(update);
            if (update.status == JobStatus::starting && !objects->config.is_none()) {
                objects->config.attr("command") = data["command"];
                objects->config.attr("env") = data["env"];
                objects->config.attr("cwd") = data["cwd"];
            }
            if (!objects->callbacks.status_handler.is_none()) {
                objects->callbacks.status_handler(data, py::arg("runner_config") = objects->config);
            }
        });
    };
    if (!python.cancel_callback.is_none()) {
        run.cancel_callback = [objects] {
            return with_python([&] { return is_true(objects->callbacks.cancel_callback()); });
        };
    }
    if (!python.artifacts_handler.is_none()) {
        run.artifacts_handler = [objects](const std::filesystem::path& artifact_dir) {
            with_python([&] { objects->callbacks.artifacts_handler(artifact_dir.string()); });
        };
    }
    if (with_finished && !python.finished_callback.is_none()) {
        run.finished_callback = [objects](const Runner& /*runner*/) {
            with_python([&] {
                py::object argument = std::move(objects->finished_argument);
                objects->finished_argument = py::none();
                objects->callbacks.finished_callback(argument);
            });
        };
    }
    return run;
}

}  // namespace arunner::python
