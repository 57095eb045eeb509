#include "stream/spool_file.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/files.hpp"

namespace arunner::stream {

Result<SpoolFile> SpoolFile::create() {
    std::string templ = (std::filesystem::temp_directory_path() / "arunner-zip-XXXXXX").string();
    int fd = ::mkostemp(templ.data(), O_CLOEXEC);
    if (fd < 0) {
        return util::errno_error("cannot create a temp file like", templ, errno);
    }
    SpoolFile spool;
    spool.fd_.reset(fd);
    spool.path_ = templ;
    return spool;
}

SpoolFile::~SpoolFile() {
    if (!path_.empty()) {
        ::unlink(path_.c_str());
    }
}

}  // namespace arunner::stream
