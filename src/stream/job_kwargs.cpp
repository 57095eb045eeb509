#include "stream/job_kwargs.hpp"

#include <climits>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "config/job_config.hpp"
#include "config/passwords.hpp"
#include "config/runner_settings.hpp"

#include "util/files.hpp"
#include "util/python_json.hpp"
#include "util/python_truth.hpp"
#include "util/uuid.hpp"

namespace arunner::stream {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

Json optional_text(const std::optional<std::string>& value) {
    return value ? Json(*value) : Json(nullptr);
}

Json optional_path(const std::optional<fs::path>& value) {
    return value ? Json(value->string()) : Json(nullptr);
}

/// `path` relative to `base` when it lies under it, else unchanged.
std::string relative_if_under(const std::string& path, const fs::path& base) {
    fs::path p = util::absolute_path(path);
    fs::path b = util::absolute_path(base);
    auto rel = p.lexically_relative(b);
    if (!rel.empty() && *rel.begin() != "..") {
        return rel.string();
    }
    return path;
}

/// The inventory options as one kwarg: inline text or mapping as given (the worker writes it),
/// paths relative to the private data dir when under it.
Json inventory_kwarg(const RunOptions& o, const fs::path& pdd) {
    if (!o.inventory_mapping.is_null()) {
        return o.inventory_mapping;
    }
    if (o.inventory_text) {
        return *o.inventory_text;
    }
    if (!o.inventories.empty()) {
        Json list = Json::array();
        if (o.inventory) {
            list.push_back(relative_if_under(*o.inventory, pdd));
        }
        for (const auto& path : o.inventories) {
            list.push_back(relative_if_under(path, pdd));
        }
        return list;
    }
    return o.inventory ? Json(relative_if_under(*o.inventory, pdd)) : Json(nullptr);
}

/// Reads kwargs[key] with a type check; `nullptr` and a missing key leave `out` unset.
struct Reader {
    const Json& kwargs;
    Status error;

