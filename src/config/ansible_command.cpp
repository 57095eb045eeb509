#include "config/ansible_command.hpp"

namespace arunner::config {

std::vector<std::string> build_ansible_command(const CommandInputs& in) {
    std::vector<std::string> cmd;
    if (in.binary) {
        cmd.push_back(*in.binary);
    } else if (in.module) {
        cmd.push_back("ansible");
    } else {
        cmd.push_back("ansible-playbook");
    }
    cmd.insert(cmd.end(), in.cmdline_tokens.begin(), in.cmdline_tokens.end());
    for (const auto& inventory : in.inventories) {
        cmd.push_back("-i");
        cmd.push_back(inventory);
    }
    if (in.limit) {
        cmd.push_back("--limit");
        cmd.push_back(*in.limit);
    }
    if (in.extravars_file) {
        cmd.push_back("-e");
        cmd.push_back("@" + *in.extravars_file);
    }
    if (in.api_extravars_file) {
        cmd.push_back("-e");
        cmd.push_back("@" + *in.api_extravars_file);
    }
    if (in.verbosity > 0) {
        cmd.push_back("-" + std::string(static_cast<size_t>(in.verbosity), 'v'));
    }
    if (in.tags && !in.tags->empty()) {
        cmd.push_back("--tags");
        cmd.push_back(*in.tags);
    }
    if (in.skip_tags && !in.skip_tags->empty()) {
        cmd.push_back("--skip-tags");
        cmd.push_back(*in.skip_tags);
    }
    if (in.forks && !in.forks->empty()) {
        cmd.push_back("--forks");
        cmd.push_back(*in.forks);
    }
    if (in.binary) {
        return cmd;
    }
    if (in.module) {
        cmd.push_back("-m");
        cmd.push_back(*in.module);
        if (in.module_args) {
            cmd.push_back("-a");
            cmd.push_back(*in.module_args);
        }
        if (in.host_pattern) {
            cmd.push_back(*in.host_pattern);
        }
    } else if (in.playbook) {
        cmd.push_back(*in.playbook);
    }
    return cmd;
}

}  // namespace arunner::config
