#pragma once
// A directory under $TMPDIR (or /tmp) that is removed with everything in it when the test ends.

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace arunner::testing {

class TempDir {
  public:
    TempDir() {
        std::string base = std::filesystem::temp_directory_path() / "arunner-test-XXXXXX";
        char* made = ::mkdtemp(base.data());
        path_ = made ? std::filesystem::path(made) : std::filesystem::path();
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  private:
    std::filesystem::path path_;
};

}  // namespace arunner::testing
