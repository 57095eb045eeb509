#pragma once
// An environment as an ordered mapping: Python dict semantics (a new key goes last, replacing a
// value keeps its place), because ansible-runner's `command` artifact and status payloads list
// the child's environment in that order.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace arunner::util {

/// Ordered NAME=VALUE pairs with unique names.
class Environment {
  public:
    using Entry = std::pair<std::string, std::string>;

    /// This process's environment (environ), in its order.
    static Environment from_current_process();

    /// Sets `name` to `value`; an existing name keeps its position.
    void set(std::string_view name, std::string_view value);
    /// Sets `name` only if it is not present.
    void set_default(std::string_view name, std::string_view value);
    /// The value of `name`, if present.
    std::optional<std::string> get(std::string_view name) const;
    bool contains(std::string_view name) const { return get(name).has_value(); }
    void erase(std::string_view name);

    const std::vector<Entry>& entries() const { return entries_; }
    /// "NAME=VALUE" strings for execve.
    std::vector<std::string> to_envp() const;

  private:
    std::vector<Entry> entries_;
};

/// True when a variable's name says its value is a secret: it holds (in any case) TOKEN,
/// SECRET, PASSWORD, PASSWD, KEY, CREDENTIAL or AUTH.
bool looks_secret(std::string_view name);

/// What stands for a secret-looking variable's value where arunner shows an environment to a
/// peer (the worker's `starting` status): AWX's marker for a hidden value.
inline constexpr const char* kHiddenValue = "**********";

/// PYTHONPATH with `dir` first: "dir" when `existing` is empty (an empty entry would put the
/// cwd on sys.path), else "dir:existing".
std::string python_path_with(std::string_view dir, std::string_view existing);

}  // namespace arunner::util
