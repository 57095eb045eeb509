#include "stream/spool_file.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "stream/wire.hpp"
#include "stream/zip_reader.hpp"
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

Status receive_zip(WireReader& in, const nlohmann::ordered_json& size,
                   const std::filesystem::path& target_dir, const ExtractLimits& limits) {
    if (!size.is_number_unsigned()) {
        return Error{"zipfile must be a byte count, not " + size.dump()};
    }
    auto spool = SpoolFile::create();
    if (!spool) {
        return spool.error();
    }
    ARUNNER_TRY(in.read_zip(size.get<uint64_t>(), spool->fd()));
    return extract_zip(spool->path(), target_dir, limits);
}

}  // namespace arunner::stream
