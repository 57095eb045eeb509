#pragma once
// The CLI's --debug / --logfile output.

#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>

namespace arunner::cli {

/// Debug lines go to `debug_out` (stdout by default) with --debug and to the --logfile with a
/// timestamp, as ansible-runner's debug logger does. The log file is appended to.
class DebugLog {
  public:
    DebugLog(bool debug, const std::string& logfile, std::FILE* debug_out = stdout)
        : debug_out_(debug ? debug_out : nullptr) {
        if (!logfile.empty()) {
            file_.open(logfile, std::ios::app);
        }
    }
    bool enabled() const { return debug_out_ != nullptr || file_.is_open(); }
    void line(const std::string& text) {
        if (debug_out_ != nullptr) {
            std::fprintf(debug_out_, "%s\n", text.c_str());
            std::fflush(debug_out_);
        }
        if (file_.is_open()) {
            char stamp[64];
            std::time_t now = std::time(nullptr);
            std::tm local{};
            ::localtime_r(&now, &local);
            std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &local);
            file_ << stamp << ": " << text << '\n' << std::flush;
        }
    }

  private:
    std::FILE* debug_out_;
    std::ofstream file_;
};

}  // namespace arunner::cli
