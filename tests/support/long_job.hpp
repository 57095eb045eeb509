#pragma once
// A private data dir whose job leaves a sleeper that left its session (reparented to arunner, a
// subreaper, or to init once arunner is gone), then touches `marker` and sleeps: once the marker
// is there, the job runs.

#include <filesystem>
#include <fstream>

namespace arunner::testing {

inline std::filesystem::path write_long_job(const std::filesystem::path& pdd,
                                            const std::filesystem::path& marker) {
    std::filesystem::create_directories(pdd / "inventory");
    std::filesystem::create_directories(pdd / "project");
    std::ofstream(pdd / "inventory/hosts")
        << "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n";
    std::ofstream(pdd / "project/site.yml")
        << "- hosts: all\n"
           "  gather_facts: false\n"
           "  tasks:\n"
           "    - name: start a detached sleeper\n"
           "      shell: nohup setsid sleep 300 >/dev/null 2>&1 &\n"
           "    - name: mark and sleep\n"
           "      shell: touch "
        << marker.string() << " && exec sleep 300\n";
    return pdd;
}

}  // namespace arunner::testing
