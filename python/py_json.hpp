#pragma once
// Events, kwargs and facts between Python objects and JSON, with the CPython API directly: the
// event handler of a 10,000-event stream converts every event both ways, so this is hot.

#include <pybind11/pybind11.h>

#include <nlohmann/json.hpp>

namespace arunner::python {

namespace py = pybind11;
using Json = nlohmann::ordered_json;

/// `value` as Python objects: mappings keep their key order; strings are decoded as UTF-8 with
/// surrogateescape, so bytes that are not UTF-8 come back unchanged through from_python.
/// Nesting deeper than 1000 levels raises ValueError (never a stack overflow).
py::object to_python(const Json& value);

/// What json.dumps would accept, as JSON: dict (keys str, int, float, bool or None, turned into
/// text as json.dumps does), list, tuple, str, int (within 64 bits), float, bool, None, and
/// os.PathLike as its path. Anything else raises TypeError ("Object of type X is not JSON
/// serializable"); nesting deeper than 1000 levels (a dict that holds itself) raises ValueError.
Json from_python(py::handle value);

/// Python's bool(value); raises what its __bool__ raises.
bool is_true(py::handle value);

}  // namespace arunner::python
