#pragma once
// What ansible-runner's dump_artifacts writes into the private data dir from run() keywords,
// done by prepare_job: a role's generated play, a playbook given as plays, an inventory given
// as text or a mapping, and the env/ files of envvars and settings (docs/inline-inputs.md).

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "arunner/error.hpp"
#include "arunner/run_options.hpp"

namespace arunner::config {

/// ansible-runner's generated play for a role: [{"hosts": H, "roles": [{"name": R, "vars": V}],
/// "gather_facts": false}], `vars` only when given, `gather_facts` only when skipping facts.
nlohmann::ordered_json role_play(const RunOptions& options);

/// ANSIBLE_ROLES_PATH for a role run: the roles_path option, then `<pdd>/roles` unless the option
/// already names it (then once, as ansible-runner sets it).
std::string role_roles_path(const RunOptions& options, const std::filesystem::path& pdd);

/// A playbook file made for one run (a role's play), and the project dir when it was made for
/// it: removed when the run ends, as ansible-runner's CLI removes them.
struct GeneratedPlaybook {
    std::filesystem::path file;
    std::optional<std::filesystem::path> made_dir;
};

/// Writes `plays` (Python JSON) to `<project_dir>/<uuid hex>` (0600), creating the project dir
/// (0700) when missing.
Result<GeneratedPlaybook> write_generated_playbook(const nlohmann::ordered_json& plays,
                                                   const std::filesystem::path& project_dir);

/// Writes the inventory options that are values (text, mapping) under `<pdd>/inventory` and
/// resolves every inventory option to the paths passed with `-i`, in order: `inventory`, then
/// `inventories` (relative ones under `<pdd>/inventory`, else from the current directory).
/// Errors name the path that exists nowhere.
Result<std::vector<std::string>> place_inventories(const RunOptions& options,
                                                   const std::filesystem::path& pdd);

/// `plays` as ansible-runner writes them: a mapping becomes a list of one, written as Python
/// JSON to `<pdd>/project/main.json` (0600); the path is returned.
Result<std::filesystem::path> write_plays(const nlohmann::ordered_json& plays,
                                          const std::filesystem::path& pdd);

}  // namespace arunner::config
