#pragma once
// The container engine as arunner sees it: a narrow interface (ContainerEngine, the seam unit
// tests fake), the container description it creates from (ContainerSpec), and where to find an
// engine's socket. The REST implementation is in engine/rest_container_engine.hpp.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "arunner/error.hpp"
#include "engine/attach_stream.hpp"

namespace arunner::engine {

/// Which engine's REST dialect to speak; the caller chooses it (--process-isolation-executable).
enum class EngineDialect {
    podman,  ///< podman's service: Docker-compatible endpoints plus libpod ones where needed
    docker,  ///< dockerd: Docker Engine API v1.41 only
};

/// "podman" or "docker".
const char* dialect_name(EngineDialect dialect);

/// SELinux relabelling of a bind mount's source.
enum class SelinuxRelabel {
    none,      ///< leave the label alone
    private_,  ///< `:Z`, private to this container
    shared,    ///< `:z`, shared between containers
};

/// One bind mount of a host path into the container.
struct Mount {
    std::string source;  ///< host path
    std::string target;  ///< path inside the container
    bool read_only = false;
    SelinuxRelabel relabel = SelinuxRelabel::none;
};

/// One resource limit (`ulimit`), e.g. {"nofile", 1024, 1024}.
struct Ulimit {
    std::string name;
    int64_t soft = 0;
    int64_t hard = 0;
};

/// A host device node made available in the container (`--device SRC[:DST][:PERMS]`).
struct Device {
    std::string host_path;
    std::string container_path;
    std::string permissions = "rwm";  ///< the device cgroup's r(ead), w(rite), m(knod)
};

/// What kind of `--mount` a TypedMount is.
enum class MountType { bind, volume, tmpfs };

/// One `--mount type=...` (a HostConfig.Mounts entry).
struct TypedMount {
    MountType type = MountType::volume;
    std::string source;  ///< bind: host path; volume: its name (empty: anonymous); tmpfs: empty
    std::string target;
    bool read_only = false;
    std::string bind_propagation;       ///< bind only, e.g. "rprivate"; empty: the engine's
    bool volume_nocopy = false;         ///< volume only
    std::optional<int64_t> tmpfs_size;  ///< tmpfs only, bytes
    /// tmpfs only; unset sends 01777, docker's default, which podman's compat API would
    /// otherwise make 0000.
    std::optional<uint32_t> tmpfs_mode;
};

/// When to pull a container's image from its registry before creating the container: the
/// values of `podman run --pull` (docker's CLI knows all but `newer`).
enum class PullPolicy {
    missing,  ///< only when it is not present locally (the engines' default)
    always,   ///< every time
    never,    ///< never; a missing image is an error
    newer,    ///< when the registry's image differs from the local one (podman only)
};

/// "missing", "always", "never" or "newer".
const char* pull_policy_name(PullPolicy policy);

/// Everything arunner sets on a container it creates. Empty fields are left to the image or
/// the engine.
struct ContainerSpec {
    std::string name;   ///< e.g. "ansible_runner_<ident>"; empty lets the engine pick one
    std::string image;  ///< a full reference, e.g. "localhost/arunner-ee:latest"
    std::vector<std::string> cmd;
    std::optional<std::vector<std::string>> entrypoint;    ///< overrides the image's when set
    std::vector<std::pair<std::string, std::string>> env;  ///< in order
    std::string workdir;
    std::string user;                                         ///< "uid", "uid:gid" or a name
    std::vector<std::pair<std::string, std::string>> labels;  ///< in order
    std::vector<Mount> mounts;
    bool tty = false;                     ///< allocate a pty (stdout and stderr merged, raw stream)
    bool open_stdin = false;              ///< keep stdin open for an attach
    bool stdin_once = false;              ///< close stdin when the attached client half-closes
    std::string network_mode;             ///< "none", "host", "bridge", …; empty: default
    std::optional<int64_t> memory_bytes;  ///< HostConfig.Memory
    std::optional<int64_t> nano_cpus;     ///< HostConfig.NanoCpus (1e9 = one CPU)
    std::vector<std::string> security_opts;  ///< e.g. "label=disable", "no-new-privileges"
    std::vector<Ulimit> ulimits;
    /// Run a tiny init as PID 1 (HostConfig.Init) so that stop's SIGTERM reaches the command
    /// and zombies are reaped.
    bool init = false;
    std::string hostname;               ///< Config.Hostname; empty: the engine's (the container id)
    std::string stop_signal;            ///< Config.StopSignal, e.g. "SIGUSR1"; empty: SIGTERM
    bool privileged = false;            ///< HostConfig.Privileged
    bool read_only = false;             ///< HostConfig.ReadonlyRootfs
    std::vector<std::string> cap_add;   ///< e.g. "NET_ADMIN", "ALL"
    std::vector<std::string> cap_drop;  ///< e.g. "CHOWN"
    std::vector<Device> devices;
    std::vector<std::string> group_add;    ///< supplementary groups, names or gids
    std::string userns_mode;               ///< HostConfig.UsernsMode, e.g. "host"
    std::string ipc_mode;                  ///< HostConfig.IpcMode, e.g. "host", "none"
    std::string pid_mode;                  ///< HostConfig.PidMode, e.g. "host"
    std::vector<std::string> extra_hosts;  ///< "name:ip" lines for /etc/hosts
    std::vector<std::string> dns;          ///< nameservers
    std::vector<std::string> dns_search;
    std::vector<std::string> dns_options;                      ///< e.g. "ndots:2"
    std::vector<std::pair<std::string, std::string>> tmpfs;    ///< path -> mount options
    std::vector<TypedMount> typed_mounts;                      ///< --mount
    std::vector<std::pair<std::string, std::string>> sysctls;  ///< in order
    std::optional<int64_t> pids_limit;          ///< HostConfig.PidsLimit; -1 or 0: unlimited
    std::optional<int64_t> shm_size;            ///< bytes of /dev/shm
    std::optional<int64_t> memory_swap;         ///< memory plus swap, bytes; -1: unlimited
    std::optional<int64_t> memory_reservation;  ///< soft limit, bytes
    std::optional<int64_t> cpu_shares;          ///< relative weight (1024: the default)
    std::string cpuset_cpus;                    ///< e.g. "0-2,4"
    std::string cpuset_mems;
    /// Not part of the create body: whether the image is pulled before create (--pull).
    PullPolicy pull_policy = PullPolicy::missing;
    /// "os/arch[/variant]" (--platform): the image pulled for it and the create's `platform`.
    std::string platform;
};

/// The body of `POST /containers/create` for `spec` (the name goes in the query). Mounts become
/// `HostConfig.Binds` ("src:dst:ro,Z"); a mount whose path holds ':' or ',' becomes a
/// `HostConfig.Mounts` entry instead, which cannot relabel, so that combination is an Error.
/// The typed mounts follow as `HostConfig.Mounts` entries. Empty and unset fields are left
/// out, so the engine's defaults apply.
Result<nlohmann::ordered_json> make_create_body(const ContainerSpec& spec);

/// What `version()` reports.
struct EngineVersion {
    std::string version;      ///< the engine's own version, e.g. "4.3.1" or "20.10.24"
    std::string api_version;  ///< the Docker API version it speaks, e.g. "1.41"
    bool is_podman = false;   ///< a "Podman Engine" component is listed
};

/// An image as inspect and list report it.
struct ImageInfo {
    std::string id;
    std::vector<std::string> tags;  ///< "repo:tag" references
    int64_t size = 0;               ///< bytes
};

/// What an image prune removed.
struct PruneReport {
    std::vector<std::string> deleted;  ///< ids or references the engine reports deleted
    int64_t space_reclaimed = 0;       ///< bytes
};

/// Credentials for one registry. They reach the engine only as the `X-Registry-Auth` header of
/// a pull: never a file, an argv word or a message.
struct RegistryAuth {
    std::string server;  ///< the registry as the image names it, e.g. "quay.io", "127.0.0.1:5000"
    std::string username;
    std::string password;
};

/// One pull of an image from its registry.
struct PullRequest {
    std::string image;     ///< as the job names it, e.g. "quay.io/ansible/awx-ee:latest"
    std::string platform;  ///< "os/arch[/variant]"; empty: the engine's own
    /// Pull only when the registry's image differs from the local one (podman's policy=newer);
    /// false pulls the image's current version whatever is local.
    bool only_if_newer = false;
    std::optional<RegistryAuth> auth;  ///< sent only when set
    bool tls_verify = true;  ///< false: podman skips TLS verification (dockerd decides alone)
    /// Asked while the pull runs; false cancels it.
    std::function<bool()> keep_going;
};

/// One step of a pull as the engine reports it (engine/pull_progress.hpp); false stops the pull.
struct PullLine;
using PullObserver = std::function<bool(const PullLine& line)>;

/// A container as `inspect()` reports it.
struct ContainerInfo {
    std::string id;
    std::string name;    ///< without the leading '/'
    std::string image;   ///< as configured (Config.Image)
    std::string status;  ///< "created", "running", "exited", …
    bool running = false;
    int exit_code = 0;
    bool oom_killed = false;  ///< the kernel's OOM killer ended it (State.OOMKilled)
    int64_t pid = 0;          ///< its first process on the engine's host (State.Pid); 0: none
    bool tty = false;
    std::vector<std::pair<std::string, std::string>> labels;
};

/// A container as `list()` reports it.
struct ContainerSummary {
    std::string id;
    std::string name;  ///< first name, without the leading '/'
    std::string image;
    std::string state;  ///< "created", "running", "exited", …
    std::vector<std::pair<std::string, std::string>> labels;
};

/// A container engine. Every call fails with an Error that names the endpoint, the HTTP status
/// and the engine's message (or the socket, when the engine cannot be reached). Implementations
/// may be used from several threads at once; a long wait() does not hold up kill() or remove().
class ContainerEngine {
  public:
    virtual ~ContainerEngine() = default;

