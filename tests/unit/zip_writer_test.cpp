#include "stream/zip_writer.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "stream/zip_reader.hpp"
#include "support/file_helpers.hpp"
#include "support/temp_dir.hpp"
#include "util/files.hpp"
#include "util/unique_fd.hpp"

namespace arunner::stream {
namespace {

namespace fs = std::filesystem;

using testing::lstat_of;
using testing::slurp;

void set_mtime(const fs::path& path, time_t when) {
    timespec times[2] = {{when, 0}, {when, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
}

time_t local_time(int year, int month, int day, int hour, int minute, int second) {
    struct tm tm {};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    tm.tm_isdst = -1;
    return ::mktime(&tm);
}

Status zip_to(const fs::path& source, const fs::path& zip) {
    util::UniqueFd fd(::open(zip.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    return write_zip(source, fd.get());
}

// One record of the zip's central directory, read straight from the bytes.
struct CdEntry {
    std::string name;
    uint16_t made_by = 0;
    uint16_t flags = 0;
    uint16_t method = 0;
    uint32_t dos_time = 0;  // DOS date << 16 | DOS time
    uint32_t compressed = 0;
    uint32_t size = 0;
    uint32_t external_attr = 0;
    uint32_t offset = 0;
};

uint16_t le16(const std::string& s, size_t at) {
    return static_cast<uint16_t>(static_cast<unsigned char>(s[at]) |
                                 static_cast<unsigned char>(s[at + 1]) << 8);
}
uint32_t le32(const std::string& s, size_t at) {
    return le16(s, at) | static_cast<uint32_t>(le16(s, at + 2)) << 16;
}

std::vector<CdEntry> central_directory(const std::string& zip) {
    size_t eocd = zip.rfind(std::string("PK\x05\x06", 4));
    EXPECT_NE(eocd, std::string::npos);
    if (eocd == std::string::npos) {
        return {};
    }
    std::vector<CdEntry> entries;
    size_t at = le32(zip, eocd + 16);
    for (uint16_t i = 0; i < le16(zip, eocd + 10); ++i) {
        EXPECT_EQ(zip.compare(at, 4, "PK\x01\x02"), 0);
        CdEntry e;
        e.made_by = le16(zip, at + 4);
        e.flags = le16(zip, at + 8);
        e.method = le16(zip, at + 10);
        e.dos_time = le32(zip, at + 12);
        e.compressed = le32(zip, at + 20);
        e.size = le32(zip, at + 24);
        e.external_attr = le32(zip, at + 38);
        e.offset = le32(zip, at + 42);
        uint16_t name_len = le16(zip, at + 28);
        e.name = zip.substr(at + 46, name_len);
        entries.push_back(e);
        at += 46 + name_len + le16(zip, at + 30) + le16(zip, at + 32);
    }
    return entries;
}

const CdEntry* find(const std::vector<CdEntry>& entries, const std::string& name) {
    for (const CdEntry& e : entries) {
        if (e.name == name) {
            return &e;
        }
    }
    return nullptr;
}

time_t dos_to_local(uint32_t dos) {
    return local_time(1980 + (dos >> 25), (dos >> 21) & 15, (dos >> 16) & 31, (dos >> 11) & 31,
                      (dos >> 5) & 63, (dos & 31) * 2);
}

// Entry names in archive order, as libarchive's seekable reader lists them.
std::vector<std::string> list_with_libarchive(const fs::path& zip) {
    std::vector<std::string> names;
    archive* a = archive_read_new();
    archive_read_support_format_zip_seekable(a);
    EXPECT_EQ(archive_read_open_filename(a, zip.c_str(), 65536), ARCHIVE_OK);
    archive_entry* entry = nullptr;
    while (archive_read_next_header(a, &entry) == ARCHIVE_OK) {
        names.emplace_back(archive_entry_pathname(entry));
    }
    archive_read_free(a);
    return names;
}

void write_random(const fs::path& path, size_t size, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::ofstream out(path, std::ios::binary);
    std::vector<uint64_t> block(8192);
    for (size_t done = 0; done < size;) {
        for (auto& word : block) {
            word = rng();
        }
        size_t n = std::min(size - done, block.size() * sizeof(uint64_t));
        out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(n));
        done += n;
    }
}

std::string text_of_size(size_t size) {
    std::string text;
    for (int i = 0; text.size() < size; ++i) {
        text += "- name: task " + std::to_string(i) + "\n  debug: msg=hello\n";
    }
    text.resize(size);
    return text;
}

long status_kb(const char* field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(field, 0) == 0) {
            return std::stol(line.substr(std::strlen(field)));
        }
    }
    return -1;
}

TEST(ZipWriter, StoresModesAndRoundTripsPermissions) {
    testing::TempDir tmp;
    fs::create_directories(tmp / "src/env");
    ASSERT_TRUE(util::write_file(tmp / "src/env/ssh_key", "key", 0600).ok());
    ASSERT_TRUE(util::write_file(tmp / "src/run.sh", "#!/bin/sh\n", 0755).ok());
    ASSERT_EQ(::chmod((tmp / "src/env").c_str(), 0700), 0);
    ASSERT_TRUE(zip_to(tmp / "src", tmp / "a.zip").ok());

    auto cd = central_directory(slurp(tmp / "a.zip"));
    ASSERT_NE(find(cd, "env/"), nullptr);
    EXPECT_EQ(find(cd, "env/")->external_attr >> 16, 040700u);
    EXPECT_EQ(find(cd, "env/ssh_key")->external_attr >> 16, 0100600u);
    EXPECT_EQ(find(cd, "run.sh")->external_attr >> 16, 0100755u);
    EXPECT_EQ(find(cd, "run.sh")->made_by >> 8, 3);  // Unix

    ASSERT_TRUE(extract_zip(tmp / "a.zip", tmp / "out", {}).ok());
    EXPECT_EQ(lstat_of(tmp / "out/env").st_mode & 07777, 0700u);
    EXPECT_EQ(lstat_of(tmp / "out/env/ssh_key").st_mode & 07777, 0600u);
    EXPECT_EQ(lstat_of(tmp / "out/run.sh").st_mode & 07777, 0755u);
    EXPECT_EQ(slurp(tmp / "out/env/ssh_key"), "key");
}

TEST(ZipWriter, StoresDosLocalMtimesThatRoundTrip) {
    testing::TempDir tmp;
    fs::create_directories(tmp / "src/dir");
    ASSERT_TRUE(util::write_file(tmp / "src/dir/f", "x", 0644).ok());
    time_t when = local_time(2021, 5, 6, 7, 8, 9);
    set_mtime(tmp / "src/dir/f", when);
    set_mtime(tmp / "src/dir", when - 3600);
    ASSERT_TRUE(zip_to(tmp / "src", tmp / "a.zip").ok());

    auto cd = central_directory(slurp(tmp / "a.zip"));
    ASSERT_NE(find(cd, "dir/f"), nullptr);
    EXPECT_LE(std::abs(dos_to_local(find(cd, "dir/f")->dos_time) - when), 2);
    EXPECT_LE(std::abs(dos_to_local(find(cd, "dir/")->dos_time) - (when - 3600)), 2);

    ASSERT_TRUE(extract_zip(tmp / "a.zip", tmp / "out", {}).ok());
    EXPECT_LE(std::abs(lstat_of(tmp / "out/dir/f").st_mtime - when), 2);
    EXPECT_LE(std::abs(lstat_of(tmp / "out/dir").st_mtime - (when - 3600)), 2);
}

TEST(ZipWriter, ClampsMtimesBefore1980) {
    testing::TempDir tmp;
    fs::create_directories(tmp / "src");
    ASSERT_TRUE(util::write_file(tmp / "src/old", "x", 0644).ok());
    set_mtime(tmp / "src/old", local_time(1970, 6, 1, 0, 0, 0));
    ASSERT_TRUE(zip_to(tmp / "src", tmp / "a.zip").ok());

    auto cd = central_directory(slurp(tmp / "a.zip"));
    ASSERT_NE(find(cd, "old"), nullptr);
    EXPECT_EQ(find(cd, "old")->dos_time, 0x00210000u);  // 1980-01-01 00:00:00
    ASSERT_TRUE(extract_zip(tmp / "a.zip", tmp / "out", {}).ok());
    EXPECT_EQ(lstat_of(tmp / "out/old").st_mtime, local_time(1980, 1, 1, 0, 0, 0));
}

TEST(ZipWriter, StoresSymlinksAsLinksWithoutFollowingThem) {
    testing::TempDir tmp;
    fs::create_directories(tmp / "src/project");
    fs::create_directories(tmp / "elsewhere");
    ASSERT_TRUE(util::write_file(tmp / "elsewhere/secret", "do not follow", 0644).ok());
    ASSERT_TRUE(util::write_file(tmp / "src/project/site.yml", "---\n", 0644).ok());
    fs::create_symlink("site.yml", tmp / "src/project/link.yml");
    fs::create_symlink(tmp / "elsewhere", tmp / "src/dirlink");
    fs::create_symlink("/nonexistent/target", tmp / "src/dangling");
    ASSERT_TRUE(zip_to(tmp / "src", tmp / "a.zip").ok());

    std::string zip = slurp(tmp / "a.zip");
    auto cd = central_directory(zip);
    for (const char* name : {"project/link.yml", "dirlink", "dangling"}) {
        ASSERT_NE(find(cd, name), nullptr) << name;
        EXPECT_EQ(find(cd, name)->external_attr >> 16, 0120777u) << name;
        EXPECT_EQ(find(cd, name)->made_by >> 8, 3) << name;
    }
    EXPECT_EQ(find(cd, "dirlink")->size, (tmp / "elsewhere").string().size());
    EXPECT_EQ(find(cd, "dirlink/secret"), nullptr);
    EXPECT_EQ(zip.find("do not follow"), std::string::npos);

    ASSERT_TRUE(extract_zip(tmp / "a.zip", tmp / "out", {}).ok());
    EXPECT_EQ(fs::read_symlink(tmp / "out/project/link.yml"), "site.yml");
    EXPECT_EQ(fs::read_symlink(tmp / "out/dirlink"), tmp / "elsewhere");
    EXPECT_EQ(fs::read_symlink(tmp / "out/dangling"), "/nonexistent/target");
}

TEST(ZipWriter, SkipsFifosWithoutHanging) {
    testing::TempDir tmp;
    fs::create_directories(tmp / "src/env");
    ASSERT_EQ(::mkfifo((tmp / "src/env/ssh_key_data").c_str(), 0600), 0);
    ASSERT_TRUE(util::write_file(tmp / "src/env/extravars", "{}", 0644).ok());
    // In a child, so that a hang is a failure rather than a stuck test run.
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::_exit(zip_to(tmp / "src", tmp / "a.zip").ok() ? 0 : 1);
    }
    int status = -1;
    for (int i = 0; i < 200 && ::waitpid(child, &status, WNOHANG) == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (::waitpid(child, &status, WNOHANG) == 0) {
        ::kill(child, SIGKILL);
        ::waitpid(child, &status, 0);
        FAIL() << "write_zip hung on a FIFO";
    }
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    auto names = list_with_libarchive(tmp / "a.zip");
    EXPECT_EQ(names, (std::vector<std::string>{"env/", "env/extravars"}));
}

TEST(ZipWriter, ListsFilesBeforeSubdirectoriesTopDownWithDirectoryEntries) {
    testing::TempDir tmp;
    for (const char* dir : {"src/b_dir/inner", "src/a_dir", "src/empty"}) {
        fs::create_directories(tmp / dir);
    }
    for (const char* file :
         {"src/z_file", "src/c_file", "src/b_dir/f", "src/b_dir/inner/g", "src/a_dir/h"}) {
        ASSERT_TRUE(util::write_file(tmp / file, "x", 0644).ok());
    }
    fs::create_symlink("a_dir", tmp / "src/d_link_to_dir");
    ASSERT_TRUE(zip_to(tmp / "src", tmp / "a.zip").ok());
    std::vector<std::string> expected = {
        "c_file",  "z_file",                                   // files of the root
        "a_dir/",  "b_dir/",       "d_link_to_dir", "empty/",  // then its subdirectories
        "a_dir/h",                                             // a_dir, fully
        "b_dir/f", "b_dir/inner/", "b_dir/inner/g",            // b_dir, fully
    };
    EXPECT_EQ(list_with_libarchive(tmp / "a.zip"), expected);
    ASSERT_TRUE(extract_zip(tmp / "a.zip", tmp / "out", {}).ok());
    EXPECT_TRUE(fs::is_directory(tmp / "out/empty"));
    EXPECT_TRUE(fs::is_empty(tmp / "out/empty"));
}

TEST(ZipWriter, StoresIncompressibleFilesAndDeflatesText) {
    testing::TempDir tmp;
    fs::create_directories(tmp / "src");
    write_random(tmp / "src/random.bin", 300000, 1);
    ASSERT_TRUE(util::write_file(tmp / "src/text.yml", text_of_size(300000), 0644).ok());
    ASSERT_TRUE(util::write_file(tmp / "src/tiny", "hello", 0644).ok());
    ASSERT_TRUE(util::write_file(tmp / "src/empty", "", 0644).ok());
    ASSERT_TRUE(zip_to(tmp / "src", tmp / "a.zip").ok());

    auto cd = central_directory(slurp(tmp / "a.zip"));
    ASSERT_EQ(cd.size(), 4u);
    EXPECT_EQ(find(cd, "random.bin")->method, 0);  // stored
    EXPECT_EQ(find(cd, "random.bin")->compressed, 300000u);
    EXPECT_EQ(find(cd, "text.yml")->method, 8);  // deflated
    EXPECT_LT(find(cd, "text.yml")->compressed, 300000u / 4);
    EXPECT_EQ(find(cd, "tiny")->method, 8);
    ASSERT_TRUE(extract_zip(tmp / "a.zip", tmp / "out", {}).ok());
    EXPECT_EQ(slurp(tmp / "out/random.bin"), slurp(tmp / "src/random.bin"));
    EXPECT_EQ(slurp(tmp / "out/text.yml"), slurp(tmp / "src/text.yml"));
    EXPECT_EQ(slurp(tmp / "out/empty"), "");
}

TEST(ZipWriter, StreamsABigFileInBoundedMemory) {
    testing::TempDir tmp;
    fs::create_directories(tmp / "src");
    constexpr size_t kSize = 96u << 20;
    write_random(tmp / "src/big.bin", kSize, 2);
    {
        std::ofstream reset("/proc/self/clear_refs");
        reset << "5";  // resets VmHWM to the current RSS
    }
    long rss_before = status_kb("VmRSS:");
    ASSERT_TRUE(zip_to(tmp / "src", tmp / "a.zip").ok());
    long peak = status_kb("VmHWM:");
    ASSERT_GT(rss_before, 0);
    EXPECT_LT(peak - rss_before, 24 * 1024) << "peak RSS grew by " << (peak - rss_before) << " kB";

    auto cd = central_directory(slurp(tmp / "a.zip"));
    ASSERT_EQ(cd.size(), 1u);
    EXPECT_EQ(cd[0].size, kSize);
    ASSERT_TRUE(extract_zip(tmp / "a.zip", tmp / "out", {}).ok());
    EXPECT_TRUE(slurp(tmp / "out/big.bin") == slurp(tmp / "src/big.bin"));
}

TEST(ZipWriter, FlagsNonAsciiNamesAsUtf8) {
    testing::TempDir tmp;
    fs::create_directories(tmp / "src");
    ASSERT_TRUE(util::write_file(tmp / "src/h\xC3\xA9llo.yml", "x", 0644).ok());
    ASSERT_TRUE(zip_to(tmp / "src", tmp / "a.zip").ok());
    auto cd = central_directory(slurp(tmp / "a.zip"));
    ASSERT_EQ(cd.size(), 1u);
    EXPECT_EQ(cd[0].name, "h\xC3\xA9llo.yml");
    EXPECT_TRUE(cd[0].flags & 0x800);
    ASSERT_TRUE(extract_zip(tmp / "a.zip", tmp / "out", {}).ok());
    EXPECT_EQ(slurp(tmp / "out/h\xC3\xA9llo.yml"), "x");
}

TEST(ZipWriter, EmptySourcePathGivesAnEmptyZip) {
    testing::TempDir tmp;
    ASSERT_TRUE(zip_to("", tmp / "a.zip").ok());
    std::string zip = slurp(tmp / "a.zip");
    ASSERT_EQ(zip.size(), 22u);
    EXPECT_EQ(zip.substr(0, 4), std::string("PK\x05\x06", 4));
    ASSERT_TRUE(extract_zip(tmp / "a.zip", tmp / "out", {}).ok());
    EXPECT_TRUE(fs::is_empty(tmp / "out"));
}

TEST(ZipWriter, ErrorsNameThePath) {
    testing::TempDir tmp;
    Status missing = zip_to(tmp / "nope", tmp / "a.zip");
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message.find((tmp / "nope").string()), std::string::npos)
        << missing.error().message;

    fs::create_directories(tmp / "src");
    ASSERT_TRUE(util::write_file(tmp / "src/f", std::string(100000, 'x'), 0644).ok());
    util::UniqueFd read_only(::open("/dev/null", O_RDONLY));
    Status unwritable = write_zip(tmp / "src", read_only.get());
    ASSERT_FALSE(unwritable.ok());
    EXPECT_NE(unwritable.error().message.find("cannot write"), std::string::npos)
        << unwritable.error().message;
}

// The worker's case: the job replaced ART by a symlink to a host directory. Zipping ART must
// not zip the link's target; transmit's private data dir (the user's) may be a link.
TEST(ZipWriter, ARootThatIsASymlinkIsRefusedUnlessTheCallerFollowsIt) {
    testing::TempDir tmp;
    fs::create_directories(tmp / "host");
    ASSERT_TRUE(util::write_file(tmp / "host/secret", "host secret", 0644).ok());
    fs::create_directory_symlink(tmp / "host", tmp / "art");
    util::UniqueFd fd(
        ::open((tmp / "a.zip").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    Status zipped = write_zip(tmp / "art", fd.get());
    ASSERT_FALSE(zipped.ok());
    EXPECT_NE(zipped.error().message.find((tmp / "art").string()), std::string::npos);
    EXPECT_EQ(slurp(tmp / "a.zip").find("host secret"), std::string::npos);

    util::UniqueFd followed(
        ::open((tmp / "b.zip").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    ASSERT_TRUE(write_zip(tmp / "art", followed.get(), ZipRoot::follow).ok());
    ASSERT_TRUE(extract_zip(tmp / "b.zip", tmp / "out", {}).ok());
    EXPECT_EQ(slurp(tmp / "out/secret"), "host secret");
}

}  // namespace
}  // namespace arunner::stream
