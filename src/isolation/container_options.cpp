#include "isolation/container_options.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string_view>

#include "isolation/container_spec.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"
#include "util/text.hpp"
#include "util/unique_fd.hpp"

namespace arunner::isolation {
namespace {

namespace fs = std::filesystem;
using engine::ContainerSpec;
using Env = std::vector<std::pair<std::string, std::string>>;

/// `text` without leading whitespace, which strtod and strtoll (the engine CLIs' readers) skip.
std::string_view skip_space(std::string_view text) {
    size_t start = text.find_first_not_of(" \t\n\v\f\r");
    return start == std::string_view::npos ? std::string_view() : text.substr(start);
}

/// A whole decimal integer as strtoll reads one: leading whitespace, an optional sign.
std::optional<long long> parse_integer(std::string_view text) {
    text = skip_space(text);
    if (text.starts_with('+') && !text.substr(1).starts_with('-')) {
        text.remove_prefix(1);
    }
    return util::parse_int<long long>(text);
}

/// A whole decimal number as strtod reads one, whatever the locale; leading whitespace skipped.
std::optional<double> parse_number(std::string_view text) {
    return util::parse_double(skip_space(text));
}

/// "512m", "1g", "1048576": bytes, as the engine CLIs read --memory.
std::optional<int64_t> parse_bytes(const std::string& text) {
    // The number is the longest start of the text that reads as one; the unit follows it.
    const std::string_view whole = skip_space(text);
    double number = 0;
    size_t used = whole.size();
    for (; used > 0; --used) {
        if (auto parsed = util::parse_double(whole.substr(0, used))) {
            number = *parsed;
            break;
        }
    }
    if (used == 0) {
        return std::nullopt;
    }
    std::string unit = util::to_lower(whole.substr(used));
    if (unit.size() == 2 && unit[1] == 'b') {
        unit.pop_back();
    }
    double scale = 1;
    if (unit == "" || unit == "b") {
        scale = 1;
    } else if (unit == "k") {
        scale = 1024.0;
    } else if (unit == "m") {
        scale = 1024.0 * 1024;
    } else if (unit == "g") {
        scale = 1024.0 * 1024 * 1024;
    } else if (unit == "t") {
        scale = 1024.0 * 1024 * 1024 * 1024;
    } else {
        return std::nullopt;
    }
    // Below 2^62 bytes, so that the cast is defined.
    if (!(number > 0) || !std::isfinite(number) || number * scale >= 4.6e18) {
        return std::nullopt;
    }
    return static_cast<int64_t>(number * scale);
}

/// "nofile=1024[:2048]".
std::optional<engine::Ulimit> parse_ulimit(const std::string& text) {
    size_t eq = text.find('=');
    if (eq == std::string::npos || eq == 0) {
        return std::nullopt;
    }
    engine::Ulimit limit;
    limit.name = text.substr(0, eq);
    std::string values = text.substr(eq + 1);
    size_t colon = values.find(':');
    std::optional<long long> soft = parse_integer(std::string_view(values).substr(0, colon));
    if (!soft) {
        return std::nullopt;
    }
    limit.soft = *soft;
    limit.hard = limit.soft;
    if (colon != std::string::npos) {
        std::optional<long long> hard = parse_integer(std::string_view(values).substr(colon + 1));
        if (!hard) {
            return std::nullopt;
        }
        limit.hard = *hard;
    }
    return limit;
}

/// Go's strconv.ParseBool, which the engine CLIs' boolean flags use.
std::optional<bool> parse_bool(std::string_view text) {
    for (const char* yes : {"1", "t", "T", "TRUE", "true", "True"}) {
        if (text == yes) {
            return true;
        }
    }
    for (const char* no : {"0", "f", "F", "FALSE", "false", "False"}) {
        if (text == no) {
            return false;
        }
    }
    return std::nullopt;
}

std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
        size_t at = text.find(separator, start);
        parts.emplace_back(text.substr(start, at == std::string_view::npos ? at : at - start));
        if (at == std::string_view::npos) {
            return parts;
        }
        start = at + 1;
    }
}

