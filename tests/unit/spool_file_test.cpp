#include "stream/spool_file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "stream/wire.hpp"
#include "stream/zip_writer.hpp"
#include "support/file_helpers.hpp"
#include "support/scoped_variable.hpp"
#include "support/temp_dir.hpp"
#include "util/unique_fd.hpp"

namespace arunner::stream {
namespace {

namespace fs = std::filesystem;

/// Points $TMPDIR (where spools go) at a dir of the test's own for the life of the object.
class SpoolDir {
  public:
    explicit SpoolDir(const fs::path& dir) : variable_("TMPDIR", made(dir).c_str()) {}

  private:
    static const fs::path& made(const fs::path& dir) {
        fs::create_directories(dir);
        return dir;
    }
    testing::ScopedVariable variable_;
};

TEST(SpoolFile, ASizeAboveTheUnpackLimitIsRefusedBeforeAnythingIsSpooled) {
    testing::TempDir tmp;
    SpoolDir spool(tmp / "spool");
    // A megabyte of valid base64: what a stream that lies about its size would go on sending.
    std::ofstream(tmp / "payload") << std::string(1 << 20, 'A');
    util::UniqueFd in(::open((tmp / "payload").c_str(), O_RDONLY | O_CLOEXEC));
    WireReader reader(in.get());
    ExtractLimits limits;
    limits.max_unpacked_bytes = 4096;
    Status received =
        receive_zip(reader, nlohmann::ordered_json(1000000000000000ull), tmp / "out", limits);
    ASSERT_FALSE(received.ok());
    EXPECT_NE(received.error().message.find("1000000000000000"), std::string::npos);
    EXPECT_NE(received.error().message.find("--max-unpacked-bytes"), std::string::npos);
    EXPECT_TRUE(fs::is_empty(tmp / "spool"));
    EXPECT_FALSE(fs::exists(tmp / "out"));
    // Nothing of the payload was read either.
    EXPECT_EQ(::lseek(in.get(), 0, SEEK_CUR), 0);
}

TEST(SpoolFile, AZipWithinTheLimitIsSpooledExtractedAndTheSpoolRemoved) {
    testing::TempDir tmp;
    SpoolDir spool(tmp / "spool");
    fs::create_directories(tmp / "src");
    std::ofstream(tmp / "src/file") << "content";
    {
        util::UniqueFd zip(
            ::open((tmp / "a.zip").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        ASSERT_TRUE(write_zip(tmp / "src", zip.get()).ok());
    }
    {
        util::UniqueFd stream(
            ::open((tmp / "stream").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        WireWriter writer(stream.get());
        ASSERT_TRUE(writer.write_zip(tmp / "a.zip").ok());
    }
    util::UniqueFd in(::open((tmp / "stream").c_str(), O_RDONLY | O_CLOEXEC));
    WireReader reader(in.get());
    auto header = reader.read_line();
    ASSERT_TRUE(header.ok() && *header);
    auto size = nlohmann::ordered_json::parse(**header)["zipfile"];
    ExtractLimits limits;
    limits.max_unpacked_bytes = size.get<uint64_t>();  // exactly at the limit is fine
    Status received = receive_zip(reader, size, tmp / "out", limits, LinkTargets::inside);
    ASSERT_TRUE(received.ok()) << received.error().message;
    EXPECT_EQ(testing::slurp(tmp / "out/file"), "content");
    EXPECT_TRUE(fs::is_empty(tmp / "spool"));
}

}  // namespace
}  // namespace arunner::stream
