#include "py_runner.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <utility>

#include "py_callbacks.hpp"
#include "py_errors.hpp"
#include "py_json.hpp"

namespace arunner::python {
namespace {

namespace fs = std::filesystem;

py::object optional_rc(const std::optional<int>& rc) {
    return rc ? py::object(py::int_(*rc)) : py::object(py::none());
}

/// Runner.events: the events in counter order, waiting for new ones while the job runs.
struct EventIterator {
    EventStream stream;
};

py::object open_artifact(const PythonRunner& runner, const char* name) {
    fs::path path = runner.job->artifact_dir() / name;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
        raise_runner_exception(std::string(name) + " missing");
    }
    return py::module_::import("builtins").attr("open")(path.string(), "r");
}

py::list to_list(const std::vector<Json>& events) {
    py::list list;
    for (const Json& event : events) {
        list.append(to_python(event));
    }
    return list;
}

}  // namespace

py::object make_runner(const SplitKwargs& split) {
    return make_python_runner(run_options(split), split.callbacks);
}

py::object make_python_runner(const RunOptions& options, const PythonCallbacks& callbacks) {
    auto objects = std::make_shared<CallbackObjects>();
    objects->callbacks = callbacks;
    py::object config = py::module_::import("types").attr("SimpleNamespace")();
    objects->config = config;
    auto job = Runner::create(options, make_callbacks(objects, true));
    if (!job) {
        raise_configuration_error(job.error().message);
    }
    const Runner& made = **job;
    config.attr("private_data_dir") = made.private_data_dir().string();
    config.attr("ident") = made.ident();
    config.attr("artifact_dir") = made.artifact_dir().string();
    py::list command;
    for (const std::string& word : made.command()) {
        command.append(word);
    }
    config.attr("command") = command;
    config.attr("cwd") = made.cwd();
    config.attr("env") = py::dict();
    config.attr("process_isolation") = options.process_isolation;
    config.attr("process_isolation_executable") = options.process_isolation_executable;
    config.attr("container_image") = options.container_image;
    auto runner = std::make_shared<PythonRunner>(PythonRunner{*job, config});
    py::object self = py::cast(runner);
    if (!callbacks.finished_callback.is_none()) {
        objects->finished_argument = self;  // let go of once the callback has it
    }
    return self;
}

py::tuple run_runner(PythonRunner& runner) {
    {
        py::gil_scoped_release release;
        runner.job->run();
    }
    return py::make_tuple(std::string(to_string(runner.job->status())),
                          optional_rc(runner.job->rc()));
}

py::object start_runner(PythonRunner& runner) {
    runner.job->start();
    std::shared_ptr<Runner> job = runner.job;
    py::cpp_function wait([job] {
        py::gil_scoped_release release;
        job->wait();
    });
    py::object thread = py::module_::import("threading").attr("Thread")(py::arg("target") = wait);
    thread.attr("start")();
    return thread;
}

void add_runner(py::module_& module) {
    py::class_<EventIterator>(module, "_EventIterator")
        .def("__iter__", [](py::object self) { return self; })
        .def("__next__", [](EventIterator& it) {
            std::optional<Json> event;
            {
                py::gil_scoped_release release;
                event = it.stream.next();
            }
            if (!event) {
                throw py::stop_iteration();
            }
            return to_python(*event);
        });

    py::class_<PythonRunner, std::shared_ptr<PythonRunner>>(
        module, "Runner", py::dynamic_attr(), "A job run by arunner (ansible_runner.Runner)")
        .def("run", &run_runner,
             "Runs the job to the end (if it has not run); returns (status, rc).")
        .def_property_readonly(
            "status", [](const PythonRunner& r) { return std::string(to_string(r.job->status())); })
        .def_property_readonly("rc", [](const PythonRunner& r) { return optional_rc(r.job->rc()); })
        .def_property_readonly("canceled", [](const PythonRunner& r) { return r.job->canceled(); })
        .def_property_readonly("timed_out",
                               [](const PythonRunner& r) { return r.job->timed_out(); })
        .def_property_readonly("errored", [](const PythonRunner& r) { return r.job->errored(); })
        .def_property_readonly("error_message",
                               [](const PythonRunner& r) { return r.job->error_message(); })
        .def_property_readonly("config", [](const PythonRunner& r) { return r.config; })
        .def_property_readonly(
            "events", [](const PythonRunner& r) { return EventIterator{r.job->event_stream()}; },
            "The events in counter order; while the job runs, waits for the next one.")
        .def_property_readonly("stats",
                               [](const PythonRunner& r) -> py::object {
                                   auto stats = r.job->stats();
                                   return stats ? to_python(*stats) : py::object(py::none());
                               })
        .def("host_events",
             [](const PythonRunner& r, const std::string& host) {
                 return to_list(r.job->host_events(host));
             })
        .def_property_readonly("stdout",
                               [](const PythonRunner& r) { return open_artifact(r, "stdout"); })
        .def_property_readonly("stderr",
                               [](const PythonRunner& r) { return open_artifact(r, "stderr"); })
        .def("get_fact_cache",
             [](const PythonRunner& r, const std::string& host) {
                 auto facts = r.job->get_fact_cache(host);
                 if (!facts) {
                     raise_runner_exception(facts.error().message);
                 }
                 return to_python(*facts);
             })
        .def("set_fact_cache", [](const PythonRunner& r, const std::string& host, py::handle data) {
            Status written = r.job->set_fact_cache(host, from_python(data));
            if (!written) {
                raise_runner_exception(written.error().message);
            }
        });
}

}  // namespace arunner::python
