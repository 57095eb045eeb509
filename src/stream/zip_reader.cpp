#include "stream/zip_reader.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "util/files.hpp"
#include "util/unique_fd.hpp"
#include "util/utf8_locale.hpp"

namespace arunner::stream {
namespace {

namespace fs = std::filesystem;

constexpr size_t kChunk = 1 << 20;   // bytes decompressed per archive_read_data()
constexpr mode_t kModeMask = 01777;  // stored modes lose setuid/setgid

struct ArchiveFree {
    void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

std::string libarchive_reason(archive* a) {
    const char* reason = archive_error_string(a);
    return reason != nullptr ? reason : "unknown libarchive error";
}

Result<ArchivePtr> open_zip(const fs::path& zip_file) {
    ArchivePtr a(archive_read_new());
    if (!a) {
        return Error{"cannot read zip " + zip_file.string() + ": archive_read_new failed"};
    }
    if (archive_read_support_format_zip_seekable(a.get()) != ARCHIVE_OK ||
        archive_read_open_filename(a.get(), zip_file.c_str(), size_t{64} * 1024) != ARCHIVE_OK) {
        return Error{"cannot read zip " + zip_file.string() + ": " + libarchive_reason(a.get())};
    }
    return a;
}

// Reads the next entry header; nullptr at the end of the archive.
Result<archive_entry*> next_entry(archive* a, const fs::path& zip_file) {
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(a, &entry);
    if (r == ARCHIVE_EOF) {
        return static_cast<archive_entry*>(nullptr);
    }
    if (r < ARCHIVE_WARN) {
        return Error{"cannot read zip " + zip_file.string() + ": " + libarchive_reason(a)};
    }
    return entry;
}

// The entry's name; an Error when libarchive could not give one.
Result<std::string> entry_name(archive_entry* entry, const fs::path& zip_file) {
    const char* name = archive_entry_pathname(entry);
    if (name == nullptr) {
        name = archive_entry_pathname_utf8(entry);
    }
    if (name == nullptr) {
        return Error{"cannot read zip " + zip_file.string() + ": an entry has no usable name"};
    }
    return std::string(name);
}

// The entry's path components ("." and empty ones dropped); absolute paths and `..` refused.
Result<std::vector<std::string>> entry_components(const std::string& name,
                                                  const fs::path& zip_file) {
    if (!name.empty() && name.front() == '/') {
        return Error{"refusing zip entry '" + name + "' in " + zip_file.string() +
                     ": absolute path"};
    }
    std::vector<std::string> components;
    size_t start = 0;
    while (start <= name.size()) {
        size_t slash = std::min(name.find('/', start), name.size());
        std::string part = name.substr(start, slash - start);
        if (part == "..") {
            return Error{"refusing zip entry '" + name + "' in " + zip_file.string() +
                         ": '..' in the path"};
        }
        if (!part.empty() && part != ".") {
            components.push_back(std::move(part));
        }
        start = slash + 1;
    }
    return components;
}

bool is_within(const std::string& path, const std::string& root) {
    return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                            (root.back() == '/' || path[root.size()] == '/'));
}

Result<std::string> real_path(const fs::path& path) {
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) == nullptr) {
        return util::errno_error("cannot resolve", path, errno);
    }
    return std::string(resolved);
}

// libarchive does not recognise a zip with no entries (just the 22-byte end record, plus an
// optional comment), which Python's zipfile writes for an empty dir.
bool is_empty_zip(const fs::path& zip_file, uint64_t zip_size) {
    if (zip_size < 22 || zip_size > 22 + 0xFFFF) {
        return false;
    }
    auto content = util::read_file(zip_file);
    if (!content.ok() || content->size() != zip_size) {
        return false;
    }
    const std::string& z = *content;
    auto le16 = [&](size_t at) {
        return static_cast<size_t>(static_cast<unsigned char>(z[at]) |
                                   static_cast<unsigned char>(z[at + 1]) << 8);
    };
    return z.compare(0, 4, "PK\x05\x06") == 0 && le16(8) == 0 && le16(10) == 0 &&
           22 + le16(20) == z.size();
}

std::string format_ratio(double ratio) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", ratio);
    return text;
}

