#pragma once
// The CLI's --debug / --logfile output.

#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>

namespace arunner::cli {

/// Debug lines go to stdout with --debug and to the --logfile with a timestamp, as
/// ansible-runner's debug logger does.
class DebugLog {
  public:
    DebugLog(bool to_stdout, const std::string& logfile) : to_stdout_(to_stdout) {
        if (!logfile.empty()) {
            file_.open(logfile, std::ios::app);
        }
    }
    bool enabled() const { return to_stdout_ || file_.is_open(); }
    void line(const std::string& text) {
        if (to_stdout_) {
            std::fprintf(stdout, "%s\n", text.c_str());
            std::fflush(stdout);
        }
        if (file_.is_open()) {
            char stamp[64];
            std::time_t now = std::time(nullptr);
            std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", std::localtime(&now));
            file_ << stamp << ": " << text << '\n' << std::flush;
        }
    }

  private:
    bool to_stdout_;
    std::ofstream file_;
};

}  // namespace arunner::cli