    const Json* get(const char* key) {
        auto it = kwargs.find(key);
        if (it == kwargs.end() || it->is_null()) {
            return nullptr;
        }
        return &*it;
    }
    void fail(const char* key, const char* expected) {
        if (error) {
            error = Error{std::string("kwargs: ") + key + " must be " + expected};
        }
    }
    void text(const char* key, std::optional<std::string>& out) {
        if (const Json* v = get(key)) {
            if (v->is_string()) {
                out = v->get<std::string>();
            } else if (v->is_number()) {
                out = v->dump();
            } else {
                fail(key, "a string");
            }
        }
    }
    void flag(const char* key, bool& out) {
        if (const Json* v = get(key)) {
            if (v->is_boolean()) {
                out = v->get<bool>();
            } else {
                fail(key, "true or false");
            }
        }
    }
    void integer(const char* key, int& out) {
        if (const Json* v = get(key)) {
            // A value beyond int would wrap (4294967297 -> 1): refused, as any out of range.
            if (v->is_number_unsigned() && v->get<uint64_t>() <= INT_MAX) {
                out = static_cast<int>(v->get<uint64_t>());
            } else if (v->is_number_integer() && !v->is_number_unsigned() &&
                       v->get<int64_t>() >= INT_MIN && v->get<int64_t>() <= INT_MAX) {
                out = static_cast<int>(v->get<int64_t>());
            } else if (v->is_number_integer()) {
                fail(key, "an integer in the range of int");
            } else {
                fail(key, "an integer");
            }
        }
    }
    void words(const char* key, std::vector<std::string>& out,
               const char* expected = "a list of strings") {
        if (const Json* v = get(key)) {
            bool ok = v->is_array();
            for (size_t i = 0; ok && i < v->size(); ++i) {
                ok = (*v)[i].is_string();
            }
            if (ok) {
                out = v->get<std::vector<std::string>>();
            } else {
                fail(key, expected);
            }
        }
    }
    /// One path or a list of paths (ansible-runner's "str or list").
    void paths(const char* key, std::vector<std::string>& out) {
        if (const Json* v = get(key); v && v->is_string()) {
            out = {v->get<std::string>()};
        } else {
            words(key, out, "a path or a list of paths");
        }
    }
    void path(const char* key, std::optional<fs::path>& out) {
        std::optional<std::string> text_value;
        text(key, text_value);
        if (text_value) {
            out = *text_value;
        }
    }
    void object(const char* key, Json& out) {
        if (const Json* v = get(key)) {
            if (v->is_object()) {
                out = *v;
            } else {
                fail(key, "a mapping");
            }
        }
    }
};

/// The inventory keyword, as ansible-runner's dump_artifacts reads it: a mapping is an inline
/// inventory; a list holds paths; a string is a path when one exists (under
/// `<pdd>/inventory`, absolute, under `<pdd>` as a worker receives it, or from the current
/// directory), else inventory text. A string that looks like an absolute path and names
/// nothing is an error, not text.
void read_inventory(const Json& inventory, const fs::path& pdd, RunOptions& o, Reader& r) {
    std::error_code ec;
    if (inventory.is_object()) {
        o.inventory_mapping = inventory;
    } else if (inventory.is_array()) {
        for (const auto& item : inventory) {
            if (!item.is_string()) {
                r.fail("inventory", "a path, inventory text, a mapping or a list of paths");
                return;
            }
            o.inventories.push_back(item.get<std::string>());
        }
    } else if (inventory.is_string()) {
        const std::string text = inventory.get<std::string>();
        const fs::path path = text;
        const bool one_line = text.find('\n') == std::string::npos;
        if (text.empty()) {
            return;
        }
        // With no private data dir yet (a temporary one comes later), only the cwd counts.
        auto under = [&](const fs::path& dir) { return !pdd.empty() && fs::exists(dir, ec); };
        if (one_line && under(pdd / "inventory" / path)) {
            o.inventory = (pdd / "inventory" / path).string();
        } else if (one_line && path.is_absolute()) {
            if (!fs::exists(path, ec)) {
                r.fail("inventory", "an existing path (an absolute path that names nothing)");
                return;
            }
            o.inventory = text;
        } else if (one_line && under(pdd / path)) {
            o.inventory = (pdd / path).string();
        } else if (one_line && fs::exists(path, ec)) {
            o.inventory = util::absolute_path(path).string();
        } else {
            o.inventory_text = text;
        }
    } else {
        r.fail("inventory", "a path, inventory text, a mapping or a list of paths");
    }
}

}  // namespace