// First pass: names and declared sizes, before anything is written.
Status check_archive(const fs::path& zip_file, uint64_t zip_size, const ExtractLimits& limits) {
    ARUNNER_ASSIGN_OR_RETURN(auto a, open_zip(zip_file));
    uint64_t declared = 0;
    for (;;) {
        ARUNNER_ASSIGN_OR_RETURN(archive_entry * entry, next_entry(a.get(), zip_file));
        if (entry == nullptr) {
            break;
        }
        ARUNNER_ASSIGN_OR_RETURN(std::string name, entry_name(entry, zip_file));
        ARUNNER_TRY(entry_components(name, zip_file));  // refuses absolute paths and `..`
        if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0) {
            declared += static_cast<uint64_t>(archive_entry_size(entry));
        }
    }
    if (declared > limits.max_unpacked_bytes) {
        return Error{"refusing zip " + zip_file.string() + ": it unpacks to " +
                     std::to_string(declared) + " bytes, more than the limit of " +
                     std::to_string(limits.max_unpacked_bytes)};
    }
    if (declared > limits.ratio_floor_bytes &&
        static_cast<double>(declared) > limits.max_ratio * static_cast<double>(zip_size)) {
        return Error{"refusing zip " + zip_file.string() + ": it unpacks to " +
                     std::to_string(declared) + " bytes, more than " +
                     format_ratio(limits.max_ratio) + " times its " + std::to_string(zip_size) +
                     " bytes"};
    }
    return {};
}

struct DeferredDir {
    fs::path path;
    mode_t mode;
    bool has_mtime;
    timespec mtime;
};

// Second pass: one entry at a time, in archive order.
class Extractor {
  public:
    Extractor(archive* a, fs::path zip_file, std::string root, uint64_t budget, LinkTargets links)
        : a_(a),
          zip_file_(std::move(zip_file)),
          root_(std::move(root)),
          budget_(budget),
          links_(links),
          buffer_(kChunk) {}

