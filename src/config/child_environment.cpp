#include "config/child_environment.hpp"

namespace arunner::config {

util::Environment build_child_environment(const EnvironmentInputs& in) {
    util::Environment env;
    if (in.containerized) {
        if (in.podman) {
            env.set("ANSIBLE_UNSAFE_WRITES", "1");  // fuse-overlayfs xattr fallback (upstream)
        }
        env.set("AWX_ISOLATED_DATA_DIR", in.artifact_dir.string());
        env.set("ANSIBLE_CACHE_PLUGIN_CONNECTION", in.fact_cache_dir.string());
    } else {
        env = in.base;
    }
    for (const auto& [name, value] : in.envvars_option) {
        env.set(name, value);
    }
    for (const auto& [name, value] : in.envvars_file) {
        env.set(name, value);
    }
    // AWX_LIB_DIRECTORY (from the job env or ours) overrides the packaged callback dir.
    std::string callback_dir =
        in.containerized ? in.callback_dir : env.get("AWX_LIB_DIRECTORY").value_or(in.callback_dir);
    std::string plugins = env.get("ANSIBLE_CALLBACK_PLUGINS").value_or("");
    env.set("ANSIBLE_CALLBACK_PLUGINS",
            plugins.empty() ? callback_dir
                            : (callback_dir.empty() ? plugins : plugins + ":" + callback_dir));
    if (auto original = env.get("ANSIBLE_STDOUT_CALLBACK"); original && !original->empty()) {
        env.set("ORIGINAL_STDOUT_CALLBACK", *original);
    }
    if (in.ad_hoc) {
        env.set("ANSIBLE_LOAD_CALLBACK_PLUGINS", "1");
        env.set_default("AD_HOC_COMMAND_ID", "1");
    }
    env.set("ANSIBLE_STDOUT_CALLBACK", "awx_display");
    env.set("ANSIBLE_RETRY_FILES_ENABLED", "False");
    env.set_default("ANSIBLE_HOST_KEY_CHECKING", "False");
    if (!in.containerized) {
        env.set("AWX_ISOLATED_DATA_DIR", in.artifact_dir.string());
    }
    env.set("ANSIBLE_CACHE_PLUGIN", "jsonfile");
    if (!in.containerized) {
        env.set("ANSIBLE_CACHE_PLUGIN_CONNECTION", in.fact_cache_dir.string());
    }
    if (in.roles_path && !in.roles_path->empty()) {
        env.set("ANSIBLE_ROLES_PATH", *in.roles_path);
    }
    env.set("RUNNER_OMIT_EVENTS", in.omit_event_data ? "True" : "False");
    env.set("RUNNER_ONLY_FAILED_EVENTS", in.only_failed_event_data ? "True" : "False");
    // The frame secret reaches the plugin only at spawn (an fd) or container create time, never
    // through the recorded environment; a value from outside could only confuse the plugin.
    env.erase("ARUNNER_FRAME_FD");
    env.erase("ARUNNER_FRAME_SECRET");
    env.erase("ARUNNER_JOB");  // each local job's own marker, added at spawn
    return env;
}

}  // namespace arunner::config
