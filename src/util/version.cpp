#include "arunner/version.hpp"

namespace arunner {

const char* version() {
    return ARUNNER_VERSION;
}

}  // namespace arunner
