#pragma once
// Where arunner's Ansible callback plugin (awx_display.py) lives.

#include <string>

namespace arunner::config {

/// ARUNNER_CALLBACK_DIR if set; else the first of `<dir of the binary>/callback` (the build
/// tree), `<dir of the binary>/../callback`, `<dir of the binary>/../share/arunner/callback` (an
/// installed tree), the install prefix's share dir and the source tree's plugins/callback that
/// holds awx_display.py. Empty if none does.
std::string find_callback_dir();

/// The plugin's start-up hook, a directory inside the callback dir that holds the package
/// `sitecustomize` (plugins/callback/awx_display_boot, docs/frames.md).
inline constexpr const char* kPythonBootDirName = "awx_display_boot";

}  // namespace arunner::config
