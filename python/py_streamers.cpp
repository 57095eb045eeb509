#include "py_streamers.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "arunner/kwargs.hpp"
#include "arunner/streaming.hpp"
#include "py_callbacks.hpp"
#include "py_errors.hpp"
#include "py_file_ends.hpp"
#include "py_json.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"

namespace arunner::python {
namespace {

namespace fs = std::filesystem;

bool is_final(JobStatus status) {
    return status == JobStatus::successful || status == JobStatus::failed ||
           status == JobStatus::canceled || status == JobStatus::timeout ||
           status == JobStatus::error;
}

/// Keywords a streamer takes but cannot honour are refused as run() refuses them.
void refuse_not_yet(const SplitKwargs& split) {
    for (const auto& [key, value] : split.options.items()) {
        if (run_keyword(key) == RunKeyword::not_yet && !value.is_null() && value != false) {
            raise_configuration_error("the keyword '" + key +
                                      "' is not supported by arunner yet; nothing was run");
        }
    }
}

std::optional<std::string> text_option(const Json& options, const char* key) {
    auto it = options.find(key);
    if (it == options.end() || it->is_null()) {
        return std::nullopt;
    }
    if (!it->is_string()) {
        raise_configuration_error(std::string(key) + " must be a string");
    }
    return it->get<std::string>();
}

struct Transmitter {
    RunOptions options;
    py::object output;
    bool only_kwargs = false;
    std::string status = "unstarted";

    py::tuple run() {
        FileEnd out(output, FileEnd::Direction::output);
        Status sent;
        {
            py::gil_scoped_release release;
            sent = transmit(options, out.fd(), only_kwargs);
        }
        out.finish();
        if (!sent) {
            raise_runner_exception(sent.error().message);
        }
        return py::make_tuple(status, py::none());
    }
};

struct Worker {
    WorkerOptions options;
    py::object input;
    py::object output;
    std::string status = "unstarted";
    py::object rc = py::none();
    std::string error_message;

    py::tuple run() {
        FileEnd in(input, FileEnd::Direction::input);
        FileEnd out(output, FileEnd::Direction::output);
        JobStatus last = JobStatus::unstarted;
        WorkerOptions run_options = options;
        run_options.on_status = [&last](JobStatus s) { last = s; };
        Result<int> worked = 0;
        {
            py::gil_scoped_release release;
            worked = work(in.fd(), out.fd(), run_options);
        }
        in.finish();
        out.finish();
        if (!worked) {
            status = "error";
            error_message = worked.error().message;
        } else if (!is_final(last)) {
            status = "error";  // a malformed stream: its error line went out
        } else {
            status = std::string(to_string(last));
            rc = py::int_(*worked);
        }
        return py::make_tuple(status, rc);
    }
};

struct Processor {
    ProcessorOptions options;
    py::object input;
    std::shared_ptr<CallbackObjects> objects;
    std::string status = "unstarted";
    py::object rc = py::none();
    std::string error_message;
    py::object artifact_dir = py::none();

