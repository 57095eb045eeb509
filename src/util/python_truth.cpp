#include "util/python_truth.hpp"

#include <cstdint>
#include <string>

namespace arunner::util {

bool python_truthy(const nlohmann::ordered_json& value) {
    if (value.is_null()) {
        return false;
    }
    if (value.is_boolean()) {
        return value.get<bool>();
    }
    if (value.is_number_unsigned()) {
        return value.get<uint64_t>() != 0;
    }
    if (value.is_number_integer()) {
        return value.get<int64_t>() != 0;
    }
    if (value.is_number_float()) {
        return value.get<double>() != 0.0;  // NaN is true, as in Python
    }
    if (value.is_string()) {
        return !value.get_ref<const std::string&>().empty();
    }
    if (value.is_binary()) {
        return !value.get_binary().empty();  // nlohmann's empty() is false for every binary
    }
    if (value.is_array() || value.is_object()) {
        return !value.empty();
    }
    return true;
}

}  // namespace arunner::util