bool all_of_chars(std::string_view text, std::string_view allowed) {
    return !text.empty() && text.find_first_not_of(allowed) == std::string_view::npos;
}

constexpr std::string_view kUpperWord = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
constexpr std::string_view kPlatformWord =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";

Result<engine::PullPolicy> parse_pull_policy(const std::string& text) {
    using engine::PullPolicy;
    for (PullPolicy policy :
         {PullPolicy::always, PullPolicy::missing, PullPolicy::never, PullPolicy::newer}) {
        if (text == engine::pull_policy_name(policy)) {
            return policy;
        }
    }
    return Error{"always, missing, never or newer"};
}

/// Whether `text` is "os/arch[/variant]".
bool is_platform(const std::string& text) {
    std::vector<std::string> parts = split(text, '/');
    return (parts.size() == 2 || parts.size() == 3) &&
           std::all_of(parts.begin(), parts.end(),
                       [](const std::string& part) { return all_of_chars(part, kPlatformWord); });
}

/// "SRC[:DST][:PERMS]".
Result<engine::Device> parse_device(const std::string& text) {
    std::vector<std::string> parts = split(text, ':');
    engine::Device device;
    device.host_path = parts[0];
    device.container_path = parts[0];
    auto is_permissions = [](const std::string& part) { return all_of_chars(part, "rwm"); };
    if (parts.size() == 2) {
        if (is_permissions(parts[1])) {
            device.permissions = parts[1];
        } else {
            device.container_path = parts[1];
        }
    } else if (parts.size() == 3) {
        device.container_path = parts[1];
        if (!is_permissions(parts[2])) {
            return Error{"the permissions are letters of rwm"};
        }
        device.permissions = parts[2];
    } else if (parts.size() > 3) {
        return Error{"not SRC[:DST][:PERMS]"};
    }
    if (!device.host_path.starts_with("/") || !device.container_path.starts_with("/")) {
        return Error{"not SRC[:DST][:PERMS] with absolute paths"};
    }
    return device;
}

