#pragma once
// Python's bool() of a JSON value, as ansible-runner reads flags from settings, kwargs and
// events: null, false, 0, 0.0, "", [] and {} are false, everything else is true (nlohmann's
// empty() cannot say this: it is false for every string).

#include <nlohmann/json.hpp>

namespace arunner::util {

bool python_truthy(const nlohmann::ordered_json& value);

}  // namespace arunner::util
