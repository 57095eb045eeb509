#pragma once
// ansible-runner's run_command(), run_command_async() and its helpers (get_plugin_docs,
// get_plugin_docs_async, get_plugin_list, get_inventory, get_ansible_config, get_role_list,
// get_role_argspec) over arunner/commands.hpp, with ansible-runner's signatures, return values
// and ConfigurationError messages (docs/python.md).

#include <pybind11/pybind11.h>

namespace arunner::python {

namespace py = pybind11;

/// Adds the functions to `module`.
void add_commands(py::module_& module);

}  // namespace arunner::python
