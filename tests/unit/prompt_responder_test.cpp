// The prompt responder: which pattern answers, pexpect's 100-character window, consumption of
// what a match covered, Python regex syntax, and the bounds that keep hostile output cheap.

#include "exec/prompt_responder.hpp"

#include <gtest/gtest.h>

#include <string>

namespace arunner::exec {
namespace {

PromptResponder make(std::vector<PromptAnswer> prompts) {
    auto compiled = PromptResponder::compile(std::move(prompts), "env/passwords");
    if (!compiled) {
        ADD_FAILURE() << compiled.error().message;
        std::abort();
    }
    return std::move(compiled).value();
}

TEST(PromptResponder, AnswersAMatchingPromptWithANewline) {
    auto responder = make({{"Vault password:\\s*?$", "s3cret"}});
    EXPECT_EQ(responder.on_output("PLAY [all]\r\n"), std::nullopt);
    EXPECT_EQ(responder.on_output("Vault password: "), "s3cret\n");
}

TEST(PromptResponder, APromptSplitAcrossReadsIsFound) {
    auto responder = make({{"BECOME password:\\s*?$", "pw"}});
    EXPECT_EQ(responder.on_output("BECO"), std::nullopt);
    EXPECT_EQ(responder.on_output("ME pass"), std::nullopt);
    EXPECT_EQ(responder.on_output("word: "), "pw\n");
}

TEST(PromptResponder, WhatAMatchCoveredIsNotAnsweredTwice) {
    auto responder = make({{"password:", "pw"}});
    EXPECT_EQ(responder.on_output("password:"), "pw\n");
    EXPECT_EQ(responder.on_output("\r\n"), std::nullopt);
    EXPECT_EQ(responder.on_output("ok\r\n"), std::nullopt);
    EXPECT_EQ(responder.on_output("password:"), "pw\n");  // a second prompt is answered again
}

TEST(PromptResponder, TheEarliestMatchWinsThenTheFirstPattern) {
    auto responder = make({{"second", "2"}, {"first", "1"}, {"fir", "3"}});
    EXPECT_EQ(responder.on_output("first second"), "1\n");  // "first" starts before "second"
    auto tie = make({{"fir", "3"}, {"first", "1"}});
    EXPECT_EQ(tie.on_output("first"), "3\n");  // same start: the first in the list
}

TEST(PromptResponder, AMatchMustStartWithinTheLast100Characters) {
    auto responder = make({{"password:", "pw"}});
    // The prompt scrolled out of the window before it could be seen as a whole line.
    std::string text = "password:" + std::string(150, 'x');
    EXPECT_EQ(responder.on_output(text), std::nullopt);
    // Characters, not bytes: 99 two-byte characters after the prompt still leave it inside.
    std::string wide;
    for (int i = 0; i < 90; ++i) {
        wide += "\xc3\xa9";  // é
    }
    auto unicode = make({{"password:", "pw"}});
    EXPECT_EQ(unicode.on_output("password:" + wide), "pw\n");
}

TEST(PromptResponder, MultilineDollarMatchesAtALineEnd) {
    auto responder = make({{"^Enter passphrase for .*:\\s*?$", "phrase"}});
    EXPECT_EQ(responder.on_output("Identity\r\nEnter passphrase for /k/id_rsa: "), "phrase\n");
}

TEST(PromptResponder, PythonSyntaxCompiles) {
    auto responder = make({{"(?i)(?P<what>vault) PASSWORD(?=:)", "v"}});
    EXPECT_EQ(responder.on_output("Vault password: "), "v\n");
}

TEST(PromptResponder, AnInvalidPatternIsAnErrorThatNamesIt) {
    auto compiled =
        PromptResponder::compile({{"ok", "1"}, {"Vault (password", "2"}}, "env/passwords");
    ASSERT_FALSE(compiled);
    EXPECT_NE(compiled.error().message.find("env/passwords"), std::string::npos);
    EXPECT_NE(compiled.error().message.find("'Vault (password'"), std::string::npos);
    EXPECT_NE(compiled.error().message.find("missing closing parenthesis"), std::string::npos)
        << compiled.error().message;
    // The answer is never part of a message.
    EXPECT_EQ(compiled.error().message.find('2'), std::string::npos);
}

TEST(PromptResponder, APatternThatMatchesNothingNeverAnswers) {
    auto responder = make({{"x*", "never"}});
    EXPECT_EQ(responder.on_output("abc"), std::nullopt);
}

TEST(PromptResponder, InvalidUtf8AndCatastrophicBacktrackingStayHarmless) {
    auto responder = make({{"(a+)+$", "boom"}, {"pass\\w*:", "pw"}});
    EXPECT_EQ(responder.on_output(std::string(90, 'a') + "\xff!"), std::nullopt);
    EXPECT_EQ(responder.on_output("\xfe\xc3 passphrase:"), "pw\n");
}

TEST(PromptResponder, AHugeChunkIsSearchedOnlyAtItsEnd) {
    auto responder = make({{"password:", "pw"}});
    std::string chunk(8 << 20, 'y');
    chunk += "password:";
    EXPECT_EQ(responder.on_output(chunk), "pw\n");
    std::string old = "password:" + std::string(8 << 20, 'z');
    EXPECT_EQ(responder.on_output(old), std::nullopt);
}

TEST(LastLine, KeepsTheUnterminatedLastLine) {
    LastLine line;
    line.feed("PLAY [all]\r\n");
    EXPECT_EQ(line.pending(), "");
    line.feed("BECOME pass");
    line.feed("word: ");
    EXPECT_EQ(line.pending(), "BECOME password:");
    line.feed("\r\n");
    EXPECT_EQ(line.pending(), "");
}

TEST(LastLine, IsBoundedPrintableUtf8) {
    LastLine line;
    line.feed(std::string(10000, 'q') + "\x1b[1m\xff prompt?\x07");
    std::string pending = line.pending();
    EXPECT_LE(pending.size(), 200u * 3);
    EXPECT_NE(pending.find("prompt?"), std::string::npos);
    EXPECT_EQ(pending.find('\x1b'), std::string::npos);
    EXPECT_EQ(pending.find('\x07'), std::string::npos);
}

}  // namespace
}  // namespace arunner::exec
