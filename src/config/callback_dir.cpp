#include "config/callback_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "util/files.hpp"

namespace arunner::config {

std::string find_callback_dir() {
    if (const char* dir = std::getenv("ARUNNER_CALLBACK_DIR"); dir != nullptr && *dir != '\0') {
        return dir;
    }
    std::vector<std::filesystem::path> candidates;
    std::filesystem::path exe_dir = util::executable_dir();
    if (!exe_dir.empty()) {
        candidates.push_back(exe_dir / "callback");                // build tree: build/arunner
        candidates.push_back(exe_dir.parent_path() / "callback");  // build/examples/…
        candidates.push_back(exe_dir.parent_path() / "share" / "arunner" /
                             "callback");  // installed
    }
    candidates.emplace_back(ARUNNER_INSTALLED_CALLBACK_DIR);  // programs linking the library
    candidates.emplace_back(ARUNNER_SOURCE_CALLBACK_DIR);     // ... or built from the source tree
    std::error_code ec;
    for (const auto& candidate : candidates) {
        if (std::filesystem::exists(candidate / "awx_display.py", ec)) {
            return candidate.lexically_normal().string();
        }
    }
    return {};
}

}  // namespace arunner::config
