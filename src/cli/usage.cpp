#include "cli/usage.hpp"

#include <cstdio>

namespace arunner::cli {

std::string common_commands_text() {
    return "\n"
           "These are common Ansible Runner commands:\n"
           "\n"
           "    execute a playbook contained in an ansible-runner directory:\n"
           "\n"
           "        arunner run /tmp/private -p playbook.yml\n"
           "        arunner start /tmp/private -p playbook.yml\n"
           "        arunner stop /tmp/private\n"
           "        arunner is-alive /tmp/private\n"
           "\n"
           "    directly execute ansible primitives:\n"
           "\n"
           "        arunner run . -r role_name --hosts myhost\n"
           "        arunner run . -m command -a \"ls -l\" --hosts myhost\n"
           "\n"
           "`arunner --help` list of optional command line arguments\n";
}

std::string usage_line(const std::string& prog) {
    if (prog == "arunner") {
        return "usage: arunner [-h] [--version] [--debug] [--logfile LOGFILE]\n"
               "               {run,start,stop,is-alive,transmit,worker,process} ...\n";
    }
    return "usage: " + prog +
           " [-h] [--version] [--debug] [--logfile LOGFILE] [-b BINARY] [-i IDENT]\n"
           "       [--rotate-artifacts ROTATE_ARTIFACTS] [--artifact-dir ARTIFACT_DIR]\n"
           "       [--project-dir PROJECT_DIR] [--inventory INVENTORY] [-j] [--omit-event-data]\n"
           "       [--only-failed-event-data] [--omit-env-files] [-q] [-v]\n"
           "       [-p PLAYBOOK | -m MODULE | -r ROLE] [--limit LIMIT] [--cmdline CMDLINE]\n"
           "       [--hosts HOSTS] [--forks FORKS] [--roles-path ROLES_PATH]\n"
           "       [--role-vars ROLE_VARS] [--role-skip-facts] [-a MODULE_ARGS]\n"
           "       private_data_dir\n";
}

int usage_error(const std::string& prog, const std::string& message) {
    std::fputs(usage_line(prog).c_str(), stderr);
    std::fprintf(stderr, "%s: error: %s\n", prog.c_str(), message.c_str());
    return kUsageExit;
}

}  // namespace arunner::cli
