#include "stream/zip_writer.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <locale.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "util/files.hpp"
#include "util/text.hpp"
#include "util/unique_fd.hpp"
#include "util/utf8_locale.hpp"

namespace arunner::stream {
namespace {

namespace fs = std::filesystem;

constexpr size_t kChunk = 1 << 20;             // bytes read from a file per read()
constexpr size_t kSample = size_t{64} * 1024;  // bytes judged for compressibility
constexpr size_t kAlwaysDeflate = 4096;        // smaller files are deflated without judging
constexpr double kStoreAboveBitsPerByte = 7.5;
constexpr int kBytesPerBlock = 256 * 1024;  // libarchive's output buffer

struct ArchiveFree {
    void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryFree {
    void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;
using EntryPtr = std::unique_ptr<archive_entry, EntryFree>;

// Where libarchive's output goes, and the first write error (errno) if any.
struct Output {
    int fd = -1;
    int error = 0;
};

la_ssize_t write_output(archive* a, void* client, const void* buffer, size_t length) {
    auto* out = static_cast<Output*>(client);
    if (!util::write_all(out->fd, std::string_view(static_cast<const char*>(buffer), length))) {
        out->error = errno;
        archive_set_error(a, errno, "cannot write the zip to fd %d", out->fd);
        return -1;
    }
    return static_cast<la_ssize_t>(length);
}

// Order-0 entropy of the sample in bits per byte: about 8 for random or already compressed data,
// 4-6 for text and most binaries.
bool looks_incompressible(const unsigned char* data, size_t n) {
    if (n < kAlwaysDeflate) {
        return false;
    }
    uint32_t counts[4][256] = {};
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        ++counts[0][data[i]];
        ++counts[1][data[i + 1]];
        ++counts[2][data[i + 2]];
        ++counts[3][data[i + 3]];
    }
    for (; i < n; ++i) {
        ++counts[0][data[i]];
    }
    double bits = 0;
    for (size_t b = 0; b < 256; ++b) {
        uint32_t c = counts[0][b] + counts[1][b] + counts[2][b] + counts[3][b];
        if (c != 0) {
            double p = static_cast<double>(c) / static_cast<double>(n);
            bits -= p * std::log2(p);
        }
    }
    return bits > kStoreAboveBitsPerByte;
}

// DOS timestamps start at 1980-01-01 00:00:00 local time.
time_t earliest_dos_time() {
    struct tm start {};
    start.tm_year = 80;
    start.tm_mday = 1;
    start.tm_isdst = -1;
    return ::mktime(&start);
}

// Reads up to `want` bytes, retrying short reads; returns the count (less only at EOF).
Result<size_t> read_up_to(int fd, unsigned char* buffer, size_t want, const fs::path& path) {
    size_t got = 0;
    while (got < want) {
        ssize_t n = ::read(fd, buffer + got, want - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return util::errno_error("cannot read", path, errno);
        }
        if (n == 0) {
            break;
        }
        got += static_cast<size_t>(n);
    }
    return got;
}

struct Child {
    std::string name;
    struct stat st {};
};

class ZipWalker {
  public:
    ZipWalker(archive* a, const Output& output, fs::path root, int root_fd)
        : a_(a),
          output_(output),
          root_(std::move(root)),
          root_fd_(root_fd),
          earliest_(earliest_dos_time()),
          buffer_(kChunk) {}

    // Adds the entries of one directory (relative path `rel`, "" for the root) and returns the
    // subdirectories to descend into, in order.
    Result<std::vector<std::string>> add_directory(const std::string& rel) {
        fs::path dir = rel.empty() ? root_ : root_ / rel;
        ARUNNER_ASSIGN_OR_RETURN(auto fd, open_below_root(rel, dir));
        std::vector<Child> files;
        std::vector<Child> dirs;
        ARUNNER_TRY(list(fd.get(), dir, files, dirs));
        std::vector<std::string> descend;
        for (auto* group : {&files, &dirs}) {
            std::sort(group->begin(), group->end(),
                      [](const Child& l, const Child& r) { return l.name < r.name; });
            for (const Child& child : *group) {
                std::string child_rel = rel.empty() ? child.name : rel + "/" + child.name;
                ARUNNER_TRY(add(fd.get(), child.name, dir / child.name, child_rel, child.st));
                if (S_ISDIR(child.st.st_mode)) {
                    descend.push_back(child_rel);
                }
            }
        }
        return descend;
    }

