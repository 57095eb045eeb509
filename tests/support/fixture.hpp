#pragma once
// A private data dir copied from tests/fixtures into a fresh temp dir, so runs can write their
// artifacts without touching the source tree.

#include <filesystem>
#include <string>

#include "support/temp_dir.hpp"

namespace arunner::testing {

/// Copies tests/fixtures/<name> into `into`/<name> and returns that path.
inline std::filesystem::path copy_fixture(const std::string& name, const TempDir& into) {
    std::filesystem::path target = into / name;
    std::filesystem::copy(std::filesystem::path(ARUNNER_FIXTURES) / name, target,
                          std::filesystem::copy_options::recursive);
    return target;
}

}  // namespace arunner::testing