/// `--mount type=bind|volume|tmpfs,source=…,target=…,readonly,…` as docker reads it.
Result<engine::TypedMount> parse_mount(const std::string& text) {
    engine::TypedMount mount;
    std::optional<std::string> type;
    for (const std::string& field : split(text, ',')) {
        size_t eq = field.find('=');
        const std::string key = util::to_lower(field.substr(0, eq));
        const std::optional<std::string> value =
            eq == std::string::npos ? std::nullopt : std::optional(field.substr(eq + 1));
        auto need = [&]() -> Result<std::string> {
            if (!value || value->empty()) {
                return Error{"'" + key + "' needs a value"};
            }
            return *value;
        };
        if (key == "type") {
            ARUNNER_ASSIGN_OR_RETURN(type, need());
        } else if (key == "source" || key == "src") {
            ARUNNER_ASSIGN_OR_RETURN(mount.source, need());
        } else if (key == "target" || key == "destination" || key == "dst") {
            ARUNNER_ASSIGN_OR_RETURN(mount.target, need());
        } else if (key == "readonly" || key == "ro") {
            std::optional<bool> flag = value ? parse_bool(*value) : std::optional(true);
            if (!flag) {
                return Error{"'" + key + "' is true or false"};
            }
            mount.read_only = *flag;
        } else if (key == "bind-propagation") {
            ARUNNER_ASSIGN_OR_RETURN(mount.bind_propagation, need());
        } else if (key == "volume-nocopy") {
            std::optional<bool> flag = value ? parse_bool(*value) : std::optional(true);
            if (!flag) {
                return Error{"'volume-nocopy' is true or false"};
            }
            mount.volume_nocopy = *flag;
        } else if (key == "tmpfs-size") {
            ARUNNER_ASSIGN_OR_RETURN(auto size, need());
            mount.tmpfs_size = parse_bytes(size);
            if (!mount.tmpfs_size) {
                return Error{"tmpfs-size " + size + " is not a size (e.g. 64m)"};
            }
        } else if (key == "tmpfs-mode") {
            ARUNNER_ASSIGN_OR_RETURN(auto mode, need());
            auto parsed = util::parse_int<uint32_t>(mode, 8);
            if (!parsed || *parsed > 07777) {
                return Error{"tmpfs-mode " + mode + " is not an octal mode (e.g. 1777)"};
            }
            mount.tmpfs_mode = *parsed;
        } else {
            return Error{"unknown field '" + key +
                         "' (type, source, target, readonly, bind-propagation, volume-nocopy, "
                         "tmpfs-size, tmpfs-mode)"};
        }
    }
    const std::string kind = type.value_or("volume");  // docker's default type
    if (kind == "bind") {
        mount.type = engine::MountType::bind;
    } else if (kind == "volume") {
        mount.type = engine::MountType::volume;
    } else if (kind == "tmpfs") {
        mount.type = engine::MountType::tmpfs;
    } else {
        return Error{"type " + kind + " is not bind, volume or tmpfs"};
    }
    if (!mount.target.starts_with("/")) {
        return Error{"the target must be an absolute path"};
    }
    if (mount.type == engine::MountType::tmpfs && !mount.source.empty()) {
        return Error{"a tmpfs mount has no source"};
    }
    if (mount.type == engine::MountType::bind) {
        if (!mount.source.starts_with("/")) {
            return Error{"the bind source must be an absolute path"};
        }
        ARUNNER_TRY(ensure_safe_to_mount(mount.source));
        std::error_code ec;
        if (!fs::exists(mount.source, ec)) {
            return Error{"the bind source " + mount.source + " does not exist"};
        }
    }
    return mount;
}

/// "NAME=VALUE" (or a bare NAME: the controller's value, when it has one) into `env`.
void add_env_word(const std::string& word, Env& env) {
    size_t eq = word.find('=');
    if (eq == std::string::npos) {
        if (const char* host = std::getenv(word.c_str()); host != nullptr) {
            set_env(env, word, host);
        }
    } else {
        set_env(env, word.substr(0, eq), word.substr(eq + 1));
    }
}

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> read_env_file(const std::string& path) {
    const std::string who = "env file " + path;
    // O_NONBLOCK: a FIFO must not hang the controller; it is refused below.
    util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (!fd.valid()) {
        return util::errno_error("cannot open env file", path, errno);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        return Error{who + ": not a regular file"};
    }
    std::string text;
    char buffer[65536];
    while (true) {
        ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            return util::errno_error("cannot read env file", path, errno);
        }
        if (got == 0) {
            break;
        }
        text.append(buffer, static_cast<size_t>(got));
        if (text.size() > kEnvFileMaxBytes) {
            return Error{who + ": larger than " + std::to_string(kEnvFileMaxBytes >> 20) + " MiB"};
        }
    }
    if (text.starts_with("\xEF\xBB\xBF")) {
        text.erase(0, 3);  // a UTF-8 byte order mark, which docker skips too
    }
    if (text.ends_with('\n')) {
        text.pop_back();  // the last line's end, not an empty line after it
    }
    Env env;
    size_t line_number = 0;
    for (std::string line : split(text, '\n')) {
        ++line_number;
        if (line_number > kEnvFileMaxLines) {
            return Error{who + ": more than " + std::to_string(kEnvFileMaxLines) + " lines"};
        }
        const std::string where = who + " line " + std::to_string(line_number);
        if (line.ends_with('\r')) {
            line.pop_back();
        }
        if (!util::is_valid_utf8(line) || line.find('\0') != std::string::npos) {
            return Error{where + ": not UTF-8 text"};
        }
        line.erase(0, line.find_first_not_of(" \t\v\f"));
        if (line.empty() || line.starts_with('#')) {
            continue;
        }
        const size_t eq = line.find('=');
        const std::string name = line.substr(0, eq);
        if (name.empty()) {
            return Error{where + ": no variable name before '='"};
        }
        if (name.find_first_of(" \t\v\f") != std::string::npos) {
            // NOLINTNEXTLINE(performance-inefficient-string-concatenation): an error, built once
            return Error{where + ": variable name '" + name + "' contains whitespace"};
        }
        add_env_word(line, env);
    }
    return env;
}

