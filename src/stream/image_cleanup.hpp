#pragma once
// `arunner worker cleanup --remove-images / --image-prune`: untags images and prunes unused
// layers with the engine's command line, as ansible-runner 2.3.1 does (docs/worker-cleanup.md), so
// that the counts and messages match.

#include <cstdio>
#include <string>
#include <vector>

#include "arunner/error.hpp"

namespace arunner::stream {

/// Runs `<engine> images --format="{{.Repository}}:{{.Tag}}" IMAGE` for each image and
/// `<engine> rmi TAG -f` for each tag found; returns how many `Untagged:` lines the engine
/// printed. A failing command prints ansible-runner's "Error running command:" block to `out`
/// and is an Error.
Result<int> remove_images(const std::vector<std::string>& images, const std::string& engine,
                          std::FILE* out);

/// Runs `<engine> image prune -f`; true when it reclaimed something.
Result<bool> prune_images(const std::string& engine, std::FILE* out);

}  // namespace arunner::stream