    /// The dialect this engine speaks.
    virtual EngineDialect dialect() const = 0;

    /// The engine's version (slow on podman: seconds, it gathers host information).
    virtual Result<EngineVersion> version() = 0;
    /// The cheap first call (`GET /_ping`, milliseconds): proves the socket is an engine and
    /// learns whether it is podman; returns that.
    virtual Result<bool> ping() = 0;

    /// Whether `image` is present locally (asking does not pull).
    virtual Result<bool> image_exists(const std::string& image) = 0;
    /// Inspects a local image; a missing image is an Error with the engine's message.
    virtual Result<ImageInfo> inspect_image(const std::string& image) = 0;
    /// Every local image.
    virtual Result<std::vector<ImageInfo>> list_images() = 0;
    /// Removes the tag `reference` ("repo:tag"); the image itself stays while other tags or
    /// containers use it (docker deletes it with its last tag).
    virtual Status untag_image(const std::string& reference) = 0;
    /// Removes dangling (untagged, unused) images.
    virtual Result<PruneReport> prune_images() = 0;
    /// Pulls `request.image` from its registry, reporting each step to `observer` (may be
    /// empty). A failure is an Error with the engine's words (unauthorized, manifest unknown,
    /// x509 …); the caller names the registry.
    virtual Status pull_image(const PullRequest& request, const PullObserver& observer) = 0;