  private:
    // Opens `rel` one component at a time from the root's fd, following no symlink: a
    // directory swapped for a link during the walk is an error, never a way out of the root.
    Result<util::UniqueFd> open_below_root(const std::string& rel, const fs::path& dir) const {
        util::UniqueFd fd(::fcntl(root_fd_, F_DUPFD_CLOEXEC, 0));
        size_t start = 0;
        while (fd.valid() && start < rel.size()) {
            size_t slash = std::min(rel.find('/', start), rel.size());
            std::string part = rel.substr(start, slash - start);
            fd.reset(
                ::openat(fd.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            start = slash + 1;
        }
        if (!fd.valid()) {
            return util::errno_error("cannot open directory", dir, errno);
        }
        return fd;
    }

    // Splits a directory's entries the way os.walk does: directories and symlinks to
    // directories in `dirs`, the rest in `files`. FIFOs, sockets and devices are left out.
    Status list(int dir_fd, const fs::path& dir, std::vector<Child>& files,
                std::vector<Child>& dirs) {
        util::UniqueFd fd(::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0));
        DIR* stream = fd.valid() ? ::fdopendir(fd.get()) : nullptr;
        if (stream == nullptr) {
            return util::errno_error("cannot list (fdopendir)", dir, errno);
        }
        fd.release();
        std::unique_ptr<DIR, int (*)(DIR*)> closer(stream, ::closedir);
        for (;;) {
            errno = 0;
            dirent* ent = ::readdir(stream);
            if (ent == nullptr) {
                if (errno != 0) {
                    return util::errno_error("cannot list (readdir)", dir, errno);
                }
                break;
            }
            if (std::strcmp(ent->d_name, ".") == 0 || std::strcmp(ent->d_name, "..") == 0) {
                continue;
            }
            Child child{ent->d_name, {}};
            if (::fstatat(::dirfd(stream), ent->d_name, &child.st, AT_SYMLINK_NOFOLLOW) != 0) {
                if (errno == ENOENT) {
                    continue;  // removed while we walk
                }
                return util::errno_error("cannot lstat", dir / child.name, errno);
            }
            mode_t type = child.st.st_mode & S_IFMT;
            if (type == S_IFDIR) {
                dirs.push_back(std::move(child));
            } else if (type == S_IFLNK) {
                struct stat target {};
                bool to_dir = ::fstatat(::dirfd(stream), ent->d_name, &target, 0) == 0 &&
                              S_ISDIR(target.st_mode);
                (to_dir ? dirs : files).push_back(std::move(child));
            } else if (type == S_IFREG) {
                files.push_back(std::move(child));
            }
        }
        return {};
    }

    Status add(int dir_fd, const std::string& name, const fs::path& path, const std::string& rel,
               const struct stat& st) {
        // Zip names are UTF-8 for both workers (Python's zipfile cannot even read such a name
        // off the disk: ansible-runner's transmit fails on it up front), so refuse it here.
        if (!util::is_valid_utf8(rel)) {
            return Error{"cannot send " + util::printable(path.string()) +
                         ": its name is not valid UTF-8, which a zip for a worker cannot carry"};
        }
        EntryPtr entry(archive_entry_new());
        archive_entry_set_pathname(entry.get(), rel.c_str());
        archive_entry_set_mode(entry.get(), st.st_mode);
        archive_entry_set_mtime(entry.get(), clamp_mtime(st.st_mtime), 0);
        if (S_ISLNK(st.st_mode)) {
            ARUNNER_TRY(set_link_target(entry.get(), dir_fd, name, path, st));
            return write_header(entry.get(), path);
        }
        if (S_ISDIR(st.st_mode)) {
            return write_header(entry.get(), path);
        }
        return add_file(entry.get(), dir_fd, name, path);
    }

    Status set_link_target(archive_entry* entry, int dir_fd, const std::string& name,
                           const fs::path& path, const struct stat& st) {
        std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size + 1 : PATH_MAX), '\0');
        for (;;) {
            ssize_t n = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
            if (n < 0) {
                return util::errno_error("cannot readlink", path, errno);
            }
            if (static_cast<size_t>(n) < target.size()) {
                target.resize(static_cast<size_t>(n));
                break;
            }
            target.resize(target.size() * 2);  // grew since lstat
        }
        archive_entry_set_symlink(entry, target.c_str());
        return {};
    }

