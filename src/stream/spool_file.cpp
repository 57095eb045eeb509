#include "stream/spool_file.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "stream/wire.hpp"
#include "stream/zip_reader.hpp"
#include "util/temp_dir.hpp"

namespace arunner::stream {

Result<SpoolFile> SpoolFile::create() {
    ARUNNER_ASSIGN_OR_RETURN(auto fd, util::unnamed_temp_file());
    SpoolFile spool;
    spool.path_ = "/proc/self/fd/" + std::to_string(fd.get());
    spool.fd_ = std::move(fd);
    return spool;
}

Status receive_zip(WireReader& in, const nlohmann::ordered_json& size,
                   const std::filesystem::path& target_dir, const ExtractLimits& limits,
                   LinkTargets links) {
    if (!size.is_number_unsigned()) {
        return Error{"zipfile must be a byte count, not " + size.dump()};
    }
    // Checked before spooling: a zip at least this big is refused by extract_zip() anyway, and
    // spooling it first could fill the disk.
    if (size.get<uint64_t>() > limits.max_unpacked_bytes) {
        return Error{"refusing a zipfile of " + std::to_string(size.get<uint64_t>()) +
                     " bytes: more than the limit of " + std::to_string(limits.max_unpacked_bytes) +
                     " bytes (--max-unpacked-bytes)"};
    }
    ARUNNER_ASSIGN_OR_RETURN(SpoolFile spool, SpoolFile::create());
    ARUNNER_TRY(in.read_zip(size.get<uint64_t>(), spool.fd()));
    return extract_zip(spool.path(), target_dir, limits, links);
}

}  // namespace arunner::stream
