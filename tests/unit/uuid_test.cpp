// src/util/uuid.cpp: the idents and event uuids arunner makes look like Python's uuid4().

#include "util/uuid.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

namespace arunner::util {
namespace {

TEST(Uuid, Uuid4IsLowercaseDashedVersion4) {
    // 8-4-4-4-12 lowercase hex, version nibble 4, variant bits 10xx (8, 9, a or b).
    const std::regex form("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    for (int i = 0; i < 100; ++i) {
        std::string id = uuid4();
        EXPECT_TRUE(std::regex_match(id, form)) << id;
    }
}

TEST(Uuid, Uuid4NeverRepeats) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        EXPECT_TRUE(seen.insert(uuid4()).second);
    }
}

TEST(Uuid, HexFormDropsTheDashesOnly) {
    EXPECT_EQ(uuid_hex("0f8fad5b-d9cb-469f-a165-70867728950e"), "0f8fad5bd9cb469fa16570867728950e");
    std::string id = uuid4();
    std::string hex = uuid_hex(id);
    EXPECT_EQ(hex.size(), 32u);
    EXPECT_EQ(hex.find('-'), std::string::npos);
}

}  // namespace
}  // namespace arunner::util
