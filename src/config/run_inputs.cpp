#include "config/run_inputs.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "util/files.hpp"

namespace arunner::config {

namespace fs = std::filesystem;

fs::path real_path(const fs::path& path) {
    std::error_code ec;
    fs::path real = fs::canonical(path, ec);
    return ec ? fs::path() : real;
}

bool is_within(const fs::path& path, const fs::path& dir) {
    auto [d, p] = std::mismatch(dir.begin(), dir.end(), path.begin(), path.end());
    return d == dir.end();
}

std::vector<RunInput> present_run_inputs(const fs::path& pdd) {
    std::vector<RunInput> inputs;
    for (const char* name : {"env", "args", "inventory", "pid", "daemon.log"}) {
        if (fs::path real = real_path(pdd / name); !real.empty()) {
            inputs.push_back({name, std::move(real)});
        }
    }
    return inputs;
}

Status make_env_dir(const fs::path& pdd) {
    struct stat st {};
    if (::lstat((pdd / "env").c_str(), &st) == 0 || errno != ENOENT) {
        return {};  // there (what it is, reading it says)
    }
    return util::make_dirs(pdd / "env", 0700);
}

}  // namespace arunner::config
