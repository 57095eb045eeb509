#pragma once
// What the fuzz targets share: a check that reports a broken invariant as a crash (so libFuzzer
// saves the input), and a splitter of the input into parameters and payload.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

/// Aborts with `what` when `condition` is false: libFuzzer then saves the input as a crash.
#define FUZZ_CHECK(condition, what)                                        \
    do {                                                                   \
        if (!(condition)) {                                                \
            ::arunner::fuzz::fail(__FILE__, __LINE__, (what), #condition); \
        }                                                                  \
    } while (0)

namespace arunner::fuzz {

/// True when `check` is named in $ARUNNER_FUZZ_SKIP (comma-separated): a check that fails for a
/// bug already reported can be skipped while looking for others. CI skips nothing.
inline bool skipped(std::string_view check) {
    static const std::string list = [] {
        const char* value = std::getenv("ARUNNER_FUZZ_SKIP");
        return "," + std::string(value != nullptr ? value : "") + ",";
    }();
    return list.find("," + std::string(check) + ",") != std::string::npos;
}

[[noreturn]] inline void fail(const char* file, int line, std::string_view what,
                              const char* condition) {
    std::fprintf(stderr, "fuzz check failed at %s:%d: %.*s\n  (%s)\n", file, line,
                 static_cast<int>(what.size()), what.data(), condition);
    std::abort();
}

/// A small deterministic generator (xorshift64*), seeded from the input, for choices such as
/// chunk sizes that should come from the input without taking many of its bytes.
class Choices {
  public:
    explicit Choices(uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 1) {}
    uint64_t next() {
        state_ ^= state_ >> 12;
        state_ ^= state_ << 25;
        state_ ^= state_ >> 27;
        return state_ * 0x2545F4914F6CDD1Dull;
    }
    /// A number in [1, limit].
    size_t up_to(size_t limit) { return 1 + static_cast<size_t>(next() % limit); }

  private:
    uint64_t state_;
};

}  // namespace arunner::fuzz
