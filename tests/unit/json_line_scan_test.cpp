#include "stream/json_line_scan.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace arunner::stream::json_scan {
namespace {

using Json = nlohmann::ordered_json;

// What nlohmann's non-throwing parse makes of `text`, or nullopt when it refuses it.
std::optional<Json> nlohmann_parse(const std::string& text) {
    Json value = Json::parse(text, nullptr, false);
    if (value.is_discarded()) {
        return std::nullopt;
    }
    return value;
}

// fuzz/crashes-found/json_line_scan_fuzz-float-overflow.bin: the scanner took `1e400` while
// nlohmann refuses it (out_of_range.406), so a line the processor should have passed on as
// not JSON was read as a status line.
TEST(JsonLineScan, NumberBeyondDoubleIsRefusedLikeNlohmann) {
    const std::string line = "{\"status\": 1e400}";
    EXPECT_FALSE(nlohmann_parse(line).has_value());
    Members members;
    EXPECT_FALSE(scan_members(line, members));
    Json out;
    EXPECT_FALSE(parse_json(line, out));

    for (const std::string& text : std::vector<std::string>{
             "1e400", "-1e400", "1.8e308", "[1.7976931348623159e308]", "0.001e312",
             "1e99999999999999999999999", std::string("1") + std::string(400, '0')}) {
        SCOPED_TRACE(text);
        EXPECT_FALSE(nlohmann_parse(text).has_value());
        EXPECT_FALSE(parse_json(text, out));
        EXPECT_FALSE(scan_members("{\"status\": " + text + "}", members));
    }
}

TEST(JsonLineScan, NumbersNlohmannTakesAreTakenAlike) {
    for (const std::string& text : std::vector<std::string>{
             "1.7976931348623157e308", "-1.7976931348623157e308", "1e308", "1e-400", "-1e-400",
             "2e-324", "4.9e-324", "0e999999", "0.0000000000e400", "18446744073709551616",
             "-9223372036854775809", "100e-2", std::string("1") + std::string(300, '0'), "1000e305",
             "0.01e310"}) {
        SCOPED_TRACE(text);
        auto want = nlohmann_parse(text);
        ASSERT_TRUE(want.has_value());
        Json out;
        ASSERT_TRUE(parse_json(text, out));
        EXPECT_EQ(out.dump(), want->dump());
        EXPECT_EQ(std::signbit(out.get<double>()), std::signbit(want->get<double>()));
        Members members;
        EXPECT_TRUE(scan_members("{\"status\": " + text + "}", members));
    }
}

}  // namespace
}  // namespace arunner::stream::json_scan
