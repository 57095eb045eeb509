#pragma once

namespace arunner {

/// arunner's version, e.g. "0.1.0".
const char* version();

}  // namespace arunner
