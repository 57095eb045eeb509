#include "stream/transmitter.hpp"

#include <sys/stat.h>

#include "stream/job_kwargs.hpp"
#include "stream/spool_file.hpp"
#include "stream/wire.hpp"
#include "stream/zip_writer.hpp"
#include "util/files.hpp"

namespace arunner::stream {

Status transmit(const RunOptions& options, int out_fd, bool only_kwargs) {
    auto pdd = util::absolute_path(options.private_data_dir);
    struct stat st {};
    if (::stat(pdd.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return Error{"private data dir " + pdd.string() + " does not exist or is not a directory"};
    }
    WireWriter out(out_fd);
    // Zip first: a failure then leaves nothing half-written on the stream.
    std::optional<SpoolFile> spool;
    if (!only_kwargs) {
        ARUNNER_ASSIGN_OR_RETURN(SpoolFile created, SpoolFile::create());
        spool.emplace(std::move(created));
        ARUNNER_TRY(write_zip(pdd, spool->fd(), ZipRoot::follow));  // the user's pdd
    }
    ARUNNER_TRY(out.write_json(nlohmann::ordered_json{{"kwargs", to_kwargs(options)}}));
    if (spool) {
        ARUNNER_TRY(out.write_zip(spool->path()));
    }
    return out.write_eof();
}

}  // namespace arunner::stream