Json to_kwargs(const RunOptions& o) {
    fs::path pdd = util::absolute_path(o.private_data_dir);
    Json k = Json::object();
    k["ident"] = o.ident.empty() ? util::uuid_hex(util::uuid4()) : o.ident;
    k["binary"] = optional_text(o.binary);
    std::optional<std::string> playbook = o.playbook;
    if (playbook) {
        fs::path project = o.project_dir ? util::absolute_path(*o.project_dir) : pdd / "project";
        playbook = relative_if_under(*playbook, project);
    }
    k["playbook"] = o.plays.is_null() ? optional_text(playbook) : o.plays;
    k["module"] = optional_text(o.module);
    k["module_args"] = optional_text(o.module_args);
    k["host_pattern"] = optional_text(o.host_pattern);
    k["verbosity"] = o.verbosity > 0 ? Json(o.verbosity) : Json(nullptr);
    k["quiet"] = o.quiet;
    k["rotate_artifacts"] = o.rotate_artifacts;
    k["json_mode"] = o.json_mode;
    k["omit_event_data"] = o.omit_event_data;
    k["only_failed_event_data"] = o.only_failed_event_data;
    k["inventory"] = inventory_kwarg(o, pdd);
    k["forks"] = optional_text(o.forks);
    k["project_dir"] = optional_path(o.project_dir);
    k["artifact_dir"] = optional_path(o.artifact_dir);
    k["roles_path"] = o.roles_path ? Json::array({*o.roles_path}) : Json(nullptr);
    // As ansible-runner's CLI sends them: the isolation flags only when given, the image always
    // (its default included). The sandbox's paths are the worker machine's paths.
    k["process_isolation"] = o.process_isolation ? Json(true) : Json(nullptr);
    k["process_isolation_executable"] =
        o.process_isolation ? Json(o.process_isolation_executable) : Json(nullptr);
    k["process_isolation_path"] = optional_path(o.process_isolation_path);
    for (const auto& [key, list] :
         {std::pair{"process_isolation_hide_paths", &o.process_isolation_hide_paths},
          {"process_isolation_show_paths", &o.process_isolation_show_paths},
          {"process_isolation_ro_paths", &o.process_isolation_ro_paths}}) {
        k[key] = list->empty() ? Json(nullptr) : Json(*list);
    }
    k["container_image"] = o.container_image.empty() ? Json(nullptr) : Json(o.container_image);
    k["container_volume_mounts"] =
        o.container_volume_mounts.empty() ? Json(nullptr) : Json(o.container_volume_mounts);
    k["container_options"] =
        o.container_options.empty() ? Json(nullptr) : Json(o.container_options);
    k["directory_isolation_base_path"] = optional_path(o.directory_isolation_base_path);
    k["cmdline"] = optional_text(o.cmdline);
    k["limit"] = optional_text(o.limit);
    k["suppress_env_files"] = o.suppress_env_files;
    // Options only the library sets: sent when given, as ansible-runner's run() kwargs.
    if (!o.envvars.empty()) {
        Json env = Json::object();
        for (const auto& [name, value] : o.envvars) {
            env[name] = value;
        }
        k["envvars"] = std::move(env);
    }
    if (o.extravars.is_object() && !o.extravars.empty()) {
        k["extravars"] = o.extravars;
    }
    if (o.settings.is_object() && !o.settings.empty()) {
        k["settings"] = o.settings;
    }
    // ansible-runner's run() kwarg, sent as given: a remote worker pulls with it.
    if (o.container_auth_data) {
        const ContainerAuthData& auth = *o.container_auth_data;
        k["container_auth_data"] = Json{{"host", auth.host},
                                        {"username", auth.username},
                                        {"password", auth.password},
                                        {"verify_ssl", auth.verify_ssl}};
    }
    // ansible-runner's run() kwarg, sent as given: the worker answers the prompts.
    if (!o.passwords.empty()) {
        Json answers = Json::object();
        for (const auto& [pattern, answer] : o.passwords) {
            answers[pattern] = answer;
        }
        k["passwords"] = std::move(answers);
    }
    if (o.tags) {
        k["tags"] = *o.tags;
    }
    // A role goes as run()'s keywords: the worker generates the play (ansible-runner's worker
    // does the same in dump_artifacts), so nothing is written into the sender's directory.
    if (o.role) {
        k["role"] = *o.role;
        if (o.role_vars.is_object() && !o.role_vars.empty()) {
            k["role_vars"] = o.role_vars;
        }
        if (o.role_hosts) {
            k["hosts"] = *o.role_hosts;
        }
        if (o.role_skip_facts) {
            k["role_skip_facts"] = true;
        }
    }
    if (o.extravars_file) {
        k["extravars"] = relative_if_under(*o.extravars_file, pdd);
    }
    if (o.skip_tags) {
        k["skip_tags"] = *o.skip_tags;
    }
    if (o.timeout) {
        k["timeout"] = *o.timeout;
    }
    if (o.ssh_key) {
        k["ssh_key"] = *o.ssh_key;  // run()'s kwarg; the worker loads it (never into a file)
    }
    return k;
}

