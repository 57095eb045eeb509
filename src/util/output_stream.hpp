#pragma once
// Which stream output bytes came from, for a local child and a container alike.

namespace arunner {

enum class OutputStream {
    out,  ///< stdout, or a pty (stdout and stderr merged)
    err,  ///< stderr, when the child or container has no pty
};

}  // namespace arunner
