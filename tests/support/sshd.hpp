#pragma once
// A private OpenSSH server for tests that log in over ssh (Debian's /usr/sbin/sshd, no systemd):
// on 127.0.0.1 and a free port, with its own host key, accepting only the test's key pair (made
// here with ssh-keygen) for any user, and stopped by pid when the object dies.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "support/command.hpp"
#include "support/temp_dir.hpp"

namespace arunner::testing {

class TestSshd {
  public:
    /// Starts sshd; check ok() (error() says why not).
    TestSshd() {
        namespace fs = std::filesystem;
        const fs::path dir = dir_.path();
        // sshd refuses to start without its privilege separation directory (made by the
        // package's service unit, which nothing runs here).
        std::error_code ec;
        fs::create_directories("/run/sshd", ec);
        for (const char* name : {"host_ed25519", "client_ed25519"}) {
            auto keygen = run_command({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                                       "arunner-test", "-f", (dir / name).string()});
            if (keygen.exit_code != 0) {
                error_ = "ssh-keygen failed: " + keygen.err;
                return;
            }
        }
        private_key_ = read_text(dir / "client_ed25519");
        fs::copy_file(dir / "client_ed25519.pub", dir / "authorized_keys", ec);
        fs::remove(dir / "client_ed25519", ec);  // the key lives only in this object from now
        // A port just free (the kernel's pick); tried again when sshd loses it to someone else.
        for (int attempt = 0; attempt < 5 && !ok(); ++attempt) {
            port_ = free_port();
            std::ofstream(dir / "sshd_config")
                << "Port " << port_ << "\n"
                << "ListenAddress 127.0.0.1\n"
                << "HostKey " << (dir / "host_ed25519").string() << "\n"
                << "PidFile " << (dir / "sshd.pid").string() << "\n"
                << "AuthorizedKeysFile " << (dir / "authorized_keys").string() << "\n"
                << "StrictModes no\nUsePAM no\nPermitRootLogin prohibit-password\n"
                << "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                << "PubkeyAuthentication yes\n"
                << "Subsystem sftp /usr/lib/openssh/sftp-server\n";
            sshd_ = std::make_unique<BackgroundCommand>(std::vector<std::string>{
                "/usr/sbin/sshd", "-D", "-e", "-f", (dir / "sshd_config").string()});
            bool listening =
                wait_until([&] { return exited() || accepts(port_); }, std::chrono::seconds(30));
            if (!listening || exited()) {
                error_ = "sshd did not start: " + sshd_->finish().err;
                sshd_.reset();
            }
        }
        if (ok()) {
            error_.clear();
        }
    }
    ~TestSshd() {
        if (sshd_) {
            ::kill(sshd_->pid(), SIGTERM);
            sshd_->finish();
        }
    }
    TestSshd(const TestSshd&) = delete;
    TestSshd& operator=(const TestSshd&) = delete;

    bool ok() const { return sshd_ != nullptr; }
    const std::string& error() const { return error_; }
    int port() const { return port_; }
    /// The one private key sshd accepts (OpenSSH format).
    const std::string& private_key() const { return private_key_; }
    /// An inventory with this server as host `target`, logged in as root with no host key check
    /// and no ssh ControlPersist master (which would outlive the run).
    std::string inventory() const {
        return "target ansible_host=127.0.0.1 ansible_port=" + std::to_string(port_) +
               " ansible_user=root ansible_python_interpreter=/usr/bin/python3"
               " ansible_ssh_common_args='-o StrictHostKeyChecking=no"
               " -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=no'"
               " ansible_ssh_args='-o ControlMaster=no'\n";
    }

  private:
    static int free_port() {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        int port = 0;
        if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
            port = ntohs(address.sin_port);
        }
        ::close(fd);
        return port;
    }
    static bool accepts(int port) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = htons(static_cast<uint16_t>(port));
        bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
        ::close(fd);
        return ok;
    }
    bool exited() const {
        siginfo_t info{};
        return ::waitid(P_PID, static_cast<id_t>(sshd_->pid()), &info,
                        WEXITED | WNOHANG | WNOWAIT) == 0 &&
               info.si_pid == sshd_->pid();
    }

    TempDir dir_;
    std::unique_ptr<BackgroundCommand> sshd_;
    int port_ = 0;
    std::string private_key_;
    std::string error_;
};

}  // namespace arunner::testing
