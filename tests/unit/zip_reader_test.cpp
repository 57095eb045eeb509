#include "stream/zip_reader.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "stream/base64_stream.hpp"
#include "support/file_helpers.hpp"
#include "support/temp_dir.hpp"
#include "util/files.hpp"

namespace arunner::stream {
namespace {

namespace fs = std::filesystem;

using testing::lstat_of;
using testing::slurp;

bool exists_no_follow(const fs::path& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

// One entry of a crafted zip.
struct Spec {
    std::string name;
    mode_t mode = AE_IFREG | 0644;  // type and permissions
    std::string content;            // file content or symlink target
    time_t mtime = 1600000000;
};

// Writes a zip with libarchive, exactly as the specs say (no sanitising of names).
void craft_zip(const fs::path& path, const std::vector<Spec>& specs) {
    archive* a = archive_write_new();
    ASSERT_EQ(archive_write_set_format_zip(a), ARCHIVE_OK);
    ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
    for (const Spec& spec : specs) {
        archive_entry* entry = archive_entry_new();
        archive_entry_set_pathname(entry, spec.name.c_str());
        archive_entry_set_mode(entry, spec.mode);
        archive_entry_set_mtime(entry, spec.mtime, 0);
        if ((spec.mode & AE_IFMT) == AE_IFLNK) {
            archive_entry_set_symlink(entry, spec.content.c_str());
        } else if ((spec.mode & AE_IFMT) == AE_IFREG) {
            archive_entry_set_size(entry, static_cast<la_int64_t>(spec.content.size()));
        }
        ASSERT_EQ(archive_write_header(a, entry), ARCHIVE_OK) << spec.name;
        if ((spec.mode & AE_IFMT) == AE_IFREG && !spec.content.empty()) {
            ASSERT_EQ(archive_write_data(a, spec.content.data(), spec.content.size()),
                      static_cast<la_ssize_t>(spec.content.size()));
        }
        archive_entry_free(entry);
    }
    ASSERT_EQ(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

Spec dir(const std::string& name, mode_t perm = 0755) {
    return {name, AE_IFDIR | perm, ""};
}
Spec link(const std::string& name, const std::string& target) {
    return {name, AE_IFLNK | 0777, target};
}

// Rewrites the uncompressed size in every local and central header to `size` (a liar's zip).
void lie_about_sizes(const fs::path& path, uint32_t size) {
    std::string zip = slurp(path);
    auto patch = [&](const char* signature, size_t field) {
        for (size_t at = zip.find(signature); at != std::string::npos;
             at = zip.find(signature, at + 4)) {
            for (size_t i = 0; i < 4; ++i) {
                zip[at + field + i] = static_cast<char>((size >> (8 * i)) & 0xFF);
            }
        }
    };
    patch("PK\x03\x04", 22);
    patch("PK\x01\x02", 24);
    ASSERT_TRUE(util::write_file(path, zip, 0644).ok());
}

Status extract(const fs::path& zip, const fs::path& target, ExtractLimits limits = {}) {
    return extract_zip(zip, target, limits);
}

void expect_refused(const Status& status, const std::string& entry) {
    ASSERT_FALSE(status.ok()) << "extracted " << entry;
    EXPECT_NE(status.error().message.find("'" + entry + "'"), std::string::npos)
        << status.error().message;
}

TEST(ZipReader, ExtractsFilesDirsSymlinksModesAndMtimes) {
    testing::TempDir tmp;
    craft_zip(tmp / "a.zip", {dir("env/", 0700),
                              {"env/ssh_key", AE_IFREG | 0600, "key", 1500000000},
                              {"inventory/hosts", AE_IFREG | 0755, "#!/bin/sh\n", 1500000002},
                              link("project/link", "../inventory/hosts"),
                              {"setuid", AE_IFREG | 04755, "x"},
                              dir("readonly/", 0555),
                              {"readonly/inside", AE_IFREG | 0444, "r"}});
    ASSERT_TRUE(extract(tmp / "a.zip", tmp / "out").ok());
    EXPECT_EQ(lstat_of(tmp / "out/env").st_mode & 07777, 0700u);
    EXPECT_EQ(lstat_of(tmp / "out/env/ssh_key").st_mode & 07777, 0600u);
    EXPECT_EQ(lstat_of(tmp / "out/env/ssh_key").st_mtime, 1500000000);
    EXPECT_EQ(lstat_of(tmp / "out/inventory/hosts").st_mode & 07777, 0755u);
    EXPECT_EQ(lstat_of(tmp / "out/inventory/hosts").st_mtime, 1500000002);
    EXPECT_EQ(slurp(tmp / "out/inventory/hosts"), "#!/bin/sh\n");
    EXPECT_TRUE(S_ISLNK(lstat_of(tmp / "out/project/link").st_mode));
    EXPECT_EQ(fs::read_symlink(tmp / "out/project/link"), "../inventory/hosts");
    EXPECT_EQ(lstat_of(tmp / "out/setuid").st_mode & 07777, 0755u);  // no setuid from a zip
    EXPECT_EQ(lstat_of(tmp / "out/readonly").st_mode & 07777, 0555u);
    EXPECT_EQ(slurp(tmp / "out/readonly/inside"), "r");
    EXPECT_EQ(lstat_of(tmp / "out/env").st_mtime, 1600000000);
}

/// The recorded vectors, copied from ../shared/vectors into the repository.
fs::path vectors_dir() {
    return fs::path(ARUNNER_FIXTURES) / "vectors";
}

TEST(ZipReader, ExtractsTheZipThatAnsibleRunnerTransmitted) {
    std::string job = slurp(vectors_dir() / "small.job");
    const std::string header = "{\"zipfile\": 732}\n";
    size_t at = job.find(header);
    ASSERT_NE(at, std::string::npos) << "missing " << (vectors_dir() / "small.job");
    std::string zip;
    Base64Decoder decoder(732);
    auto used = decoder.feed(std::string_view(job).substr(at + header.size()),
                             [&](std::string_view bytes) -> Status {
                                 zip.append(bytes);
                                 return {};
                             });
    ASSERT_TRUE(used.ok()) << used.error().message;
    ASSERT_TRUE(decoder.complete());
    EXPECT_EQ(job.substr(at + header.size() + *used), "{\"eof\": true}\n");

    testing::TempDir tmp;
    ASSERT_TRUE(util::write_file(tmp / "job.zip", zip, 0600).ok());
    Status status = extract(tmp / "job.zip", tmp / "pdd");
    ASSERT_TRUE(status.ok()) << status.error().message;
    for (const char* file : {"project/site.yml", "inventory/hosts"}) {
        EXPECT_EQ(slurp(tmp / "pdd" / file), slurp(vectors_dir() / "pdd" / file)) << file;
        EXPECT_FALSE(slurp(tmp / "pdd" / file).empty()) << file;
        EXPECT_EQ(lstat_of(tmp / "pdd" / file).st_mode, S_IFREG | 0644u) << file;  // as zipped
    }
    for (const char* d : {"env", "project", "inventory"}) {
        EXPECT_EQ(lstat_of(tmp / "pdd" / d).st_mode, S_IFDIR | 0755u) << d;
    }
    EXPECT_TRUE(fs::is_empty(tmp / "pdd/env"));
}

TEST(ZipReader, RefusesDotDotBeforeWritingAnything) {
    testing::TempDir tmp;
    for (const char* name : {"../evil", "a/../../evil", "a/b/../../../evil"}) {
        fs::remove_all(tmp / "out");
        craft_zip(tmp / "a.zip", {{"first", AE_IFREG | 0644, "x"}, {name, AE_IFREG | 0644, "x"}});
        expect_refused(extract(tmp / "a.zip", tmp / "out"), name);
        EXPECT_FALSE(exists_no_follow(tmp / "evil")) << name;
        EXPECT_FALSE(exists_no_follow(tmp / "out/first")) << name;
    }
}

TEST(ZipReader, RefusesAbsolutePaths) {
    testing::TempDir tmp;
    std::string absolute = (tmp / "abs").string();
    craft_zip(tmp / "a.zip", {{absolute, AE_IFREG | 0644, "x"}});
    expect_refused(extract(tmp / "a.zip", tmp / "out"), absolute);
    EXPECT_FALSE(exists_no_follow(tmp / "abs"));
}

TEST(ZipReader, RefusesAPathThroughASymlinkEntryThatLeaves) {
    testing::TempDir tmp;
    fs::create_directories(tmp / "outside");
    for (const std::string& target : {(tmp / "outside").string(), std::string("../outside")}) {
        fs::remove_all(tmp / "out");
        craft_zip(tmp / "a.zip", {link("escape", target), {"escape/evil", AE_IFREG | 0644, "x"}});
        expect_refused(extract(tmp / "a.zip", tmp / "out"), "escape/evil");
        EXPECT_FALSE(exists_no_follow(tmp / "outside/evil")) << target;
    }
    // A chain: a link inside pointing at a link that leaves.
    fs::remove_all(tmp / "out");
    craft_zip(
        tmp / "a.zip",
        {link("hop", "../outside"), link("inner", "hop"), {"inner/evil", AE_IFREG | 0644, "x"}});
    expect_refused(extract(tmp / "a.zip", tmp / "out"), "inner/evil");
    EXPECT_FALSE(exists_no_follow(tmp / "outside/evil"));
}

TEST(ZipReader, RefusesAPathThroughAnExistingSymlinkThatLeaves) {
    testing::TempDir tmp;
    fs::create_directories(tmp / "outside");
    fs::create_directories(tmp / "out");
    fs::create_directory_symlink(tmp / "outside", tmp / "out/pre");
    craft_zip(tmp / "a.zip", {{"pre/evil", AE_IFREG | 0644, "x"}});
    expect_refused(extract(tmp / "a.zip", tmp / "out"), "pre/evil");
    EXPECT_FALSE(exists_no_follow(tmp / "outside/evil"));
}

TEST(ZipReader, FollowsSymlinksThatStayInside) {
    testing::TempDir tmp;
    craft_zip(tmp / "a.zip",
              {dir("real/"), link("alias", "real"), {"alias/file", AE_IFREG | 0644, "inside"}});
    ASSERT_TRUE(extract(tmp / "a.zip", tmp / "out").ok());
    EXPECT_EQ(slurp(tmp / "out/real/file"), "inside");
}

TEST(ZipReader, RefusesABombByRatio) {
    testing::TempDir tmp;
    craft_zip(tmp / "bomb.zip", {{"zeros", AE_IFREG | 0644, std::string(50u << 20, '\0')}});
    ASSERT_LT(fs::file_size(tmp / "bomb.zip"), 500u * 1024);
    Status status = extract(tmp / "bomb.zip", tmp / "out", {10ull << 30, 100.0, 1 << 20});
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.error().message.find("100 times"), std::string::npos)
        << status.error().message;
    EXPECT_FALSE(exists_no_follow(tmp / "out/zeros"));
    // The same archive is fine under a looser ratio.
    EXPECT_TRUE(extract(tmp / "bomb.zip", tmp / "out", {10ull << 30, 10000.0}).ok());
    EXPECT_EQ(fs::file_size(tmp / "out/zeros"), 50u << 20);
}

TEST(ZipReader, RepetitiveArtifactsUnderTheRatioFloorAreFine) {
    // A job's stdout of 20 MiB of near-identical lines deflates far beyond 100:1.
    testing::TempDir tmp;
    std::string stdout_text;
    while (stdout_text.size() < (20u << 20)) {
        stdout_text +=
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n";
    }
    craft_zip(tmp / "art.zip", {{"stdout", AE_IFREG | 0600, stdout_text}});
    ASSERT_GT(stdout_text.size(), 100 * fs::file_size(tmp / "art.zip"));
    ASSERT_TRUE(extract(tmp / "art.zip", tmp / "out").ok());
    EXPECT_EQ(fs::file_size(tmp / "out/stdout"), stdout_text.size());
}

TEST(ZipReader, RefusesMoreThanMaxUnpackedBytes) {
    testing::TempDir tmp;
    std::mt19937 rng(1);
    std::string noise(3000, '\0');
    for (char& c : noise) {
        c = static_cast<char>(rng());
    }
    craft_zip(tmp / "a.zip", {{"a", AE_IFREG | 0644, noise.substr(0, 1500)},
                              {"b", AE_IFREG | 0644, noise.substr(1500)}});
    Status status = extract(tmp / "a.zip", tmp / "out", {2000, 100.0});
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.error().message.find("limit of 2000"), std::string::npos)
        << status.error().message;
    EXPECT_FALSE(exists_no_follow(tmp / "out/a"));
    EXPECT_TRUE(extract(tmp / "a.zip", tmp / "out", {3000, 100.0}).ok());
}

TEST(ZipReader, CountsRealBytesWhenSizesLie) {
    testing::TempDir tmp;
    craft_zip(tmp / "a.zip", {{"zeros", AE_IFREG | 0644, std::string(8u << 20, '\0')}});
    lie_about_sizes(tmp / "a.zip", 10);
    Status status = extract(tmp / "a.zip", tmp / "out", {1u << 20, 1e9});
    expect_refused(status, "zeros");
    EXPECT_LE(fs::file_size(tmp / "out/zeros"), 1u << 20);
}

TEST(ZipReader, GarbageAndTruncatedZipsAreErrors) {
    testing::TempDir tmp;
    std::mt19937 rng(2);
    std::string garbage(10000, '\0');
    for (char& c : garbage) {
        c = static_cast<char>(rng());
    }
    ASSERT_TRUE(util::write_file(tmp / "garbage.zip", garbage, 0644).ok());
    EXPECT_FALSE(extract(tmp / "garbage.zip", tmp / "out").ok());
    ASSERT_TRUE(util::write_file(tmp / "empty.zip", "", 0644).ok());
    EXPECT_FALSE(extract(tmp / "empty.zip", tmp / "out").ok());
    EXPECT_FALSE(extract(tmp / "missing.zip", tmp / "out").ok());

    craft_zip(tmp / "good.zip", {{"a", AE_IFREG | 0644, garbage}, {"b", AE_IFREG | 0644, "b"}});
    std::string good = slurp(tmp / "good.zip");
    for (size_t cut : {good.size() / 2, good.size() - 30, good.size() - 1}) {
        ASSERT_TRUE(util::write_file(tmp / "cut.zip", good.substr(0, cut), 0644).ok());
        Status status = extract(tmp / "cut.zip", tmp / "out");
        EXPECT_FALSE(status.ok()) << "cut at " << cut;
    }
    // Corrupted contents (a flipped byte inside the data) fail the CRC check.
    std::string flipped = good;
    flipped[good.find("PK\x03\x04") + 30 + 1 + 40] ^= 0x55;
    ASSERT_TRUE(util::write_file(tmp / "flipped.zip", flipped, 0644).ok());
    EXPECT_FALSE(extract(tmp / "flipped.zip", tmp / "out2").ok());
}

TEST(ZipReader, RemovesAnExistingFifoAndSkipsTheEntry) {
    testing::TempDir tmp;
    fs::create_directories(tmp / "out/env");
    ASSERT_EQ(::mkfifo((tmp / "out/env/ssh_key").c_str(), 0600), 0);
    craft_zip(tmp / "a.zip",
              {{"env/ssh_key", AE_IFREG | 0600, "key"}, {"env/other", AE_IFREG | 0600, "other"}});
    ASSERT_TRUE(extract(tmp / "a.zip", tmp / "out").ok());
    EXPECT_FALSE(exists_no_follow(tmp / "out/env/ssh_key"));
    EXPECT_EQ(slurp(tmp / "out/env/other"), "other");
}

TEST(ZipReader, SkipsExistingDirectoriesWithoutChmod) {
    testing::TempDir tmp;
    fs::create_directories(tmp / "out/project");
    ASSERT_EQ(::chmod((tmp / "out/project").c_str(), 0700), 0);
    craft_zip(tmp / "a.zip", {dir("project/", 0755),
                              {"project/site.yml", AE_IFREG | 0644, "x"},
                              {"project", AE_IFREG | 0644, "a file entry over a dir"}});
    ASSERT_TRUE(extract(tmp / "a.zip", tmp / "out").ok());
    EXPECT_EQ(lstat_of(tmp / "out/project").st_mode, S_IFDIR | 0700u);
    EXPECT_EQ(slurp(tmp / "out/project/site.yml"), "x");
}

TEST(ZipReader, ReplacesExistingPathsWithSymlinkEntries) {
    testing::TempDir tmp;
    fs::create_directories(tmp / "out");
    fs::create_symlink("old-target", tmp / "out/link");
    ASSERT_TRUE(util::write_file(tmp / "out/file", "was a file", 0644).ok());
    craft_zip(tmp / "a.zip", {link("link", "new-target"), link("file", "link")});
    ASSERT_TRUE(extract(tmp / "a.zip", tmp / "out").ok());
    EXPECT_EQ(fs::read_symlink(tmp / "out/link"), "new-target");
    EXPECT_EQ(fs::read_symlink(tmp / "out/file"), "link");
}

TEST(ZipReader, NeverWritesThroughAnExistingSymlink) {
    testing::TempDir tmp;
    ASSERT_TRUE(util::write_file(tmp / "precious", "keep me", 0644).ok());
    fs::create_directories(tmp / "out");
    fs::create_symlink(tmp / "precious", tmp / "out/hosts");
    fs::create_symlink(tmp / "nowhere", tmp / "out/dangling");
    craft_zip(tmp / "a.zip",
              {{"hosts", AE_IFREG | 0600, "new"}, {"dangling", AE_IFREG | 0644, "d"}});
    ASSERT_TRUE(extract(tmp / "a.zip", tmp / "out").ok());
    EXPECT_EQ(slurp(tmp / "precious"), "keep me");
    EXPECT_FALSE(exists_no_follow(tmp / "nowhere"));
    EXPECT_TRUE(S_ISREG(lstat_of(tmp / "out/hosts").st_mode));
    EXPECT_EQ(slurp(tmp / "out/hosts"), "new");
    EXPECT_EQ(slurp(tmp / "out/dangling"), "d");
}

TEST(ZipReader, OverwritesExistingFiles) {
    testing::TempDir tmp;
    fs::create_directories(tmp / "out");
    ASSERT_TRUE(util::write_file(tmp / "out/status", "running and longer", 0400).ok());
    craft_zip(tmp / "a.zip", {{"status", AE_IFREG | 0600, "successful"}});
    ASSERT_TRUE(extract(tmp / "a.zip", tmp / "out").ok());
    EXPECT_EQ(slurp(tmp / "out/status"), "successful");
    EXPECT_EQ(lstat_of(tmp / "out/status").st_mode & 07777, 0600u);
}

// What `process` accepts from a worker: links that stay inside, whatever the zip says.
TEST(ZipReader, InsideRefusesAbsoluteAndLeavingSymlinkTargets) {
    testing::TempDir tmp;
    fs::create_directories(tmp / "outside");
    const std::vector<std::vector<Spec>> hostile = {
        {link("abs", "/etc")},
        {link("abs", (tmp / "outside").string())},
        {link("up", "../outside")},
        {dir("deep/"), link("deep/up", "../../outside")},
        {link("sneak", "a/../../outside")},
        // `self/..` is lexically inside, but self is the root: its parent is outside.
        {link("self", "."), link("viaself", "self/..")},
        // Through a link to the root, the real directory is the root: no `..` from there.
        {link("self", "."), link("self/up", "..")},
    };
    for (const auto& specs : hostile) {
        fs::remove_all(tmp / "out");
        craft_zip(tmp / "a.zip", specs);
        Status status = extract_zip(tmp / "a.zip", tmp / "out", {}, LinkTargets::inside);
        expect_refused(status, specs.back().name);
        // The refused link was never made.
        EXPECT_FALSE(exists_no_follow(tmp / "out" / specs.back().name)) << specs.back().name;
        EXPECT_TRUE(fs::is_empty(tmp / "outside"));
    }
    // An entry through a symlinked dir that leaves: refused at the link already.
    fs::remove_all(tmp / "out");
    craft_zip(tmp / "a.zip", {link("escape", "../outside"), {"escape/evil", AE_IFREG | 0644, "x"}});
    expect_refused(extract_zip(tmp / "a.zip", tmp / "out", {}, LinkTargets::inside), "escape");
    EXPECT_TRUE(fs::is_empty(tmp / "outside"));
}

TEST(ZipReader, InsideKeepsLinksThatStayInside) {
    testing::TempDir tmp;
    craft_zip(tmp / "a.zip", {dir("project/"),
                              dir("inventory/"),
                              {"inventory/hosts", AE_IFREG | 0644, "h"},
                              link("project/link", "../inventory/hosts"),
                              link("here", "."),
                              link("alias", "inventory/./hosts"),
                              link("dangling", "nothing/yet")});
    Status status = extract_zip(tmp / "a.zip", tmp / "out", {}, LinkTargets::inside);
    ASSERT_TRUE(status.ok()) << status.error().message;
    EXPECT_EQ(fs::read_symlink(tmp / "out/project/link"), "../inventory/hosts");
    EXPECT_EQ(slurp(tmp / "out/alias"), "h");
    EXPECT_EQ(fs::read_symlink(tmp / "out/dangling"), "nothing/yet");
}

TEST(ZipReader, NeverOpensAFifoAtAFileEntrysName) {
    testing::TempDir tmp;
    fs::create_directories(tmp / "out/sub");
    ASSERT_EQ(::mkfifo((tmp / "out/sub/file").c_str(), 0600), 0);
    craft_zip(tmp / "a.zip",
              {{"sub/file", AE_IFREG | 0644, "x"}, {"sub/file", AE_IFREG | 0644, "y"}});
    // Must not block: the FIFO is removed and the entry skipped, the next one written.
    ASSERT_TRUE(extract_zip(tmp / "a.zip", tmp / "out", {}, LinkTargets::inside).ok());
    EXPECT_TRUE(S_ISREG(lstat_of(tmp / "out/sub/file").st_mode));
    EXPECT_EQ(slurp(tmp / "out/sub/file"), "y");
}

}  // namespace
}  // namespace arunner::stream
