// The helper queries get_plugin_docs … get_role_argspec (arunner/commands.hpp): each builds its
// ansible-* command, finds the executable on PATH as ansible-runner does, runs it through
// run_command and turns its output into the response (docs/commands.md).

#include <cstdlib>

#include "arunner/commands.hpp"
#include "util/files.hpp"
#include "util/python_json.hpp"
#include "util/python_truth.hpp"

namespace arunner {
namespace {

std::string shown_command(const std::vector<std::string>& command) {
    std::string text;
    for (const auto& word : command) {
        text += (text.empty() ? "" : " ") + word;
    }
    return text;
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

Result<Json> parse_json_response(const std::string& out, const std::vector<std::string>& command,
                                 std::optional<int> rc) {
    auto fail = [&](const std::string& why) {
        std::string head = out.substr(0, 200);
        std::string rc_text = rc ? std::to_string(*rc) : std::string("none");
        return Error{shown_command(command) + ": " + why + " (rc " + rc_text +
                     "); its output began: \"" + head + "\""};
    };
    size_t start = out.find('{');
    if (start == std::string::npos) {
        return fail("the output holds no JSON object");
    }
    size_t end = out.size();
    while (end > start && is_space(out[end - 1])) {
        --end;
    }
    bool too_deep = false;
    Json parsed =
        util::parse_json_bounded(std::string_view(out).substr(start, end - start), too_deep);
    if (too_deep) {
        return fail("the output's JSON is nested more than " + std::to_string(util::kMaxJsonDepth) +
                    " levels deep");
    }
    if (parsed.is_discarded()) {
        return fail("the output is not valid JSON");
    }
    return parsed;
}

Result<Json> query_response(const std::string& out, bool parse,
                            const std::vector<std::string>& command, std::optional<int> rc) {
    if (out.empty()) {
        return Json();
    }
    if (parse) {
        return parse_json_response(out, command, rc);
    }
    return Json(out);
}

namespace {

/// Whether the query runs in a container (ansible-runner tests the process_isolation keyword;
/// the settings option can set it too). There the executable is the image's, by its bare name.
bool isolated(const RunOptions& options) {
    if (options.settings.is_object()) {
        auto it = options.settings.find("process_isolation");
        if (it != options.settings.end()) {
            return util::python_truthy(*it);
        }
    }
    return options.process_isolation;
}

Result<QueryResult> run_query(Result<std::vector<std::string>> built, RunOptions options,
                              RunCallbacks callbacks, bool parse_json) {
    if (!built) {
        return built.error();
    }
    if (!options.command.empty()) {
        return Error{"the options of a query must not set a command: the query is the command (" +
                     built->front() + ")"};
    }
    ARUNNER_ASSIGN_OR_RETURN(auto command, locate_executable(std::move(built.value()), options));
    options.command = command;
    ARUNNER_ASSIGN_OR_RETURN(auto ran, run_command(options, std::move(callbacks)));
    QueryResult result;
    ARUNNER_ASSIGN_OR_RETURN(result.response, query_response(ran.out, parse_json, command, ran.rc));
    result.err = ran.err;
    result.command = std::move(ran);
    return result;
}

}  // namespace

Result<std::vector<std::string>> locate_executable(std::vector<std::string> command,
                                                   const RunOptions& options) {
    if (command.empty()) {
        return Error{"no command to run"};
    }
    if (!isolated(options)) {
        const char* path = std::getenv("PATH");
        std::string found = util::find_executable(command.front(), path ? path : "");
        if (found.empty()) {
            return Error{command.front() + " command not found"};
        }
        command.front() = found;  // ansible-runner runs the full path shutil.which gives
    }
    return command;
}

Result<QueryResult> get_plugin_docs(const PluginDocsQuery& query, RunOptions options,
                                    RunCallbacks callbacks) {
    return run_query(plugin_docs_command(query), std::move(options), std::move(callbacks),
                     query.response_format == "json");
}

Result<QueryResult> get_plugin_list(const PluginListQuery& query, RunOptions options,
                                    RunCallbacks callbacks) {
    return run_query(plugin_list_command(query), std::move(options), std::move(callbacks),
                     query.response_format == "json");
}

Result<QueryResult> get_inventory(const InventoryQuery& query, RunOptions options,
                                  RunCallbacks callbacks) {
    return run_query(inventory_command(query), std::move(options), std::move(callbacks),
                     query.response_format == "json");
}

Result<QueryResult> get_ansible_config(const ConfigQuery& query, RunOptions options,
                                       RunCallbacks callbacks) {
    return run_query(config_command(query), std::move(options), std::move(callbacks), false);
}

Result<QueryResult> get_role_list(const RoleListQuery& query, RunOptions options,
                                  RunCallbacks callbacks) {
    return run_query(role_list_command(query), std::move(options), std::move(callbacks), true);
}

Result<QueryResult> get_role_argspec(const RoleArgspecQuery& query, RunOptions options,
                                     RunCallbacks callbacks) {
    return run_query(role_argspec_command(query), std::move(options), std::move(callbacks), true);
}

}  // namespace arunner
