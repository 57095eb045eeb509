// Fuzzes the prompt responder (src/exec/prompt_responder.hpp) with job output: a job, or the
// managed host whose module output it prints, chooses every byte; the patterns are the usual
// ones of env/passwords plus one that backtracks badly. The output arrives in chunks of sizes
// the input chooses. Nothing may throw, and:
// - every answer given is one of the configured answers with its newline;
// - at most one answer per chunk;
// - the pending last line is valid UTF-8 without control characters, and bounded.

#include <cstdint>
#include <string>
#include <string_view>

#include "exec/prompt_responder.hpp"
#include "fuzz_check.hpp"
#include "util/text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view output(reinterpret_cast<const char*>(data), size);
    arunner::fuzz::Choices choices(size);
    auto compiled =
        arunner::exec::PromptResponder::compile({{"^BECOME password:\\s*?$", "b"},
                                                 {"^Vault password:\\s*?$", "v"},
                                                 {"Enter passphrase for .*:\\s*?$", "p"},
                                                 {"(?i)(?P<w>pass\\w*)\\s*:(?=\\s*$)", "i"},
                                                 {"(\\w+\\s?)+\\?$", "r"}},
                                                "fuzz");
    FUZZ_CHECK(compiled.ok(), "the fuzz patterns compile");
    arunner::exec::PromptResponder& responder = *compiled;
    arunner::exec::LastLine last;
    while (!output.empty()) {
        size_t take = choices.up_to(std::min<size_t>(output.size(), 1024));
        std::string_view chunk = output.substr(0, take);
        output.remove_prefix(take);
        last.feed(chunk);
        if (auto answer = responder.on_output(chunk)) {
            FUZZ_CHECK(*answer == "b\n" || *answer == "v\n" || *answer == "p\n" ||
                           *answer == "i\n" || *answer == "r\n",
                       "an answer that was not configured");
        }
    }
    std::string pending = last.pending();
    FUZZ_CHECK(arunner::util::is_valid_utf8(pending), "pending line not UTF-8");
    FUZZ_CHECK(pending.size() <= size_t{600},
               "pending line over its bound");  // 200 bytes, U+FFFD for each bad one
    for (char c : pending) {
        auto u = static_cast<unsigned char>(c);
        FUZZ_CHECK(u >= 0x20 && u != 0x7f, "a control character in the pending line");
    }
    return 0;
}
