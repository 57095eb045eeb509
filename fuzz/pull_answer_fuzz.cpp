// Fuzzes the reading of an engine's pull answer (src/engine/pull_progress.hpp) and the progress
// line made from it (src/isolation/image_pull.hpp): an engine, or whatever answers on its socket,
// chooses every byte. The input is the answer's body, cut into chunks of sizes the input chooses.
// Nothing may throw, and:
// - no line held by the splitter is longer than kMaxPullLineBytes;
// - every message, layer and status read is valid UTF-8;
// - the progress line is valid UTF-8 and no longer than its width;
// - an answer cut differently into chunks reads as the same lines.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/pull_progress.hpp"
#include "fuzz_check.hpp"
#include "isolation/image_pull.hpp"
#include "util/text.hpp"

namespace {

using arunner::Status;
using arunner::engine::PullLine;
using arunner::engine::PullLineSplitter;

/// The lines the splitter gives for `body` cut by `choices`, and whether it stopped on an error.
std::vector<std::string> lines_of(std::string_view body, arunner::fuzz::Choices* choices,
                                  bool* failed) {
    PullLineSplitter splitter;
    std::vector<std::string> lines;
    *failed = false;
    while (!body.empty() && !*failed) {
        size_t take = choices ? choices->up_to(std::min<size_t>(body.size(), 4096)) : body.size();
        Status fed = splitter.feed(body.substr(0, take), [&](std::string_view line) -> Status {
            FUZZ_CHECK(line.size() <= arunner::engine::kMaxPullLineBytes, "line over the bound");
            lines.emplace_back(line);
            return {};
        });
        *failed = !fed.ok();
        body.remove_prefix(take);
    }
    return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view body(reinterpret_cast<const char*>(data), size);
    arunner::fuzz::Choices choices(size);
    bool failed_whole = false;
    bool failed_cut = false;
    auto whole = lines_of(body, nullptr, &failed_whole);
    auto cut = lines_of(body, &choices, &failed_cut);
    if (!failed_whole && !failed_cut) {
        FUZZ_CHECK(whole == cut, "the chunking changed the lines");
    }

    arunner::isolation::PullProgress progress("registry.example/x/ee:1");
    for (const std::string& text : whole) {
        auto line = arunner::engine::parse_pull_line(text);
        if (!line.ok()) {
            FUZZ_CHECK(arunner::util::is_valid_utf8(line.error().message), "error not UTF-8");
            continue;
        }
        FUZZ_CHECK(arunner::util::is_valid_utf8(line->message), "message not UTF-8");
        FUZZ_CHECK(arunner::util::is_valid_utf8(line->layer), "layer not UTF-8");
        FUZZ_CHECK(arunner::util::is_valid_utf8(line->status), "status not UTF-8");
        FUZZ_CHECK(!line->current || *line->current >= 0, "negative bytes");
        progress.update(*line);
        const std::string shown = progress.line(80);
        FUZZ_CHECK(shown.size() <= 80, "progress line too long");
        FUZZ_CHECK(arunner::util::is_valid_utf8(shown), "progress line not UTF-8");
    }
    return 0;
}
