// src/util/python_truth.cpp: Python's bool() of a JSON value. Expected values are what Debian's
// /usr/bin/python3 (3.11) bool() gives for the value json.loads builds.

#include "util/python_truth.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace arunner::util {
namespace {

using Json = nlohmann::ordered_json;

TEST(PythonTruthy, FalseValues) {
    for (const Json& v :
         {Json(nullptr), Json(false), Json(0), Json(int64_t{0}), Json(uint64_t{0}), Json(0.0),
          Json(-0.0), Json(""), Json::array(), Json::object(), Json::binary({})}) {
        EXPECT_FALSE(python_truthy(v)) << v.dump();
    }
}

TEST(PythonTruthy, TrueValues) {
    for (const Json& v : {Json(true), Json(1), Json(-1), Json(std::numeric_limits<uint64_t>::max()),
                          Json(0.5), Json(-1e-300), Json(std::numeric_limits<double>::quiet_NaN()),
                          Json(std::numeric_limits<double>::infinity()), Json("0"), Json("False"),
                          Json(" "), Json::array({0}), Json::array({nullptr}),
                          Json::object({{"a", nullptr}}), Json::binary({0})}) {
        EXPECT_TRUE(python_truthy(v)) << v.dump();
    }
}

}  // namespace
}  // namespace arunner::util
