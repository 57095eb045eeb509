// Expected values were produced by Debian's /usr/bin/python3 (3.11): shlex.split / shlex.quote.

#include "util/shlex.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace arunner::util {
namespace {

struct SplitCase {
    const char* name;
    std::string text;
    std::vector<std::string> words;
};

const SplitCase kSplitCases[] = {
    {"plain words", "a b  c", {"a", "b", "c"}},
    {"surrounding whitespace", "  lead\tand\ttrail \r\n", {"lead", "and", "trail"}},
    {"single and double quotes",
     "'single quoted' \"double quoted\"",
     {"single quoted", "double quoted"}},
    {"adjacent parts join", "a'b'\"c\"d e", {"abcd", "e"}},
    {"empty quoted tokens", "'' \"\" a '' b", {"", "", "a", "", "b"}},
    {"only empty quotes joined", "\"\"''", {""}},
    {"escaped quote in double quotes", "\"a\\\"b\" 'a\\b'", {"a\"b", "a\\b"}},
    {"backslash kept before other chars in double quotes",
     "\"\\$HOME \\` \\n \\\\ \\a\"",
     {"\\$HOME \\` \\n \\ \\a"}},
    {"backslash escapes space outside quotes", "a\\ b c\\\\d", {"a b", "c\\d"}},
    {"escaped single quotes outside quotes", "\\'x\\'", {"'x'"}},
    {"backslash at end of double quotes", "\"x\\\\\"", {"x\\"}},
    {"escaped newline outside quotes", "a\\\nb c", {"a\nb", "c"}},
    {"newline inside quotes", "'a\nb' \"c\nd\"", {"a\nb", "c\nd"}},
    {"typical cmdline",
     "-e 'k=v w' --limit=host1,host2 -e \"{\\\"a\\\": 1}\"",
     {"-e", "k=v w", "--limit=host1,host2", "-e", "{\"a\": 1}"}},
    {"hash is not a comment", "#notcomment x#y", {"#notcomment", "x#y"}},
    {"utf8 passes through",
     "h\303\251llo \"w\303\266rld\" \\\303\251",
     {"h\303\251llo", "w\303\266rld", "\303\251"}},
    {"vertical tab and form feed are not whitespace", "a\013b\014c d", {"a\013b\014c", "d"}},
    {"empty input", "", {}},
    {"whitespace only", " \t\n ", {}},
    {"single quote inside double quotes", "\"it's\" 'say \"hi\"'", {"it's", "say \"hi\""}},
};

TEST(ShlexSplit, MatchesPython) {
    for (const auto& c : kSplitCases) {
        SCOPED_TRACE(c.name);
        auto words = shlex_split(c.text);
        ASSERT_TRUE(words.ok()) << words.error().message;
        EXPECT_EQ(*words, c.words);
    }
}

TEST(ShlexSplit, EmptyQuotesGiveEmptyWords) {
    auto words = shlex_split("a '' \"\" b");
    ASSERT_TRUE(words.ok());
    EXPECT_EQ(*words, (std::vector<std::string>{"a", "", "", "b"}));
}

TEST(ShlexSplit, OnlyBackslashAndQuoteAreEscapedInDoubleQuotes) {
    auto words = shlex_split(R"("a\$b\"c\\d")");
    ASSERT_TRUE(words.ok());
    EXPECT_EQ(*words, (std::vector<std::string>{R"(a\$b"c\d)"}));
}

TEST(ShlexSplit, NulBytesAreOrdinaryCharacters) {
    auto words = shlex_split(std::string("a\0b c", 5));
    ASSERT_TRUE(words.ok());
    EXPECT_EQ(*words, (std::vector<std::string>{std::string("a\0b", 3), "c"}));
}

struct ErrorCase {
    std::string text;
    std::string message;
};

const ErrorCase kErrorCases[] = {
    {"'abc", "No closing quotation"},      {"\"abc", "No closing quotation"},
    {"abc\\", "No escaped character"},     {"\"abc\\", "No escaped character"},
    {"\"abc\\\"", "No closing quotation"}, {"a 'b", "No closing quotation"},
    {"'it''s", "No closing quotation"},
};

TEST(ShlexSplit, ErrorsUsePythonWording) {
    for (const auto& c : kErrorCases) {
        SCOPED_TRACE(c.text);
        auto words = shlex_split(c.text);
        ASSERT_FALSE(words.ok());
        EXPECT_EQ(words.error().message, c.message);
    }
}

struct QuoteCase {
    std::string raw;
    std::string quoted;
};

const QuoteCase kQuoteCases[] = {
    {"", "''"},
    {"abc", "abc"},
    {"a b", "'a b'"},
    {"it's", "'it'\"'\"'s'"},
    {"a@b%c+d=e:f,g./-_9", "a@b%c+d=e:f,g./-_9"},
    {"h\303\251llo", "'h\303\251llo'"},
    {"$x", "'$x'"},
    {"a\nb", "'a\nb'"},
    {"'", "''\"'\"''"},
    {"A~", "'A~'"},
};

TEST(ShlexQuote, MatchesPython) {
    for (const auto& c : kQuoteCases) {
        SCOPED_TRACE(c.raw);
        EXPECT_EQ(shlex_quote(c.raw), c.quoted);
    }
}

TEST(ShlexQuote, RoundTripsThroughSplit) {
    const std::vector<std::string> words = {"",         "plain", "with space",  "it's",
                                            "\"dq\"",   "a\\b",  "$(rm -rf /)", "tab\there",
                                            "new\nline"};
    std::string line;
    for (const auto& w : words) {
        line += shlex_quote(w) + " ";
    }
    auto split = shlex_split(line);
    ASSERT_TRUE(split.ok());
    EXPECT_EQ(*split, words);
}

}  // namespace
}  // namespace arunner::util
