#pragma once
// Random (version 4) UUIDs, as Python's uuid.uuid4() gives them.

#include <string>

namespace arunner::util {

/// A fresh random UUID in its 36-character dashed form, lowercase hex.
std::string uuid4();

/// `uuid` without its dashes (the 32-hex-digit form transmit serialises idents as).
std::string uuid_hex(const std::string& uuid);

}  // namespace arunner::util
