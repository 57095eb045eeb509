#include "config/generated_inputs.hpp"

#include "util/files.hpp"
#include "util/python_json.hpp"
#include "util/uuid.hpp"

namespace arunner::config {
namespace {

namespace fs = std::filesystem;

/// Writes `text` to `dir/name` (0600), creating `dir` (0700) when missing. A file that is
/// already there is replaced (ansible-runner rewrites an inline inventory on every run).
Status write_into(const fs::path& dir, const std::string& name, const std::string& text) {
    std::error_code ec;
    if (util::path_exists(dir) && !fs::is_directory(dir, ec)) {
        return Error{dir.string() + " is not a directory, so " + name + " cannot be written in it"};
    }
    ARUNNER_TRY(util::make_dirs(dir, 0700));
    return util::write_file_atomic(dir / name, text, 0600);
}

/// Whether one entry of the `:`-separated `search_path` names `dir` (relative entries taken from
/// the current directory, as ansible-runner's CLI takes `--roles-path`; trailing slashes and
/// `.`/`..` ignored).
bool names_dir_in_path(const std::string& search_path, const fs::path& dir) {
    auto normal = [](const fs::path& p) {
        std::error_code ec;
        fs::path absolute = fs::absolute(p, ec);
        fs::path n = (ec ? p : absolute).lexically_normal();
        return n.has_filename() ? n : n.parent_path();
    };
    const fs::path wanted = normal(dir);
    std::size_t start = 0;
    while (start <= search_path.size()) {
        std::size_t end = search_path.find(':', start);
        if (end == std::string::npos) {
            end = search_path.size();
        }
        if (end > start && normal(search_path.substr(start, end - start)) == wanted) {
            return true;
        }
        start = end + 1;
    }
    return false;
}

}  // namespace

nlohmann::ordered_json role_play(const RunOptions& options) {
    nlohmann::ordered_json role = {{"name", options.role.value_or("")}};
    if (options.role_vars.is_object() && !options.role_vars.empty()) {
        role["vars"] = options.role_vars;
    }
    nlohmann::ordered_json play = nlohmann::ordered_json::object();
    play["hosts"] = options.role_hosts.value_or("all");
    play["roles"] = nlohmann::ordered_json::array({role});
    if (options.role_skip_facts) {
        play["gather_facts"] = false;
    }
    return nlohmann::ordered_json::array({play});
}

std::string role_roles_path(const RunOptions& options, const fs::path& pdd) {
    const fs::path roles = pdd / "roles";
    if (!options.roles_path || options.roles_path->empty()) {
        return roles.string();
    }
    if (names_dir_in_path(*options.roles_path, roles)) {
        return *options.roles_path;
    }
    return *options.roles_path + ":" + roles.string();
}

Result<GeneratedPlaybook> write_generated_playbook(const nlohmann::ordered_json& plays,
                                                   const fs::path& project_dir) {
    GeneratedPlaybook generated;
    if (!util::path_exists(project_dir)) {
        generated.made_dir = project_dir;
    }
    generated.file = project_dir / util::uuid_hex(util::uuid4());
    ARUNNER_TRY(write_into(project_dir, generated.file.filename().string(),
                           util::python_json_dumps(plays)));
    return generated;
}

Result<fs::path> write_plays(const nlohmann::ordered_json& plays, const fs::path& pdd) {
    nlohmann::ordered_json list =
        plays.is_object() ? nlohmann::ordered_json::array({plays}) : plays;
    if (!list.is_array() || list.empty()) {
        return Error{"playbook: plays must be a mapping or a non-empty list of mappings"};
    }
    for (const auto& play : list) {
        if (!play.is_object()) {
            return Error{"playbook: each play must be a mapping, not " +
                         std::string(play.type_name())};
        }
    }
    ARUNNER_TRY(write_into(pdd / "project", "main.json", util::python_json_dumps(list)));
    return pdd / "project" / "main.json";
}

Result<std::vector<std::string>> place_inventories(const RunOptions& options, const fs::path& pdd) {
    std::vector<std::string> paths;
    const fs::path dir = pdd / "inventory";
    if (options.inventory) {
        paths.push_back(*options.inventory);
    }
    if (options.inventory_text) {
        ARUNNER_TRY(write_into(dir, "hosts", *options.inventory_text));
        paths.push_back((dir / "hosts").string());
    }
    if (!options.inventory_mapping.is_null()) {
        if (!options.inventory_mapping.is_object()) {
            return Error{"inventory: a mapping was expected, not " +
                         std::string(options.inventory_mapping.type_name())};
        }
        ARUNNER_TRY(
            write_into(dir, "hosts.json", util::python_json_dumps(options.inventory_mapping)));
        paths.push_back((dir / "hosts.json").string());
    }
    for (const auto& given : options.inventories) {
        fs::path path = given;
        if (path.is_absolute()) {
            paths.push_back(given);
        } else if (util::path_exists(dir / path)) {
            paths.push_back((dir / path).string());
        } else if (util::path_exists(path)) {
            paths.push_back(util::absolute_path(path).string());
        } else {
            return Error{"inventory '" + given + "' is found neither under " + dir.string() +
                         " nor from the current directory"};
        }
    }
    return paths;
}

}  // namespace arunner::config
