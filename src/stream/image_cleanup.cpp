#include "stream/image_cleanup.hpp"

#include <variant>

#include "exec/child_process.hpp"
#include "exec/supervisor.hpp"
#include "util/environment.hpp"
#include "util/strings.hpp"

namespace arunner::stream {
namespace {

class Collect : public exec::OutputSink {
  public:
    void on_output(OutputStream stream, std::string_view bytes) override {
        if (stream == OutputStream::out) {
            out.append(bytes);
        }
    }
    std::string out;
};

/// ansible-runner's run_command: the stripped stdout, or its error block and an Error.
Result<std::string> run_engine(const std::vector<std::string>& argv, std::FILE* out) {
    exec::SpawnRequest request;
    request.argv = argv;
    request.envp = util::Environment::from_current_process().to_envp();
    request.cwd = ".";
    request.terminal = exec::Terminal::pipes;
    auto spawned = exec::ChildProcess::spawn(request);
    std::string command;
    for (const auto& word : argv) {
        command += (command.empty() ? "" : " ") + word;
    }
    if (!spawned) {
        std::fprintf(out, "Error running command:\n%s\nStdout:\n\n", command.c_str());
        return spawned.error();
    }
    Collect collect;
    exec::Supervision result = exec::supervise(*spawned, collect, {}, {}, {});
    if (result.exit_code() != 0) {
        std::fprintf(out, "Error running command:\n%s\nStdout:\n%s\n", command.c_str(),
                     collect.out.c_str());
        return Error{"Error running command: " + command};
    }
    return std::string(util::trim(collect.out));
}

}  // namespace

Result<int> remove_images(const std::vector<std::string>& images, const std::string& engine,
                          std::FILE* out) {
    int removed = 0;
    for (const auto& image : images) {
        ARUNNER_ASSIGN_OR_RETURN(
            auto tags,
            run_engine({engine, "images", "--format=\"{{.Repository}}:{{.Tag}}\"", image}, out));
        if (tags.empty()) {
            continue;
        }
        size_t start = 0;
        while (start <= tags.size()) {
            size_t end = tags.find('\n', start);
            if (end == std::string::npos) {
                end = tags.size();
            }
            std::string tag(util::trim(std::string_view(tags).substr(start, end - start)));
            while (!tag.empty() && tag.front() == '"') {
                tag.erase(0, 1);
            }
            while (!tag.empty() && tag.back() == '"') {
                tag.pop_back();
            }
            ARUNNER_ASSIGN_OR_RETURN(auto output, run_engine({engine, "rmi", tag, "-f"}, out));
            for (size_t pos = 0; (pos = output.find("Untagged:", pos)) != std::string::npos;
                 ++pos) {
                ++removed;
            }
            start = end + 1;
        }
    }
    return removed;
}

Result<bool> prune_images(const std::string& engine, std::FILE* out) {
    ARUNNER_ASSIGN_OR_RETURN(auto output, run_engine({engine, "image", "prune", "-f"}, out));
    return !output.empty() && output != "Total reclaimed space: 0B";
}

}  // namespace arunner::stream
