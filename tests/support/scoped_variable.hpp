#pragma once
// An environment variable set (or unset) for the life of the object, then put back as it was.

#include <stdlib.h>

#include <string>

namespace arunner::testing {

class ScopedVariable {
  public:
    /// Sets `name` to `value`; nullptr unsets it.
    ScopedVariable(std::string name, const char* value) : name_(std::move(name)) {
        if (const char* old = ::getenv(name_.c_str())) {
            saved_ = old;
            had_ = true;
        }
        if (value != nullptr) {
            ::setenv(name_.c_str(), value, 1);
        } else {
            ::unsetenv(name_.c_str());
        }
    }
    ~ScopedVariable() {
        if (had_) {
            ::setenv(name_.c_str(), saved_.c_str(), 1);
        } else {
            ::unsetenv(name_.c_str());
        }
    }
    ScopedVariable(const ScopedVariable&) = delete;
    ScopedVariable& operator=(const ScopedVariable&) = delete;

  private:
    std::string name_;
    std::string saved_;
    bool had_ = false;
};

}  // namespace arunner::testing
