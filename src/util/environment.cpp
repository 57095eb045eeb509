#include "util/environment.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

extern char** environ;

namespace arunner::util {

Environment Environment::from_current_process() {
    Environment env;
    for (char** p = environ; p != nullptr && *p != nullptr; ++p) {
        std::string_view entry(*p);
        auto eq = entry.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            continue;
        }
        env.set(entry.substr(0, eq), entry.substr(eq + 1));
    }
    return env;
}

void Environment::set(std::string_view name, std::string_view value) {
    auto it = std::find_if(entries_.begin(), entries_.end(),
                           [&](const Entry& e) { return e.first == name; });
    if (it != entries_.end()) {
        it->second = value;
    } else {
        entries_.emplace_back(std::string(name), std::string(value));
    }
}

void Environment::set_default(std::string_view name, std::string_view value) {
    if (!contains(name)) {
        set(name, value);
    }
}

std::optional<std::string> Environment::get(std::string_view name) const {
    for (const auto& e : entries_) {
        if (e.first == name) {
            return e.second;
        }
    }
    return std::nullopt;
}

void Environment::erase(std::string_view name) {
    std::erase_if(entries_, [&](const Entry& e) { return e.first == name; });
}

std::vector<std::string> Environment::to_envp() const {
    std::vector<std::string> out;
    out.reserve(entries_.size());
    for (const auto& [name, value] : entries_) {
        std::string entry;
        entry.reserve(name.size() + 1 + value.size());
        entry += name;
        entry += '=';
        entry += value;
        out.push_back(std::move(entry));
    }
    return out;
}

bool looks_secret(std::string_view name) {
    std::string upper(name);
    for (char& c : upper) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    for (const char* word :
         {"TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL", "AUTH"}) {
        if (upper.find(word) != std::string::npos) {
            return true;
        }
    }
    return false;
}

std::string python_path_with(std::string_view dir, std::string_view existing) {
    std::string out(dir);
    if (!existing.empty()) {
        out += ':';
        out += existing;
    }
    return out;
}

}  // namespace arunner::util
