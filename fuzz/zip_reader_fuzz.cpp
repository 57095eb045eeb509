// Fuzzes the zip extractor (src/stream/zip_reader.hpp) with a `{"zipfile": N}` payload, which a
// worker's peer controls: entries named `..`, absolute paths, symlinks and then entries through
// them, modes, sizes that lie.
//
// Each input is written to a file and extracted into a fresh dir nine levels down a root that
// this process owns (under $TMPDIR), next to a sentinel file and a sibling dir. Afterwards the
// whole root is walked without following links and checked:
// - nothing appeared or changed outside the target dir (so no `..` of up to nine levels, and no
//   link followed out of it, wrote anything);
// - inside it there are only files, dirs and symlinks, no setuid/setgid file, and no more bytes
//   than the limit;
// - with LinkTargets::inside (what `process` uses; the input's size picks the mode), every
//   symlink is relative and resolves inside the target dir.
// The target dir is removed after each input, the root when the process exits.

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "stream/zip_reader.hpp"
#include "util/files.hpp"

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSentinelText = "outside the target dir\n";
constexpr uint64_t kMaxUnpacked = 1 << 20;

/// The fuzz root: $TMPDIR/arunner-zip-fuzz.XXXXXX with `sentinel`, `sibling/keep`, the input
/// as `input.zip`, and `run/1/.../8/target` for the extraction. Removed at exit.
struct Root {
    std::string path;
    std::string zip;
    std::string run;
    std::string target;

    Root() {
        const char* tmp = std::getenv("TMPDIR");
        std::string pattern =
            std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/arunner-zip-fuzz.XXXXXX";
        FUZZ_CHECK(::mkdtemp(pattern.data()) != nullptr, "mkdtemp");
        path = pattern;
        zip = path + "/input.zip";
        run = path + "/run";
        target = run;
        for (int level = 1; level <= 8; ++level) {
            target += "/" + std::to_string(level);
        }
        target += "/target";
        FUZZ_CHECK(arunner::util::write_file(path + "/sentinel", kSentinelText, 0644).ok(),
                   "write the sentinel");
        FUZZ_CHECK(::mkdir((path + "/sibling").c_str(), 0755) == 0, "mkdir sibling");
        FUZZ_CHECK(arunner::util::write_file(path + "/sibling/keep", kSentinelText, 0644).ok(),
                   "write the sibling's file");
    }
};

/// Makes every dir under `dir` (itself included) searchable and writable, never through a link.
void open_up(const std::string& dir) {
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return;
    }
    ::chmod(dir.c_str(), 0700);
    DIR* d = ::opendir(dir.c_str());
    FUZZ_CHECK(d != nullptr, "opendir " + dir);
    while (dirent* e = ::readdir(d)) {
        std::string_view name = e->d_name;
        if (name != "." && name != "..") {
            open_up(dir + "/" + std::string(name));
        }
    }
    ::closedir(d);
}

struct Tally {
    uint64_t bytes = 0;
};

/// Checks what the extraction left under `dir` (inside the target).
void check_inside(const std::string& dir, Tally& tally, bool links_inside,
                  const std::string& target) {
    DIR* d = ::opendir(dir.c_str());
    FUZZ_CHECK(d != nullptr, "opendir " + dir);
    while (dirent* e = ::readdir(d)) {
        std::string_view name = e->d_name;
        if (name == "." || name == "..") {
            continue;
        }
        std::string path = dir + "/" + std::string(name);
        struct stat st {};
        FUZZ_CHECK(::lstat(path.c_str(), &st) == 0, "lstat " + path);
        if (S_ISDIR(st.st_mode)) {
            check_inside(path, tally, links_inside, target);
        } else if (S_ISREG(st.st_mode)) {
            FUZZ_CHECK((st.st_mode & (S_ISUID | S_ISGID)) == 0, "no setuid/setgid file: " + path);
            tally.bytes += static_cast<uint64_t>(st.st_size);
        } else if (S_ISLNK(st.st_mode)) {
            tally.bytes += static_cast<uint64_t>(st.st_size);
            if (links_inside) {
                char link[4096];
                ssize_t n = ::readlink(path.c_str(), link, sizeof link);
                FUZZ_CHECK(n > 0 && link[0] != '/', "no absolute symlink: " + path);
                // Lexically, from the link's dir: `..` never climbs above the target.
                std::string rest = path.substr(target.size() + 1);
                int depth = static_cast<int>(std::count(rest.begin(), rest.end(), '/'));
                std::string_view text(link, static_cast<size_t>(n));
                for (size_t at = 0; at <= text.size() && depth >= 0;) {
                    size_t slash = std::min(text.find('/', at), text.size());
                    std::string_view part = text.substr(at, slash - at);
                    depth += part == ".." ? -1 : (part.empty() || part == ".") ? 0 : 1;
                    at = slash + 1;
                }
                FUZZ_CHECK(depth >= 0, "no symlink leaves the target dir: " + path);
            }
        } else {
            FUZZ_CHECK(false, "only files, dirs and symlinks are extracted: " + path);
        }
    }
    ::closedir(d);
}