    Status extract(archive_entry* entry) {
        ARUNNER_ASSIGN_OR_RETURN(const std::string name, entry_name(entry, zip_file_));
        ARUNNER_ASSIGN_OR_RETURN(auto components, entry_components(name, zip_file_));
        if (components.empty()) {
            return {};  // the target dir itself
        }
        std::string last = components.back();
        components.pop_back();
        ARUNNER_ASSIGN_OR_RETURN(const std::string parent, resolve_parent(components, name));
        fs::path path = fs::path(parent) / last;
        mode_t type = archive_entry_filetype(entry);
        ARUNNER_ASSIGN_OR_RETURN(bool proceed, clear_the_way(path, type, name));
        if (!proceed) {
            return {};
        }
        timespec mtime{archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)};
        bool has_mtime = archive_entry_mtime_is_set(entry) != 0;
        if (type == AE_IFDIR) {
            if (::mkdir(path.c_str(), 0700) != 0) {
                return util::errno_error("cannot create directory", path, errno);
            }
            dirs_.push_back({path, archive_entry_perm(entry) & kModeMask, has_mtime, mtime});
            return {};
        }
        if (type == AE_IFLNK) {
            if (links_ == LinkTargets::inside) {
                ARUNNER_TRY(check_link_target(entry, parent, name));
            }
            return make_symlink(entry, path, name, has_mtime, mtime);
        }
        return write_file(entry, path, name, has_mtime, mtime);
    }

    // Gives each extracted directory its stored mode and mtime, now that it is filled.
    Status finish_directories() {
        for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
            if (it->has_mtime) {
                timespec times[2] = {it->mtime, it->mtime};
                if (::utimensat(AT_FDCWD, it->path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
                    return util::errno_error("cannot set the mtime of", it->path, errno);
                }
            }
            if (::chmod(it->path.c_str(), it->mode) != 0) {
                return util::errno_error("cannot chmod", it->path, errno);
            }
        }
        return {};
    }

  private:
    Error refuse(const std::string& name, const std::string& why) const {
        return Error{"refusing zip entry '" + name + "' in " + zip_file_.string() + ": " + why};
    }

    // Walks the parent components under root_, creating missing directories, and returns the
    // real path of the parent. A symlink on the way must resolve to a directory inside root_.
    Result<std::string> resolve_parent(const std::vector<std::string>& components,
                                       const std::string& name) {
        std::string current = root_;
        for (const std::string& part : components) {
            std::string next = current;
            if (next != "/") {
                next += '/';
            }
            next += part;
            struct stat st {};
            if (::lstat(next.c_str(), &st) != 0) {
                if (errno != ENOENT) {
                    return util::errno_error("cannot lstat", next, errno);
                }
                if (::mkdir(next.c_str(), 0777) != 0) {
                    return util::errno_error("cannot create directory", next, errno);
                }
                current = std::move(next);
                continue;
            }
            if (S_ISLNK(st.st_mode)) {
                auto resolved = real_path(next);
                if (!resolved.ok()) {
                    return refuse(name, "its path goes through the symlink " + next +
                                            ", which does not resolve");
                }
                if (!is_within(*resolved, root_)) {
                    return refuse(name, "its path goes through the symlink " + next +
                                            ", which leads outside " + root_);
                }
                if (::stat(resolved->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
                    return refuse(name, next + " is not a directory");
                }
                current = std::move(*resolved);
                continue;
            }
            if (!S_ISDIR(st.st_mode)) {
                return refuse(name, next + " is not a directory");
            }
            current = std::move(next);
        }
        return current;
    }

    // LinkTargets::inside: the target is relative, climbs with leading `..` no higher than the
    // target dir from `parent` (a real path under root_), and has no `..` after a named
    // component: such a component may be a link, and `link/..` is the link target's parent.
    Status check_link_target(archive_entry* entry, const std::string& parent,
                             const std::string& name) const {
        const char* target = archive_entry_symlink(entry);
        if (target == nullptr || *target == '\0') {
            return {};  // refused by make_symlink()
        }
        std::string_view t = target;
        if (t.front() == '/') {
            return refuse(name, "symlink to the absolute path '" + std::string(t) + "'");
        }
        size_t depth = 0;  // components of `parent` below root_
        for (size_t i = root_.size(); i < parent.size(); ++i) {
            if (parent[i] == '/' && i + 1 < parent.size()) {
                ++depth;
            }
        }
        if (root_ == "/" && parent.size() > 1) {
            ++depth;
        }
        bool named = false;
        size_t start = 0;
        while (start <= t.size()) {
            size_t slash = std::min(t.find('/', start), t.size());
            std::string_view part = t.substr(start, slash - start);
            if (part == "..") {
                if (named || depth == 0) {
                    return refuse(name, "symlink to '" + std::string(t) +
                                            "', which leads outside the artifact dir");
                }
                --depth;
            } else if (!part.empty() && part != ".") {
                named = true;
            }
            start = slash + 1;
        }
        return {};
    }

    // The unzip rules (docs/stream.md) for whatever is at `path`: true to go on and extract.
    Result<bool> clear_the_way(const fs::path& path, mode_t type, const std::string& name) {
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0) {
            if (errno == ENOENT) {
                return true;
            }
            return util::errno_error("cannot lstat", path, errno);
        }
        if (type == AE_IFLNK) {
            if (S_ISDIR(st.st_mode)) {
                return refuse(name, "a directory is in the way of the symlink");
            }
            return remove(path);
        }
        struct stat target = st;
        if (S_ISLNK(st.st_mode) && ::stat(path.c_str(), &target) != 0) {
            target = st;  // dangling: replaced below
        }
        if (S_ISFIFO(target.st_mode)) {
            ARUNNER_TRY(remove(path));
            return false;
        }
        if (S_ISDIR(target.st_mode)) {
            return false;
        }
        if (type == AE_IFDIR) {
            return refuse(name, "a file is in the way of the directory");
        }
        return remove(path);  // a file or symlink is replaced, never written through
    }

    static Result<bool> remove(const fs::path& path) {
        if (::unlink(path.c_str()) != 0) {
            return util::errno_error("cannot remove", path, errno);
        }
        return true;
    }

    Status count(size_t n, const std::string& name) {
        real_total_ += n;
        if (real_total_ > budget_) {
            return refuse(name, "the archive unpacks to more than its limit of " +
                                    std::to_string(budget_) + " bytes");
        }
        return {};
    }

    Status make_symlink(archive_entry* entry, const fs::path& path, const std::string& name,
                        bool has_mtime, const timespec& mtime) {
        const char* target = archive_entry_symlink(entry);
        if (target == nullptr || *target == '\0') {
            return refuse(name, "symlink entry without a target");
        }
        ARUNNER_TRY(count(std::strlen(target), name));
        if (::symlink(target, path.c_str()) != 0) {
            return util::errno_error("cannot create symlink", path, errno);
        }
        if (has_mtime) {
            timespec times[2] = {mtime, mtime};
            ::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW);
        }
        return {};
    }

    Status write_file(archive_entry* entry, const fs::path& path, const std::string& name,
                      bool has_mtime, const timespec& mtime) {
        util::UniqueFd fd(
            ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!fd.valid()) {
            return util::errno_error("cannot create", path, errno);
        }
        bool sized = archive_entry_size_is_set(entry) != 0;
        auto declared = static_cast<uint64_t>(std::max<la_int64_t>(archive_entry_size(entry), 0));
        uint64_t written = 0;
        for (;;) {
            la_ssize_t n = archive_read_data(a_, buffer_.data(), buffer_.size());
            if (n == 0) {
                break;
            }
            if (n < 0) {
                return Error{"cannot unpack zip entry '" + name + "' from " + zip_file_.string() +
                             ": " + libarchive_reason(a_)};
            }
            written += static_cast<uint64_t>(n);
            if (sized && written > declared) {
                return refuse(
                    name, "it holds more than its declared " + std::to_string(declared) + " bytes");
            }
            ARUNNER_TRY(count(static_cast<size_t>(n), name));
            if (!util::write_all(fd.get(),
                                 std::string_view(buffer_.data(), static_cast<size_t>(n)))) {
                return util::errno_error("cannot write", path, errno);
            }
        }
        if (::fchmod(fd.get(), archive_entry_perm(entry) & kModeMask) != 0) {
            return util::errno_error("cannot chmod", path, errno);
        }
        if (has_mtime) {
            timespec times[2] = {mtime, mtime};
            if (::futimens(fd.get(), times) != 0) {
                return util::errno_error("cannot set the mtime of", path, errno);
            }
        }
        if (::close(fd.release()) != 0) {
            return util::errno_error("cannot write", path, errno);
        }
        return {};
    }

    archive* a_;
    fs::path zip_file_;
    std::string root_;
    uint64_t budget_;
    LinkTargets links_;
    uint64_t real_total_ = 0;
    std::vector<char> buffer_;
    std::vector<DeferredDir> dirs_;
};

}  // namespace

