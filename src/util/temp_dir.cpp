#include "util/temp_dir.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace arunner::util {

Result<std::filesystem::path> temp_dir() {
    const char* tmp = std::getenv("TMPDIR");
    if (tmp == nullptr || tmp[0] == '\0') {
        return std::filesystem::path("/tmp");
    }
    const std::filesystem::path dir(tmp);
    if (!dir.is_absolute()) {
        return Error{"TMPDIR is '" + dir.string() + "', not an absolute path"};
    }
    struct stat st {};
    if (::stat(tmp, &st) != 0) {
        return Error{"TMPDIR names " + dir.string() + ": " + std::strerror(errno)};
    }
    if (!S_ISDIR(st.st_mode)) {
        return Error{"TMPDIR names " + dir.string() + ", which is not a directory"};
    }
    return dir;
}

Result<std::filesystem::path> make_temp_dir_in(const std::filesystem::path& parent,
                                               const std::string& prefix) {
    std::string name = (parent / (prefix + "XXXXXX")).string();
    if (::mkdtemp(name.data()) == nullptr) {
        return Error{"cannot make a directory in " + parent.string() + ": " + std::strerror(errno)};
    }
    return std::filesystem::path(name);
}

Result<std::filesystem::path> make_temp_dir(const std::string& prefix) {
    ARUNNER_ASSIGN_OR_RETURN(const std::filesystem::path dir, temp_dir());
    return make_temp_dir_in(dir, prefix);
}

Result<UniqueFd> unnamed_temp_file() {
    ARUNNER_ASSIGN_OR_RETURN(const std::filesystem::path dir, temp_dir());
    UniqueFd fd(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    if (fd.valid()) {
        return fd;
    }
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
        return Error{"cannot create a temp file in " + dir.string() + ": " + std::strerror(errno)};
    }
    std::string templ = (dir / "arunner-spool-XXXXXX").string();
    fd.reset(::mkostemp(templ.data(), O_CLOEXEC));
    if (!fd.valid()) {
        return Error{"cannot create a temp file like " + templ + ": " + std::strerror(errno)};
    }
    ::unlink(templ.c_str());
    return fd;
}

}  // namespace arunner::util
