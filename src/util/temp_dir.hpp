#pragma once
// Where arunner puts what it makes for a while (spools, a worker's private data dir): $TMPDIR
// when set, else /tmp. A TMPDIR that is not an absolute path to a directory is an error that
// names it, never an exception nor a silent fallback.

#include <filesystem>
#include <string>

#include "arunner/error.hpp"
#include "util/unique_fd.hpp"

namespace arunner::util {

/// $TMPDIR (when set and not empty) or /tmp, checked to be an absolute path to a directory.
Result<std::filesystem::path> temp_dir();

/// A new directory, mode 0700, named `prefix` and six random characters, in `parent`
/// (mkdtemp); the error names the directory it could not be made in.
Result<std::filesystem::path> make_temp_dir_in(const std::filesystem::path& parent,
                                               const std::string& prefix);

/// The same in temp_dir(): the one way arunner makes a directory for a while.
Result<std::filesystem::path> make_temp_dir(const std::string& prefix);

/// A new file in temp_dir() that has no name (O_TMPFILE, or a name unlinked at once where the
/// file system has no O_TMPFILE), open for reading and writing: nothing of it is left on disk
/// when the process dies, however it dies. Reopen it through /proc/self/fd/<fd>.
Result<UniqueFd> unnamed_temp_file();

}  // namespace arunner::util
