#include "config/callback_dir.hpp"

#include <cstdlib>
#include <filesystem>

#include "util/files.hpp"

namespace arunner::config {

std::string find_callback_dir() {
    if (const char* dir = std::getenv("ARUNNER_CALLBACK_DIR"); dir != nullptr && *dir != '\0') {
        return dir;
    }
    std::filesystem::path exe_dir = util::executable_dir();
    if (exe_dir.empty()) {
        return {};
    }
    std::error_code ec;
    for (const auto& candidate :
         {exe_dir / "callback", exe_dir.parent_path() / "share" / "arunner" / "callback"}) {
        if (std::filesystem::exists(candidate / "awx_display.py", ec)) {
            return candidate.lexically_normal().string();
        }
    }
    return {};
}

}  // namespace arunner::config