    /// Creates a container (not started) and returns its id.
    virtual Result<std::string> create(const ContainerSpec& spec) = 0;
    /// Attaches to stdin, stdout and stderr of a created container; call before start() so no
    /// output is missed. The stream is framed by the container's own Tty setting.
    virtual Result<AttachStream> attach(const std::string& id) = 0;
    /// Starts a created container; an already running one is fine.
    virtual Status start(const std::string& id) = 0;
    /// Blocks until the started container has exited and returns its exit code (no time limit:
    /// kill() it from another thread to end the wait).
    virtual Result<int> wait(const std::string& id) = 0;
    /// The container's current state.
    virtual Result<ContainerInfo> inspect(const std::string& id) = 0;
    /// Sends `signal` (e.g. SIGKILL) to the container; one that is not running is not an error.
    virtual Status kill(const std::string& id, int signal) = 0;
    /// Stops the container: SIGTERM, then SIGKILL after `grace_seconds`; a stopped one is fine.
    virtual Status stop(const std::string& id, int grace_seconds) = 0;
    /// Removes the container (with `force`, even while it runs) and its anonymous volumes. A
    /// container that is already gone (404, or 500 "no such container") is not an error.
    virtual Status remove(const std::string& id, bool force) = 0;
    /// Every container, running or not, carrying `label` ("key" or "key=value"; empty: all).
    virtual Result<std::vector<ContainerSummary>> list(const std::string& label) = 0;
};

/// Looks up an environment variable; empty when unset.
using GetEnv = std::function<std::string(const std::string& name)>;
/// Whether something listens on a unix socket path.
using SocketAnswers = std::function<bool(const std::filesystem::path&)>;

/// Whether a connect() to the unix socket at `path` succeeds now (without blocking).
bool socket_answers(const std::filesystem::path& path);

/// Where the engine's socket is: `explicit_socket` when given (a path or "unix://path"), else
/// CONTAINER_HOST, else DOCKER_HOST (each must be "unix://…"; another scheme is an Error naming
/// the variable), else the first rootful default that answers: /run/podman/podman.sock, then
/// /var/run/docker.sock. For the docker dialect DOCKER_HOST and docker.sock come first, so
/// docker is never spoken to podman's socket by accident. A configured socket is taken as given
/// (connecting says why it cannot be used); a default that is there but does not answer (left by
/// a service that died) is passed over. Nothing configured or answering: nullopt.
Result<std::optional<std::filesystem::path>> find_engine_socket(EngineDialect dialect,
                                                                const std::string& explicit_socket,
                                                                const GetEnv& get_env,
                                                                const SocketAnswers& answers);

/// find_engine_socket() with the process environment and the real sockets.
Result<std::optional<std::filesystem::path>> find_engine_socket(EngineDialect dialect,
                                                                const std::string& explicit_socket);

/// What find_engine_socket() looked at for `dialect`, for a message: "CONTAINER_HOST,
/// DOCKER_HOST, /run/podman/podman.sock, /var/run/docker.sock" in its order.
std::string engine_socket_search_path(EngineDialect dialect);

}  // namespace arunner::engine
