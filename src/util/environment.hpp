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

}  // namespace arunner::util
