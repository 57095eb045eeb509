// `import arunner`: ansible-runner 2.3.1's Python API over the C++ library (docs/python.md).
// Programs written for ansible_runner run unchanged under `import arunner as ansible_runner`.

#include <pybind11/pybind11.h>

#include <string>
#include <utility>
#include <vector>

#include "arunner/version.hpp"
#include "py_commands.hpp"
#include "py_errors.hpp"
#include "py_kwargs.hpp"
#include "py_runner.hpp"
#include "py_streamers.hpp"

namespace py = pybind11;
using namespace arunner::python;

namespace {

/// run()/run_async()'s object: a streamer or a Runner.
py::object make_job(const py::kwargs& kwargs, const char* function) {
    SplitKwargs split = split_kwargs(kwargs, function);
    return split.streamer.empty() ? make_runner(split) : make_streamer(split);
}

}  // namespace

PYBIND11_MODULE(arunner, module) {
    module.doc() = "arunner: ansible-runner's API (run, run_async, Runner, the streamers) in C++";
    module.attr("__version__") = std::string(arunner::version());
    add_exceptions(module);
    add_runner(module);
    add_streamers(module);
    add_commands(module);

    module.def(
        "run",
        [](const py::kwargs& kwargs) {
            py::object job = make_job(kwargs, "run");
            job.attr("run")();
            return job;
        },
        "Runs a job to the end and returns its Runner (or the streamer's object).");
    module.def(
        "run_async",
        [](const py::kwargs& kwargs) {
            py::object job = make_job(kwargs, "run_async");
            py::object thread;
            if (py::isinstance<PythonRunner>(job)) {
                thread = start_runner(job.cast<PythonRunner&>());
            } else {
                thread = py::module_::import("threading")
                             .attr("Thread")(py::arg("target") = job.attr("run"));
                thread.attr("start")();
            }
            return py::make_tuple(thread, job);
        },
        "Starts a job and returns (thread, runner) at once.");

    // ansible_runner's submodules, for `from ansible_runner.streaming import Processor` and
    // the like: the same objects under the names programs import them by.
    py::object modules = py::module_::import("sys").attr("modules");
    const std::pair<const char*, std::vector<const char*>> submodules[] = {
        {"interface",
         {"run", "run_async", "run_command", "run_command_async", "get_plugin_docs",
          "get_plugin_docs_async", "get_plugin_list", "get_inventory", "get_ansible_config",
          "get_role_list", "get_role_argspec"}},
        {"runner", {"Runner"}},
        {"streaming", {"Transmitter", "Worker", "Processor"}},
        {"exceptions", {"AnsibleRunnerException", "ConfigurationError", "CallbackError"}},
    };
    for (const auto& [name, members] : submodules) {
        py::module_ sub = module.def_submodule(name);
        for (const char* member : members) {
            sub.attr(member) = module.attr(member);
        }
        modules[py::str(std::string("arunner.") + name)] = sub;
    }
}