Result<RunOptions> from_kwargs(const Json& kwargs, const fs::path& private_data_dir) {
    if (!kwargs.is_object()) {
        return Error{"kwargs must be a mapping"};
    }
    RunOptions o;
    o.private_data_dir = private_data_dir;
    Reader r{kwargs, {}};
    if (const Json* ident = r.get("ident")) {
        o.ident = ident->is_string() ? ident->get<std::string>() : ident->dump();
    }
    r.text("binary", o.binary);
    if (const Json* playbook = r.get("playbook"); playbook && !playbook->is_string()) {
        if (!playbook->is_array() && !playbook->is_object()) {
            r.fail("playbook", "a path or a list of plays");
        } else {
            o.plays = *playbook;  // written to project/main.json by the run (dump_artifacts)
        }
    } else {
        r.text("playbook", o.playbook);
    }
    r.text("module", o.module);
    r.text("module_args", o.module_args);
    r.text("host_pattern", o.host_pattern);
    r.integer("verbosity", o.verbosity);
    r.flag("quiet", o.quiet);
    r.integer("rotate_artifacts", o.rotate_artifacts);
    r.flag("json_mode", o.json_mode);
    r.flag("omit_event_data", o.omit_event_data);
    r.flag("only_failed_event_data", o.only_failed_event_data);
    r.flag("suppress_env_files", o.suppress_env_files);
    if (const Json* inventory = r.get("inventory")) {
        read_inventory(*inventory, private_data_dir, o, r);
    }
    r.text("role", o.role);
    r.text("hosts", o.role_hosts);
    r.object("role_vars", o.role_vars);
    r.flag("role_skip_facts", o.role_skip_facts);
    r.text("forks", o.forks);
    r.path("project_dir", o.project_dir);
    r.path("artifact_dir", o.artifact_dir);
    if (const Json* roles = r.get("roles_path")) {
        if (roles->is_string()) {
            o.roles_path = roles->get<std::string>();
        } else if (roles->is_array()) {
            std::string joined;
            for (const auto& p : *roles) {
                if (p.is_string()) {
                    joined += (joined.empty() ? "" : ":") + p.get<std::string>();
                }
            }
            o.roles_path = joined;
        } else {
            r.fail("roles_path", "a path or a list of paths");
        }
    }
    r.text("container_workdir", o.container_workdir);
    r.text("cmdline", o.cmdline);
    r.text("limit", o.limit);
    r.text("tags", o.tags);
    r.text("skip_tags", o.skip_tags);
    r.text("ssh_key", o.ssh_key);
    if (const Json* envvars = r.get("envvars")) {
        if (!envvars->is_object()) {
            r.fail("envvars", "a mapping");
        } else {
            for (const auto& [name, value] : envvars->items()) {
                o.envvars.emplace_back(name, util::python_str(value));
            }
        }
    }
    if (const Json* extravars = r.get("extravars"); extravars && extravars->is_string()) {
        o.extravars_file = extravars->get<std::string>();
    } else {
        r.object("extravars", o.extravars);
    }
    r.object("settings", o.settings);
    if (const Json* timeout = r.get("timeout")) {
        if (timeout->is_number()) {
            o.timeout = timeout->get<double>();
        } else {
            r.fail("timeout", "a number of seconds");
        }
    }
    if (const Json* isolation = r.get("process_isolation"); isolation && !isolation->is_null()) {
        o.process_isolation = util::python_truthy(*isolation);
    }
    std::optional<std::string> text;
    r.text("process_isolation_executable", text);
    if (text) {
        o.process_isolation_executable = *text;
    }
    text.reset();
    r.text("container_image", text);
    if (text) {
        o.container_image = *text;
    }
    r.words("container_volume_mounts", o.container_volume_mounts);
    r.words("container_options", o.container_options);
    r.path("process_isolation_path", o.process_isolation_path);
    r.paths("process_isolation_hide_paths", o.process_isolation_hide_paths);
    r.paths("process_isolation_show_paths", o.process_isolation_show_paths);
    r.paths("process_isolation_ro_paths", o.process_isolation_ro_paths);
    r.path("directory_isolation_base_path", o.directory_isolation_base_path);
    if (const Json* auth = r.get("container_auth_data"); auth && !auth->is_null()) {
        auto parsed = config::parse_container_auth(*auth, "kwargs");
        if (!parsed) {
            return parsed.error();
        }
        o.container_auth_data = std::move(*parsed);
    }
    if (const Json* passwords = r.get("passwords")) {
        ARUNNER_ASSIGN_OR_RETURN(
            o.passwords, config::password_answers_from_json(*passwords, "kwargs: passwords"));
    }
    if (!r.error) {
        return r.error.error();
    }
    return o;
}

}  // namespace arunner::stream