Status apply_container_options(const std::vector<std::string>& words, ContainerSpec& spec) {
    // As in the CLIs, --env-file values are set first and --env values after them.
    Env env_file_values;
    std::vector<std::string> env_words;
    for (size_t i = 0; i < words.size(); ++i) {
        const std::string& word = words[i];
        std::string name = word;
        std::optional<std::string> inline_value;
        if (word.starts_with("--")) {
            if (size_t eq = word.find('='); eq != std::string::npos) {
                name = word.substr(0, eq);
                inline_value = word.substr(eq + 1);
            }
        } else if (word.size() > 2 && word[0] == '-' && word[1] != '-') {
            name = word.substr(0, 2);  // "-eFOO=bar"
            inline_value = word.substr(word[2] == '=' ? 3 : 2);
        }
        auto is = [&](std::initializer_list<const char*> names) {
            return std::any_of(names.begin(), names.end(),
                               [&](const char* known) { return name == known; });
        };
        auto bad = [&](const std::string& v, const std::string& what) {
            // NOLINTNEXTLINE(performance-inefficient-string-concatenation): an error, built once
            return Error{"container option " + name + " " + v + ": " + what};
        };
        if (is({"--rm", "-i", "--interactive", "-t", "--tty", "--quiet", "-q"})) {
            if (inline_value) {
                return Error{"container option " + word + " takes no value here"};
            }
            continue;  // the container is always removed; tty and stdin follow the runner mode
        }
        if (is({"--init", "--privileged", "--read-only"})) {
            // A boolean flag: a value only after '=', as pflag reads it.
            std::optional<bool> on = inline_value ? parse_bool(*inline_value) : true;
            if (!on) {
                return bad(*inline_value, "not true or false");
            }
            if (name == "--init") {
                if (!*on) {
                    return bad(*inline_value,
                               "arunner always runs an init (signals reach the job through it)");
                }
                spec.init = true;
            } else if (name == "--privileged") {
                spec.privileged = *on;
            } else {
                spec.read_only = *on;
            }
            continue;
        }
        if (!is({"-e",
                 "--env",
                 "--env-file",
                 "-v",
                 "--volume",
                 "--mount",
                 "--tmpfs",
                 "-u",
                 "--user",
                 "-w",
                 "--workdir",
                 "-h",
                 "--hostname",
                 "--network",
                 "--net",
                 "--add-host",
                 "--dns",
                 "--dns-search",
                 "--dns-option",
                 "-m",
                 "--memory",
                 "--memory-swap",
                 "--memory-reservation",
                 "--cpus",
                 "-c",
                 "--cpu-shares",
                 "--cpuset-cpus",
                 "--cpuset-mems",
                 "--pids-limit",
                 "--shm-size",
                 "--ulimit",
                 "--cap-add",
                 "--cap-drop",
                 "--security-opt",
                 "--device",
                 "--group-add",
                 "--userns",
                 "--ipc",
                 "--pid",
                 "--sysctl",
                 "--stop-signal",
                 "-l",
                 "--label",
                 "--pull",
                 "--platform"})) {
            return Error{"container option '" + name +
                         "' cannot be passed through the engine's REST API; arunner translates " +
                         kTranslatedContainerOptions};
        }
        std::string v;
        if (inline_value) {
            v = *inline_value;
        } else if (i + 1 < words.size()) {
            v = words[++i];
        } else {
            return Error{"container option " + name + " needs a value"};
        }
        auto bytes = [&]() -> Result<int64_t> {
            auto parsed = parse_bytes(v);
            if (!parsed) {
                return bad(v, "not a size (e.g. 512m, 2g)");
            }
            return *parsed;
        };
        auto non_empty = [&]() -> Result<std::string> {
            if (v.empty()) {
                return bad(v, "needs a value");
            }
            return v;
        };
        auto key_value = [&](const char* what) -> Result<std::pair<std::string, std::string>> {
            size_t eq = v.find('=');
            if (eq == std::string::npos || eq == 0) {
                return bad(v, what);
            }
            return std::pair(v.substr(0, eq), v.substr(eq + 1));
        };
        if (is({"-e", "--env"})) {
            env_words.push_back(v);
        } else if (name == "--env-file") {
            auto read = read_env_file(v);
            if (!read.ok()) {
                return Error{"container option --env-file: " + read.error().message};
            }
            for (auto& [key, value] : *read) {
                set_env(env_file_values, key, value);
            }
        } else if (is({"-v", "--volume"})) {
            ARUNNER_TRY(add_volume_mount(v, spec.workdir, spec.mounts));
        } else if (name == "--mount") {
            auto mount = parse_mount(v);
            if (!mount.ok()) {
                return bad(v, mount.error().message);
            }
            spec.typed_mounts.push_back(std::move(*mount));
        } else if (name == "--tmpfs") {
            size_t colon = v.find(':');
            std::string path = v.substr(0, colon);
            if (!path.starts_with("/")) {
                return bad(v, "not /PATH[:OPTIONS] with an absolute path");
            }
            spec.tmpfs.emplace_back(path, colon == std::string::npos ? "" : v.substr(colon + 1));
        } else if (is({"-u", "--user"})) {
            spec.user = v;
        } else if (is({"-w", "--workdir"})) {
            if (!v.starts_with("/")) {
                return bad(v, "the working directory must be an absolute path");
            }
            spec.workdir = v;
        } else if (is({"-h", "--hostname"})) {
            ARUNNER_ASSIGN_OR_RETURN(spec.hostname, non_empty());
        } else if (is({"--network", "--net"})) {
            spec.network_mode = v;
        } else if (name == "--add-host") {
            // "name:ip" (an IPv6 address has colons of its own); docker 23 also reads "name=ip".
            size_t at = v.find_first_of(":=");
            if (at == std::string::npos || at == 0 || at + 1 == v.size()) {
                return bad(v, "not HOST:IP");
            }
            spec.extra_hosts.push_back(v.substr(0, at) + ":" + v.substr(at + 1));
        } else if (name == "--dns") {
            ARUNNER_ASSIGN_OR_RETURN(auto server, non_empty());
            spec.dns.push_back(std::move(server));
        } else if (name == "--dns-search") {
            ARUNNER_ASSIGN_OR_RETURN(auto domain, non_empty());
            spec.dns_search.push_back(std::move(domain));
        } else if (name == "--dns-option") {
            ARUNNER_ASSIGN_OR_RETURN(auto option, non_empty());
            spec.dns_options.push_back(std::move(option));
        } else if (is({"-m", "--memory"})) {
            ARUNNER_ASSIGN_OR_RETURN(spec.memory_bytes, bytes());
        } else if (name == "--memory-swap") {
            if (skip_space(v) == "-1") {
                spec.memory_swap = -1;
            } else {
                auto parsed = parse_bytes(v);
                if (!parsed) {
                    return bad(v, "not a size (e.g. 1g) or -1 (unlimited)");
                }
                spec.memory_swap = *parsed;
            }
        } else if (name == "--memory-reservation") {
            ARUNNER_ASSIGN_OR_RETURN(spec.memory_reservation, bytes());
        } else if (name == "--shm-size") {
            ARUNNER_ASSIGN_OR_RETURN(spec.shm_size, bytes());
        } else if (name == "--cpus") {
            const double cpus = parse_number(v).value_or(0);
            if (!(cpus > 0) || !std::isfinite(cpus) || cpus > 1e6) {
                return bad(v, "not a positive number of CPUs");
            }
            spec.nano_cpus = static_cast<int64_t>(std::llround(cpus * 1e9));
        } else if (is({"-c", "--cpu-shares"})) {
            auto shares = parse_integer(v);
            if (!shares || *shares <= 0) {
                return bad(v, "not a positive integer (1024 is the default weight)");
            }
            spec.cpu_shares = *shares;
        } else if (is({"--cpuset-cpus", "--cpuset-mems"})) {
            if (!all_of_chars(v, "0123456789,-")) {
                return bad(v, "not a list of numbers and ranges (e.g. 0-2,4)");
            }
            (name == "--cpuset-cpus" ? spec.cpuset_cpus : spec.cpuset_mems) = v;
        } else if (name == "--pids-limit") {
            auto limit = parse_integer(v);
            if (!limit || *limit < -1) {
                return bad(v, "not a number of processes (-1: unlimited)");
            }
            spec.pids_limit = *limit;
        } else if (name == "--ulimit") {
            auto limit = parse_ulimit(v);
            if (!limit) {
                return bad(v, "not NAME=SOFT[:HARD]");
            }
            spec.ulimits.push_back(*limit);
        } else if (is({"--cap-add", "--cap-drop"})) {
            for (std::string cap : split(v, ',')) {  // podman's StringSlice
                std::transform(cap.begin(), cap.end(), cap.begin(),
                               [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
                if (!all_of_chars(cap, kUpperWord)) {
                    return bad(v, "not a capability name (e.g. NET_ADMIN, CAP_CHOWN, ALL)");
                }
                (name == "--cap-add" ? spec.cap_add : spec.cap_drop).push_back(cap);
            }
        } else if (name == "--security-opt") {
            spec.security_opts.push_back(v);
        } else if (name == "--device") {
            auto device = parse_device(v);
            if (!device.ok()) {
                return bad(v, device.error().message);
            }
            spec.devices.push_back(std::move(*device));
        } else if (name == "--group-add") {
            ARUNNER_ASSIGN_OR_RETURN(auto group, non_empty());
            spec.group_add.push_back(std::move(group));
        } else if (name == "--userns") {
            ARUNNER_ASSIGN_OR_RETURN(spec.userns_mode, non_empty());
        } else if (name == "--ipc") {
            ARUNNER_ASSIGN_OR_RETURN(spec.ipc_mode, non_empty());
        } else if (name == "--pid") {
            ARUNNER_ASSIGN_OR_RETURN(spec.pid_mode, non_empty());
        } else if (name == "--sysctl") {
            ARUNNER_ASSIGN_OR_RETURN(auto sysctl, key_value("not NAME=VALUE"));
            spec.sysctls.push_back(std::move(sysctl));
        } else if (name == "--stop-signal") {
            ARUNNER_ASSIGN_OR_RETURN(spec.stop_signal, non_empty());
        } else if (name == "--pull") {
            auto policy = parse_pull_policy(v);
            if (!policy.ok()) {
                return bad(v, "not " + policy.error().message);
            }
            spec.pull_policy = *policy;
        } else if (name == "--platform") {
            if (!is_platform(v)) {
                return bad(v, "not OS/ARCH[/VARIANT] (e.g. linux/amd64, linux/arm64/v8)");
            }
            spec.platform = v;
        } else {  // -l, --label
            size_t eq = v.find('=');
            spec.labels.emplace_back(v.substr(0, eq),
                                     eq == std::string::npos ? "" : v.substr(eq + 1));
        }
    }
    for (const auto& [key, value] : env_file_values) {
        set_env(spec.env, key, value);
    }
    for (const std::string& word : env_words) {
        add_env_word(word, spec.env);
    }
    return {};
}

}  // namespace arunner::isolation
