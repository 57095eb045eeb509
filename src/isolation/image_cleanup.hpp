#pragma once
// `arunner worker cleanup --remove-images / --image-prune` through the engine's REST API
// (docs/worker-cleanup.md): each tag of a named image is untagged, never force-removed, so an
// image a container still uses stays and the container keeps running (ansible-runner 2.3.1's
// `rmi -f` does the same on docker; on podman it would remove the container with it).

#include <string>
#include <vector>

#include "arunner/error.hpp"
#include "engine/container_engine.hpp"

namespace arunner::isolation {

/// Whether the local tag `tag` ("repo:tag", as the engine lists it) is one that
/// `<engine> images IMAGE` would list for `image`: the same repository and, when `image` names
/// a tag, the same tag. A repository given without its registry matches under "localhost/" and
/// "docker.io/library/" too, as the engines' short names do.
bool image_tag_matches(const std::string& tag, const std::string& image);

/// Untags every local tag that matches one of `images`; returns how many it untagged (the
/// count of ansible-runner's "Untagged:" lines). An engine error is an Error naming the call.
Result<int> remove_images(engine::ContainerEngine& engine, const std::vector<std::string>& images);

/// Removes dangling images; true when the engine removed or reclaimed anything.
Result<bool> prune_images(engine::ContainerEngine& engine);

}  // namespace arunner::isolation
