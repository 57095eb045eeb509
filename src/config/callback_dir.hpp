#pragma once
// Where arunner's Ansible callback plugin (awx_display.py) lives.

#include <string>

namespace arunner::config {

/// ARUNNER_CALLBACK_DIR if set; else `<dir of the binary>/callback` (the build tree); else
/// `<dir of the binary>/../share/arunner/callback` (an installed tree). Empty if none exists.
std::string find_callback_dir();

}  // namespace arunner::config