    Status add_file(archive_entry* entry, int dir_fd, const std::string& name,
                    const fs::path& path) {
        // O_NONBLOCK: if the file was swapped for a FIFO since lstat, open must not hang.
        util::UniqueFd fd(
            ::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
        if (!fd.valid() && errno == ENOENT) {
            return {};  // removed while we walk
        }
        if (!fd.valid()) {
            return util::errno_error("cannot open", path, errno);
        }
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0) {
            return util::errno_error("cannot fstat", path, errno);
        }
        if (!S_ISREG(st.st_mode)) {
            return {};  // replaced by something that is not a file: skipped like a FIFO
        }
        ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
        auto size = static_cast<uint64_t>(st.st_size);
        archive_entry_set_mode(entry, st.st_mode);
        archive_entry_set_mtime(entry, clamp_mtime(st.st_mtime), 0);
        archive_entry_set_size(entry, static_cast<la_int64_t>(size));

        unsigned char* buffer = buffer_.data();
        ARUNNER_ASSIGN_OR_RETURN(
            size_t sample, read_up_to(fd.get(), buffer, std::min<uint64_t>(size, kSample), path));
        bool store = size == 0 || looks_incompressible(buffer, sample);
        // Unlike the "zip:compression" option (only settable before the archive is opened),
        // these two may be called between entries.
        int set = store ? archive_write_zip_set_compression_store(a_)
                        : archive_write_zip_set_compression_deflate(a_);
        if (set != ARCHIVE_OK) {
            return archive_error("archive_write_zip_set_compression", path);
        }
        ARUNNER_TRY(write_header(entry, path));

        uint64_t written = 0;
        size_t have = sample;
        while (written < size) {
            if (have == 0) {
                // The file shrank since fstat: pad with zeros so the entry matches its header.
                size_t pad = static_cast<size_t>(std::min<uint64_t>(size - written, kChunk));
                std::memset(buffer, 0, pad);
                have = pad;
            }
            ARUNNER_TRY(write_data(buffer, have, path));
            written += have;
            if (written < size) {
                size_t want = static_cast<size_t>(std::min<uint64_t>(size - written, kChunk));
                ARUNNER_ASSIGN_OR_RETURN(have, read_up_to(fd.get(), buffer, want, path));
            }
        }
        return {};
    }

    Status write_header(archive_entry* entry, const fs::path& path) {
        if (archive_write_header(a_, entry) < ARCHIVE_WARN) {
            return archive_error("archive_write_header", path);
        }
        return {};
    }

    Status write_data(const unsigned char* data, size_t n, const fs::path& path) {
        la_ssize_t done = archive_write_data(a_, data, n);
        if (done < 0) {
            return archive_error("archive_write_data", path);
        }
        return {};
    }

    Error archive_error(const char* call, const fs::path& path) const {
        std::string reason = output_.error != 0         ? std::strerror(output_.error)
                             : archive_error_string(a_) ? archive_error_string(a_)
                                                        : "unknown libarchive error";
        return Error{"cannot zip " + path.string() + ": " + call + ": " + reason};
    }

    // Clamped so that the DOS time and libarchive's 32-bit UT field both hold it: the same
    // 1980-01-01 floor as Python's zipfile with strict_timestamps=False.
    time_t clamp_mtime(time_t mtime) const {
        return std::clamp<time_t>(mtime, earliest_, INT32_MAX);
    }

    archive* a_;
    const Output& output_;
    fs::path root_;
    int root_fd_;  // owned by write_zip()
    time_t earliest_;
    std::vector<unsigned char> buffer_;
};

Error setup_error(archive* a, const char* call) {
    const char* reason = archive_error_string(a);
    return Error{std::string("cannot create zip: ") + call + ": " +
                 (reason ? reason : "unknown libarchive error")};
}

}  // namespace

Status write_zip(const std::filesystem::path& source_dir, int out_fd, ZipRoot root) {
    util::Utf8LocaleScope locale;
    ArchivePtr owner(archive_write_new());
    archive* a = owner.get();
    if (a == nullptr) {
        return Error{"cannot create zip: archive_write_new failed"};
    }
    if (archive_write_set_format_zip(a) != ARCHIVE_OK) {
        return setup_error(a, "archive_write_set_format_zip");
    }
    if (archive_write_set_format_option(a, "zip", "compression-level", "1") != ARCHIVE_OK) {
        return setup_error(a, "archive_write_set_format_option(compression-level)");
    }
    if (archive_write_set_bytes_per_block(a, kBytesPerBlock) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK) {
        return setup_error(a, "archive_write_set_bytes_per_block");
    }
    Output output{out_fd, 0};
    if (archive_write_open2(a, &output, nullptr, write_output, nullptr, nullptr) != ARCHIVE_OK) {
        return setup_error(a, "archive_write_open2");
    }
    if (!source_dir.empty()) {
        util::UniqueFd root_fd;
        if (root == ZipRoot::no_follow) {
            // The error says so when a symlink is in the way.
            ARUNNER_ASSIGN_OR_RETURN(root_fd, util::open_dir_at(AT_FDCWD, source_dir, source_dir));
        } else {
            root_fd.reset(::open(source_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            if (!root_fd.valid()) {
                return util::errno_error("cannot open directory", source_dir, errno);
            }
        }
        ZipWalker walker(a, output, source_dir, root_fd.get());
        std::vector<std::string> pending{""};  // a stack: pre-order, like os.walk top-down
        while (!pending.empty()) {
            std::string rel = std::move(pending.back());
            pending.pop_back();
            ARUNNER_ASSIGN_OR_RETURN(auto subdirs, walker.add_directory(rel));
            pending.insert(pending.end(), subdirs.rbegin(), subdirs.rend());
        }
    }
    if (archive_write_close(a) != ARCHIVE_OK) {
        if (output.error != 0) {
            return Error{"cannot write the zip to fd " + std::to_string(out_fd) + ": " +
                         std::strerror(output.error)};
        }
        return setup_error(a, "archive_write_close");
    }
    return {};
}

}  // namespace arunner::stream
