#include "engine/container_engine.hpp"

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "util/unique_fd.hpp"

namespace arunner::engine {

namespace {

constexpr std::string_view kUnixScheme = "unix://";
constexpr const char* kPodmanSocket = "/run/podman/podman.sock";
constexpr const char* kDockerSocket = "/var/run/docker.sock";

Error spec_error(const ContainerSpec& spec, const std::string& what) {
    std::string who = spec.name.empty() ? std::string("container") : "container " + spec.name;
    return Error{who + ": " + what};
}

/// "src:dst[:ro,Z]" for HostConfig.Binds, or empty when the paths cannot be written that way.
std::string bind_string(const Mount& mount) {
    auto unsafe = [](const std::string& path) {
        return path.find_first_of(":,") != std::string::npos;
    };
    if (unsafe(mount.source) || unsafe(mount.target)) {
        return {};
    }
    std::string options;
    if (mount.read_only) {
        options = "ro";
    }
    if (mount.relabel != SelinuxRelabel::none) {
        options += options.empty() ? "" : ",";
        options += mount.relabel == SelinuxRelabel::private_ ? "Z" : "z";
    }
    std::string bind = mount.source + ":" + mount.target;
    return options.empty() ? bind : bind + ":" + options;
}

/// A `unix://` URL or a bare absolute path as a socket path; empty when it is neither.
std::string socket_path_of(const std::string& value) {
    if (value.starts_with(kUnixScheme)) {
        return value.substr(kUnixScheme.size());
    }
    if (value.starts_with("/")) {
        return value;
    }
    return {};
}

const char* mount_type_name(MountType type) {
    switch (type) {
        case MountType::bind:
            return "bind";
        case MountType::volume:
            return "volume";
        case MountType::tmpfs:
            return "tmpfs";
    }
    return "volume";
}

/// A `--mount` as a HostConfig.Mounts entry.
Result<nlohmann::ordered_json> typed_mount_json(const ContainerSpec& spec, const TypedMount& m) {
    using json = nlohmann::ordered_json;
    const char* type = mount_type_name(m.type);
    if (!m.target.starts_with("/")) {
        return spec_error(
            spec, std::string(type) + " mount target '" + m.target + "' is not an absolute path");
    }
    json entry = {{"Type", type}};
    if (m.type == MountType::bind && !m.source.starts_with("/")) {
        return spec_error(spec, "bind mount source '" + m.source + "' is not an absolute path");
    }
    if (!m.source.empty()) {
        entry["Source"] = m.source;
    }
    entry["Target"] = m.target;
    entry["ReadOnly"] = m.read_only;
    if (m.type == MountType::bind && !m.bind_propagation.empty()) {
        entry["BindOptions"] = json{{"Propagation", m.bind_propagation}};
    }
    if (m.type == MountType::volume && m.volume_nocopy) {
        entry["VolumeOptions"] = json{{"NoCopy", true}};
    }
    if (m.type == MountType::tmpfs) {
        json options = json::object();
        if (m.tmpfs_size) {
            options["SizeBytes"] = *m.tmpfs_size;
        }
        options["Mode"] = m.tmpfs_mode.value_or(01777);
        entry["TmpfsOptions"] = std::move(options);
    }
    return entry;
}

nlohmann::ordered_json pairs_object(const std::vector<std::pair<std::string, std::string>>& pairs) {
    nlohmann::ordered_json object = nlohmann::ordered_json::object();
    for (const auto& [key, value] : pairs) {
        object[key] = value;
    }
    return object;
}

/// The HostConfig fields of the `podman run` options past the basic ones.
Status add_host_options(const ContainerSpec& spec, nlohmann::ordered_json& host) {
    using json = nlohmann::ordered_json;
    if (spec.privileged) {
        host["Privileged"] = true;
    }
    if (spec.read_only) {
        host["ReadonlyRootfs"] = true;
    }
    auto list = [&](const char* key, const std::vector<std::string>& values) {
        if (!values.empty()) {
            host[key] = values;
        }
    };
    auto text = [&](const char* key, const std::string& value) {
        if (!value.empty()) {
            host[key] = value;
        }
    };
    list("CapAdd", spec.cap_add);
    list("CapDrop", spec.cap_drop);
    if (!spec.devices.empty()) {
        json devices = json::array();
        for (const Device& device : spec.devices) {
            if (!device.host_path.starts_with("/") || !device.container_path.starts_with("/")) {
                return spec_error(spec, "device " + device.host_path + ":" + device.container_path +
                                            ": paths must be absolute");
            }
            devices.push_back(json{{"PathOnHost", device.host_path},
                                   {"PathInContainer", device.container_path},
                                   {"CgroupPermissions", device.permissions}});
        }
        host["Devices"] = std::move(devices);
    }
    list("GroupAdd", spec.group_add);
    text("UsernsMode", spec.userns_mode);
    text("IpcMode", spec.ipc_mode);
    text("PidMode", spec.pid_mode);
    list("ExtraHosts", spec.extra_hosts);
    list("Dns", spec.dns);
    list("DnsSearch", spec.dns_search);
    list("DnsOptions", spec.dns_options);
    if (!spec.tmpfs.empty()) {
        host["Tmpfs"] = pairs_object(spec.tmpfs);
    }
    if (!spec.sysctls.empty()) {
        host["Sysctls"] = pairs_object(spec.sysctls);
    }
    if (spec.pids_limit) {
        host["PidsLimit"] = *spec.pids_limit;
    }
    auto positive = [&](const char* key, const std::optional<int64_t>& value,
                        const char* what) -> Status {
        if (value) {
            if (*value <= 0) {
                return spec_error(spec, std::string(what) + " must be positive");
            }
            host[key] = *value;
        }
        return {};
    };
    ARUNNER_TRY(positive("ShmSize", spec.shm_size, "shm size"));
    if (spec.memory_swap) {
        if (*spec.memory_swap <= 0 && *spec.memory_swap != -1) {
            return spec_error(spec, "memory+swap limit must be positive or -1 (unlimited)");
        }
        host["MemorySwap"] = *spec.memory_swap;
    }
    ARUNNER_TRY(positive("MemoryReservation", spec.memory_reservation, "memory reservation"));
    ARUNNER_TRY(positive("CpuShares", spec.cpu_shares, "cpu shares"));
    text("CpusetCpus", spec.cpuset_cpus);
    text("CpusetMems", spec.cpuset_mems);
    return {};
}

}  // namespace

const char* dialect_name(EngineDialect dialect) {
    return dialect == EngineDialect::podman ? "podman" : "docker";
}

const char* pull_policy_name(PullPolicy policy) {
    switch (policy) {
        case PullPolicy::missing:
            return "missing";
        case PullPolicy::always:
            return "always";
        case PullPolicy::never:
            return "never";
        case PullPolicy::newer:
            return "newer";
    }
    return "missing";
}

Result<nlohmann::ordered_json> make_create_body(const ContainerSpec& spec) {
    using json = nlohmann::ordered_json;
    if (spec.image.empty()) {
        return spec_error(spec, "no image given");
    }
    json body = json::object();
    body["Image"] = spec.image;
    if (!spec.cmd.empty()) {
        body["Cmd"] = spec.cmd;
    }
    if (spec.entrypoint) {
        body["Entrypoint"] = *spec.entrypoint;
    }
    if (!spec.env.empty()) {
        json env = json::array();
        for (const auto& [name, value] : spec.env) {
            if (name.empty() || name.find('=') != std::string::npos) {
                return spec_error(spec, "invalid environment variable name '" + name + "'");
            }
            // NOLINTNEXTLINE(performance-inefficient-string-concatenation): an error, built once
            env.push_back(name + "=" + value);
        }
        body["Env"] = std::move(env);
    }
    if (!spec.workdir.empty()) {
        body["WorkingDir"] = spec.workdir;
    }
    if (!spec.user.empty()) {
        body["User"] = spec.user;
    }
    if (!spec.hostname.empty()) {
        body["Hostname"] = spec.hostname;
    }
    if (!spec.stop_signal.empty()) {
        body["StopSignal"] = spec.stop_signal;
    }
    if (!spec.labels.empty()) {
        json labels = json::object();
        for (const auto& [key, value] : spec.labels) {
            if (key.empty()) {
                return spec_error(spec, "a label with an empty key");
            }
            labels[key] = value;
        }
        body["Labels"] = std::move(labels);
    }
    body["Tty"] = spec.tty;
    body["OpenStdin"] = spec.open_stdin;
    body["StdinOnce"] = spec.stdin_once;
    body["AttachStdin"] = spec.open_stdin;
    body["AttachStdout"] = true;
    body["AttachStderr"] = true;

    json host = json::object();
    json binds = json::array();
    json mounts = json::array();
    for (const Mount& mount : spec.mounts) {
        if (!mount.source.starts_with("/")) {
            return spec_error(spec, "mount source '" + mount.source + "' is not an absolute path");
        }
        if (!mount.target.starts_with("/")) {
            return spec_error(spec, "mount target '" + mount.target + "' is not an absolute path");
        }
        std::string bind = bind_string(mount);
        if (!bind.empty()) {
            binds.push_back(std::move(bind));
            continue;
        }
        if (mount.relabel != SelinuxRelabel::none) {
            return spec_error(spec, "mount " + mount.source + " -> " + mount.target +
                                        ": a path with ':' or ',' cannot be relabelled (:Z/:z)");
        }
        mounts.push_back(json{{"Type", "bind"},
                              {"Source", mount.source},
                              {"Target", mount.target},
                              {"ReadOnly", mount.read_only}});
    }
    for (const TypedMount& typed : spec.typed_mounts) {
        ARUNNER_ASSIGN_OR_RETURN(auto entry, typed_mount_json(spec, typed));
        mounts.push_back(std::move(entry));
    }
    if (!binds.empty()) {
        host["Binds"] = std::move(binds);
    }
    if (!mounts.empty()) {
        host["Mounts"] = std::move(mounts);
    }
    if (!spec.network_mode.empty()) {
        host["NetworkMode"] = spec.network_mode;
    }
    if (spec.memory_bytes) {
        if (*spec.memory_bytes <= 0) {
            return spec_error(spec, "memory limit must be positive");
        }
        host["Memory"] = *spec.memory_bytes;
    }
    if (spec.nano_cpus) {
        if (*spec.nano_cpus <= 0) {
            return spec_error(spec, "cpu limit must be positive");
        }
        host["NanoCpus"] = *spec.nano_cpus;
    }
    if (!spec.security_opts.empty()) {
        host["SecurityOpt"] = spec.security_opts;
    }
    if (!spec.ulimits.empty()) {
        json ulimits = json::array();
        for (const Ulimit& limit : spec.ulimits) {
            if (limit.name.empty() || limit.soft > limit.hard) {
                return spec_error(spec, "invalid ulimit '" + limit.name + "' (soft " +
                                            std::to_string(limit.soft) + ", hard " +
                                            std::to_string(limit.hard) + ")");
            }
            ulimits.push_back(
                json{{"Name", limit.name}, {"Soft", limit.soft}, {"Hard", limit.hard}});
        }
        host["Ulimits"] = std::move(ulimits);
    }
    if (spec.init) {
        host["Init"] = true;
    }
    ARUNNER_TRY(add_host_options(spec, host));
    if (!host.empty()) {
        body["HostConfig"] = std::move(host);
    }
    return body;
}

namespace {

/// The variables and default sockets find_engine_socket() tries for `dialect`, in order.
std::pair<std::vector<std::string>, std::vector<std::string>> search_order(EngineDialect dialect) {
    std::vector<std::string> variables = {"CONTAINER_HOST", "DOCKER_HOST"};
    std::vector<std::string> defaults = {kPodmanSocket, kDockerSocket};
    if (dialect == EngineDialect::docker) {
        std::swap(variables[0], variables[1]);
        std::swap(defaults[0], defaults[1]);
    }
    return {variables, defaults};
}

}  // namespace

bool socket_answers(const std::filesystem::path& path) {
    sockaddr_un address{};
    const std::string text = path.string();
    if (text.empty() || text.size() >= sizeof(address.sun_path)) {
        return false;
    }
    util::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
        return false;
    }
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) {
        return true;
    }
    // A full backlog still means a listener.
    return errno == EAGAIN || errno == EINPROGRESS;
}

