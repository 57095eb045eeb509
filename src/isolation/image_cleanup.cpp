#include "isolation/image_cleanup.hpp"

#include <set>

namespace arunner::isolation {
namespace {

struct Reference {
    std::string repository;
    std::string tag;  ///< empty: none given
};

/// "host:port/a/b:tag" -> {"host:port/a/b", "tag"}; a digest ("@sha256:…") stays in the name.
Reference split_reference(const std::string& text) {
    const size_t slash = text.rfind('/');
    const size_t colon = text.rfind(':');
    if (colon != std::string::npos && (slash == std::string::npos || colon > slash) &&
        text.find('@') == std::string::npos) {
        return {text.substr(0, colon), text.substr(colon + 1)};
    }
    return {text, {}};
}

/// The names a short repository name stands for on podman and docker.
bool same_repository(const std::string& listed, const std::string& wanted) {
    if (listed == wanted) {
        return true;
    }
    for (const char* registry : {"localhost/", "docker.io/library/", "docker.io/"}) {
        if (listed == registry + wanted) {
            return true;
        }
    }
    return false;
}

}  // namespace

bool image_tag_matches(const std::string& tag, const std::string& image) {
    const Reference listed = split_reference(tag);
    const Reference wanted = split_reference(image);
    // podman lists an untagged image as "<none>:<none>": no tag to remove.
    if (listed.tag.empty() || listed.tag == "<none>" || listed.repository == "<none>" ||
        !same_repository(listed.repository, wanted.repository)) {
        return false;
    }
    return wanted.tag.empty() || wanted.tag == listed.tag;
}

Result<int> remove_images(engine::ContainerEngine& engine, const std::vector<std::string>& images) {
    ARUNNER_ASSIGN_OR_RETURN(auto local, engine.list_images());
    // Each tag once, in the order the images were named.
    std::vector<std::string> tags;
    std::set<std::string> seen;
    for (const std::string& image : images) {
        for (const engine::ImageInfo& info : local) {
            for (const std::string& tag : info.tags) {
                if (image_tag_matches(tag, image) && seen.insert(tag).second) {
                    tags.push_back(tag);
                }
            }
        }
    }
    int untagged = 0;
    for (const std::string& tag : tags) {
        if (auto done = engine.untag_image(tag); !done) {
            return Error{"untagging image " + tag + ": " + done.error().message};
        }
        ++untagged;
    }
    return untagged;
}

Result<bool> prune_images(engine::ContainerEngine& engine) {
    ARUNNER_ASSIGN_OR_RETURN(auto report, engine.prune_images());
    return !report.deleted.empty() || report.space_reclaimed > 0;
}

}  // namespace arunner::isolation