/// Checks that the root holds only what it held before, the input and the target's ancestors,
/// and checks the target's contents.
void check_root(const Root& root, const std::string& dir, Tally& tally, bool links_inside) {
    DIR* d = ::opendir(dir.c_str());
    FUZZ_CHECK(d != nullptr, "opendir " + dir);
    while (dirent* e = ::readdir(d)) {
        std::string_view name = e->d_name;
        if (name == "." || name == "..") {
            continue;
        }
        std::string path = dir + "/" + std::string(name);
        struct stat st {};
        FUZZ_CHECK(::lstat(path.c_str(), &st) == 0, "lstat " + path);
        if (path == root.target) {
            FUZZ_CHECK(S_ISDIR(st.st_mode), "the target is a dir");
            check_inside(path, tally, links_inside, root.target);
        } else if (root.target.compare(0, path.size() + 1, path + "/") == 0) {
            FUZZ_CHECK(S_ISDIR(st.st_mode), "the target's ancestors are dirs: " + path);
            check_root(root, path, tally, links_inside);
        } else if (path == root.path + "/sentinel" || path == root.path + "/sibling/keep") {
            FUZZ_CHECK(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644,
                       "a file outside the target is left alone: " + path);
            auto text = arunner::util::read_file(path);
            FUZZ_CHECK(text.ok() && *text == kSentinelText,
                       "a file outside the target is left alone: " + path);
        } else if (path == root.path + "/sibling") {
            FUZZ_CHECK(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755,
                       "a dir outside the target is left alone");
            check_root(root, path, tally, links_inside);
        } else {
            FUZZ_CHECK(path == root.zip, "nothing appears outside the target dir: " + path);
        }
    }
    ::closedir(d);
}

Root* instance = nullptr;

/// The root, made on first use (the first input) and removed when the process exits.
const Root& root() {
    if (instance == nullptr) {
        instance = new Root();
        std::atexit([] {
            open_up(instance->path);
            std::error_code ec;
            fs::remove_all(instance->path, ec);
            delete instance;
        });
    }
    return *instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const Root& r = root();
    FUZZ_CHECK(arunner::util::write_file(
                   r.zip, std::string_view(reinterpret_cast<const char*>(data), size), 0600)
                   .ok(),
               "write the input");
    FUZZ_CHECK(arunner::util::make_dirs(r.target, 0700).ok(), "create the target dir");

    arunner::stream::ExtractLimits limits;
    limits.max_unpacked_bytes = kMaxUnpacked;
    limits.ratio_floor_bytes = 64 << 10;
    const bool links_inside = size % 2 == 1;
    (void)arunner::stream::extract_zip(
        r.zip, r.target, limits,
        links_inside ? arunner::stream::LinkTargets::inside : arunner::stream::LinkTargets::any);

    open_up(r.run);  // a dir may have been given mode 0: the walk must see into it
    Tally tally;
    check_root(r, r.path, tally, links_inside);
    FUZZ_CHECK(tally.bytes <= kMaxUnpacked, "no more bytes than the limit are unpacked");

    std::error_code ec;
    fs::remove_all(r.run, ec);
    FUZZ_CHECK(!ec, "remove the target dir: " + ec.message());
    return 0;
}