Result<std::optional<std::filesystem::path>> find_engine_socket(EngineDialect dialect,
                                                                const std::string& explicit_socket,
                                                                const GetEnv& get_env,
                                                                const SocketAnswers& answers) {
    if (!explicit_socket.empty()) {
        std::string path = socket_path_of(explicit_socket);
        if (path.empty()) {
            return Error{"container engine socket '" + explicit_socket +
                         "': give an absolute path or unix:///path (only unix sockets are "
                         "supported)"};
        }
        return std::optional<std::filesystem::path>(path);
    }
    const auto [variables, defaults] = search_order(dialect);
    for (const std::string& variable : variables) {
        std::string value = get_env(variable);
        if (value.empty()) {
            continue;
        }
        std::string path = socket_path_of(value);
        if (path.empty()) {
            // NOLINTNEXTLINE(performance-inefficient-string-concatenation): an error, built once
            return Error{variable + "=" + value +
                         ": arunner talks to a container engine only through a unix:// socket"};
        }
        return std::optional<std::filesystem::path>(path);
    }
    for (const std::string& path : defaults) {
        if (answers(path)) {
            return std::optional<std::filesystem::path>(path);
        }
    }
    return std::optional<std::filesystem::path>();
}

Result<std::optional<std::filesystem::path>> find_engine_socket(
    EngineDialect dialect, const std::string& explicit_socket) {
    return find_engine_socket(
        dialect, explicit_socket,
        [](const std::string& name) {
            const char* value = ::getenv(name.c_str());
            return value ? std::string(value) : std::string();
        },
        [](const std::filesystem::path& path) { return socket_answers(path); });
}

std::string engine_socket_search_path(EngineDialect dialect) {
    const auto [variables, defaults] = search_order(dialect);
    return variables[0] + ", " + variables[1] + ", " + defaults[0] + ", " + defaults[1];
}

}  // namespace arunner::engine
