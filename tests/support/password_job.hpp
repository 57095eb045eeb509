#pragma once
// A private data dir whose play prompts for passwords: a vault-encrypted vars file (with
// --ask-vault-pass) and a become task (with --ask-become-pass), and the check that an answer
// appears nowhere. Shared by the local and the container password tests.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "support/command.hpp"
#include "support/temp_dir.hpp"

namespace arunner::testing {

namespace fs = std::filesystem;

inline constexpr const char* kVaultPassword = "vault-pw-4711-unattended";
inline constexpr const char* kBecomePassword = "become-pw-0815-unattended";

inline void write_file_text(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

/// A private data dir whose play reads a vault-encrypted vars file and becomes root.
inline fs::path vault_pdd(const TempDir& tmp) {
    fs::path pdd = tmp.path() / "pdd";
    write_file_text(pdd / "inventory",
                    "localhost ansible_connection=local ansible_python_interpreter=" +
                        std::string("/usr/bin/python3\n"));
    write_file_text(pdd / "project/secret.yml", "secret_value: the-decrypted-value-42\n");
    write_file_text(tmp.path() / "vault-pass", kVaultPassword);
    CommandResult enc =
        run_command({"ansible-vault", "encrypt", "--vault-password-file",
                     (tmp.path() / "vault-pass").string(), (pdd / "project/secret.yml").string()});
    EXPECT_EQ(enc.exit_code, 0) << enc.out << enc.err;
    write_file_text(pdd / "project/site.yml",
                    "- hosts: all\n"
                    "  gather_facts: false\n"
                    "  vars_files: [secret.yml]\n"
                    "  tasks:\n"
                    "    - debug: {msg: \"value={{ secret_value }}\"}\n"
                    "    - command: id -u\n"
                    "      become: true\n"
                    "      become_method: su\n"
                    "      register: who\n"
                    "    - debug: {msg: \"uid={{ who.stdout }}\"}\n");
    // A prompt that is not answered must not hang the test.
    write_file_text(pdd / "env/settings", "{\"idle_timeout\": 120}");
    return pdd;
}

/// Every file under `dir` (recursively), as text.
inline std::vector<std::pair<fs::path, std::string>> all_files(const fs::path& dir) {
    std::vector<std::pair<fs::path, std::string>> files;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        if (entry.is_regular_file()) {
            files.emplace_back(entry.path(), read_text(entry.path()));
        }
    }
    return files;
}

inline void expect_secret_nowhere(const fs::path& art, const std::string& console,
                                  const std::string& secret) {
    EXPECT_EQ(console.find(secret), std::string::npos);
    size_t count = 0;
    for (const auto& [path, text] : all_files(art)) {
        ++count;
        EXPECT_EQ(text.find(secret), std::string::npos) << path;
    }
    EXPECT_GT(count, 5u);  // stdout, command, status, rc, events at least
}

}  // namespace arunner::testing