    py::tuple run(const py::object& self) {
        FileEnd in(input, FileEnd::Direction::input);
        ProcessorOptions run_options = options;
        run_options.callbacks = make_callbacks(objects, false);
        Result<ProcessResult> processed = ProcessResult{};
        {
            py::gil_scoped_release release;
            processed = process(in.fd(), run_options);
        }
        in.finish();
        if (processed) {
            status = std::string(to_string(processed->status));
            artifact_dir = py::str(processed->artifact_dir.string());
            // ansible-runner's Processor leaves rc None; arunner reads what the worker sent.
            if (auto text = util::read_file(processed->artifact_dir / "rc")) {
                if (auto number = util::parse_int<int>(util::trim(*text))) {
                    rc = py::int_(*number);
                }
            }
        } else {
            status = "error";
            error_message = processed.error().message;
        }
        if (!objects->callbacks.finished_callback.is_none()) {
            objects->callbacks.finished_callback(self);
        }
        return py::make_tuple(status, rc);
    }
};

std::shared_ptr<Transmitter> make_transmitter(const SplitKwargs& split) {
    auto t = std::make_shared<Transmitter>();
    t->options = run_options(split);
    t->options.console_fd = -1;
    t->output = split.output;
    t->only_kwargs = split.only_transmit_kwargs;
    return t;
}

std::shared_ptr<Worker> make_worker(const SplitKwargs& split) {
    refuse_not_yet(split);
    auto w = std::make_shared<Worker>();
    if (auto dir = text_option(split.options, "private_data_dir")) {
        w->options.private_data_dir = *dir;
    }
    if (split.keepalive_seconds) {
        if (*split.keepalive_seconds < 0) {
            raise_configuration_error("keepalive_seconds must not be negative");
        }
        w->options.keepalive_seconds = *split.keepalive_seconds;
    }
    w->options.kwargs = split.options;
    w->options.kwargs.erase("private_data_dir");
    w->input = split.input;
    w->output = split.output;
    return w;
}

std::shared_ptr<Processor> make_processor(const SplitKwargs& split) {
    refuse_not_yet(split);
    auto p = std::make_shared<Processor>();
    std::optional<std::string> dir = text_option(split.options, "private_data_dir");
    if (!dir) {
        dir = py::module_::import("tempfile").attr("mkdtemp")().cast<std::string>();
    }
    p->options.private_data_dir = *dir;
    p->options.ident = text_option(split.options, "ident");
    if (auto art = text_option(split.options, "artifact_dir")) {
        p->options.artifact_dir = *art;
    }
    if (auto quiet = split.options.find("quiet"); quiet != split.options.end()) {
        p->options.quiet = quiet->is_boolean() ? quiet->get<bool>() : !quiet->is_null();
    }
    p->objects = std::make_shared<CallbackObjects>();
    p->objects->callbacks = split.callbacks;
    py::object config = py::module_::import("types").attr("SimpleNamespace")();
    config.attr("private_data_dir") = *dir;
    config.attr("settings") = split.options.contains("settings")
                                  ? to_python(split.options["settings"])
                                  : py::object(py::dict());
    p->objects->config = config;
    p->input = split.input;
    return p;
}

}  // namespace

py::object make_streamer(const SplitKwargs& split) {
    if (split.streamer == "transmit") {
        return py::cast(make_transmitter(split));
    }
    if (split.streamer == "worker") {
        return py::cast(make_worker(split));
    }
    return py::cast(make_processor(split));
}

void add_streamers(py::module_& module) {
    auto with = [](const char* function, const std::string& streamer) {
        return [function, streamer](const py::kwargs& kwargs) {
            SplitKwargs split = split_kwargs(kwargs, function);
            split.streamer = streamer;
            return split;
        };
    };
    py::class_<Transmitter, std::shared_ptr<Transmitter>>(module, "Transmitter", py::dynamic_attr())
        .def(py::init([with](const py::kwargs& kwargs) {
            return make_transmitter(with("Transmitter", "transmit")(kwargs));
        }))
        .def("run", &Transmitter::run)
        .def_readonly("status", &Transmitter::status)
        .def_property_readonly("rc", [](const Transmitter&) { return py::none(); })
        .def_property_readonly("private_data_dir", [](const Transmitter& t) {
            return fs::absolute(t.options.private_data_dir).string();
        });
    py::class_<Worker, std::shared_ptr<Worker>>(module, "Worker", py::dynamic_attr())
        .def(py::init([with](const py::kwargs& kwargs) {
            return make_worker(with("Worker", "worker")(kwargs));
        }))
        .def("run", &Worker::run)
        .def_readonly("status", &Worker::status)
        .def_readonly("rc", &Worker::rc)
        .def_readonly("error_message", &Worker::error_message);
    py::class_<Processor, std::shared_ptr<Processor>>(module, "Processor", py::dynamic_attr())
        .def(py::init([with](const py::kwargs& kwargs) {
            return make_processor(with("Processor", "process")(kwargs));
        }))
        .def("run", [](const py::object& self) { return self.cast<Processor&>().run(self); })
        .def_readonly("status", &Processor::status)
        .def_readonly("rc", &Processor::rc)
        .def_readonly("error_message", &Processor::error_message)
        .def_readonly("artifact_dir", &Processor::artifact_dir);
}

}  // namespace arunner::python