Status extract_zip(const std::filesystem::path& zip_file, const std::filesystem::path& target_dir,
                   const ExtractLimits& limits, LinkTargets links) {
    util::Utf8LocaleScope locale;
    struct stat zst {};
    if (::stat(zip_file.c_str(), &zst) != 0) {
        return util::errno_error("cannot read zip", zip_file, errno);
    }
    auto zip_size = static_cast<uint64_t>(zst.st_size);
    bool empty = is_empty_zip(zip_file, zip_size);
    if (!empty) {
        ARUNNER_TRY(check_archive(zip_file, zip_size, limits));
    }

    std::error_code ec;
    fs::create_directories(target_dir, ec);
    if (ec) {
        return util::errno_error("cannot create directory", target_dir, ec.value());
    }
    ARUNNER_ASSIGN_OR_RETURN(const std::string root, real_path(target_dir));
    if (empty) {
        return {};
    }
    double ratio_budget = std::max(std::floor(limits.max_ratio * static_cast<double>(zip_size)),
                                   static_cast<double>(limits.ratio_floor_bytes));
    uint64_t budget = limits.max_unpacked_bytes;
    if (ratio_budget < static_cast<double>(budget)) {
        budget = static_cast<uint64_t>(std::max(ratio_budget, 0.0));
    }

    ARUNNER_ASSIGN_OR_RETURN(auto a, open_zip(zip_file));
    Extractor extractor(a.get(), zip_file, root, budget, links);
    for (;;) {
        ARUNNER_ASSIGN_OR_RETURN(archive_entry * entry, next_entry(a.get(), zip_file));
        if (entry == nullptr) {
            break;
        }
        ARUNNER_TRY(extractor.extract(entry));
    }
    return extractor.finish_directories();
}

}  // namespace arunner::stream
