#include "py_json.hpp"

#include <cmath>
#include <string>

namespace arunner::python {
namespace {

// Python's own recursion limit, which json.loads/json.dumps stop at; also what a worker stream's
// events may nest (stream/processor.cpp), so every event a processor accepts converts.
constexpr int kMaxDepth = 1000;

[[noreturn]] void too_deep() {
    throw py::value_error("the value is nested more than 1000 levels deep (a circular reference?)");
}

py::object steal(PyObject* object) {
    if (object == nullptr) {
        throw py::error_already_set();
    }
    return py::reinterpret_steal<py::object>(object);
}

py::object text_to_python(const std::string& text) {
    return steal(
        PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "surrogateescape"));
}

py::object to_python_at(const Json& value, int depth) {
    if (depth > kMaxDepth) {
        too_deep();
    }
    switch (value.type()) {
        case Json::value_t::null:
        case Json::value_t::discarded:
            return py::none();
        case Json::value_t::boolean:
            return py::bool_(value.get<bool>());
        case Json::value_t::number_integer:
            return steal(PyLong_FromLongLong(value.get<long long>()));
        case Json::value_t::number_unsigned:
            return steal(PyLong_FromUnsignedLongLong(value.get<unsigned long long>()));
        case Json::value_t::number_float:
            return steal(PyFloat_FromDouble(value.get<double>()));
        case Json::value_t::string:
            return text_to_python(value.get_ref<const std::string&>());
        case Json::value_t::binary:
            return py::none();
        case Json::value_t::array: {
            py::object list = steal(PyList_New(static_cast<Py_ssize_t>(value.size())));
            Py_ssize_t i = 0;
            for (const auto& item : value) {
                // PyList_SET_ITEM steals the reference.
                PyList_SET_ITEM(list.ptr(), i++, to_python_at(item, depth + 1).release().ptr());
            }
            return list;
        }
        case Json::value_t::object: {
            py::object dict = steal(PyDict_New());
            for (const auto& [key, item] : value.items()) {
                py::object k = text_to_python(key);
                py::object v = to_python_at(item, depth + 1);
                if (PyDict_SetItem(dict.ptr(), k.ptr(), v.ptr()) != 0) {
                    throw py::error_already_set();
                }
            }
            return dict;
        }
    }
    return py::none();
}

std::string python_text(PyObject* text) {
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(text, &size);
    if (data != nullptr) {
        return {data, static_cast<size_t>(size)};
    }
    // Lone surrogates (bytes that were not UTF-8, decoded with surrogateescape).
    PyErr_Clear();
    py::object bytes = steal(PyUnicode_AsEncodedString(text, "utf-8", "surrogateescape"));
    return {PyBytes_AS_STRING(bytes.ptr()), static_cast<size_t>(PyBytes_GET_SIZE(bytes.ptr()))};
}

[[noreturn]] void not_serializable(py::handle value) {
    throw py::type_error("Object of type " +
                         py::str(py::type::handle_of(value).attr("__name__")).cast<std::string>() +
                         " is not JSON serializable");
}

std::string key_text(py::handle key) {
    PyObject* k = key.ptr();
    if (PyUnicode_Check(k)) {
        return python_text(k);
    }
    // json.dumps turns these keys into text: True -> "true", None -> "null", 1 -> "1".
    if (k == Py_True) {
        return "true";
    }
    if (k == Py_False) {
        return "false";
    }
    if (k == Py_None) {
        return "null";
    }
    if (PyLong_Check(k) || PyFloat_Check(k)) {
        return py::repr(key).cast<std::string>();
    }
    throw py::type_error("keys must be str, int, float, bool or None, not " +
                         py::str(py::type::handle_of(key).attr("__name__")).cast<std::string>());
}

Json from_python_at(py::handle value, int depth) {
    if (depth > kMaxDepth) {
        too_deep();
    }
    PyObject* v = value.ptr();
    if (v == Py_None) {
        return nullptr;
    }
    if (PyBool_Check(v)) {
        return v == Py_True;
    }
    if (PyUnicode_Check(v)) {
        return python_text(v);
    }
    if (PyLong_Check(v)) {
        int overflow = 0;
        long long number = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (overflow == 0) {
            if (number == -1 && PyErr_Occurred()) {
                throw py::error_already_set();
            }
            return number;
        }
        if (overflow > 0) {
            unsigned long long big = PyLong_AsUnsignedLongLong(v);
            if (!PyErr_Occurred()) {
                return big;
            }
            PyErr_Clear();
        }
        throw py::value_error("the integer " + py::repr(value).cast<std::string>() +
                              " does not fit in 64 bits");
    }
    if (PyFloat_Check(v)) {
        return PyFloat_AS_DOUBLE(v);
    }
    if (PyDict_Check(v)) {
        Json object = Json::object();
        PyObject* key = nullptr;
        PyObject* item = nullptr;
        Py_ssize_t position = 0;
        while (PyDict_Next(v, &position, &key, &item)) {
            object[key_text(key)] = from_python_at(item, depth + 1);
        }
        return object;
    }
    if (PyList_Check(v) || PyTuple_Check(v)) {
        py::object items = steal(PySequence_Fast(v, "a list"));
        Py_ssize_t size = PySequence_Fast_GET_SIZE(items.ptr());
        Json array = Json::array();
        for (Py_ssize_t i = 0; i < size; ++i) {
            array.push_back(from_python_at(PySequence_Fast_GET_ITEM(items.ptr(), i), depth + 1));
        }
        return array;
    }
    if (PyObject_HasAttrString(v, "__fspath__") != 0) {
        py::object path = steal(PyOS_FSPath(v));
        if (PyUnicode_Check(path.ptr())) {
            return python_text(path.ptr());
        }
    }
    if (PyObject_IsInstance(v, reinterpret_cast<PyObject*>(&PyDict_Type)) == 0 &&
        PyMapping_Check(v) != 0 && PyObject_HasAttrString(v, "items") != 0) {
        // Other mappings (OrderedDict is a dict; this is for Mapping implementations).
        Json object = Json::object();
        py::object pairs = value.attr("items")();
        for (py::handle pair : pairs) {
            py::tuple kv = py::reinterpret_borrow<py::tuple>(pair);
            object[key_text(kv[0])] = from_python_at(kv[1], depth + 1);
        }
        return object;
    }
    not_serializable(value);
}

}  // namespace

bool is_true(py::handle value) {
    int truth = PyObject_IsTrue(value.ptr());
    if (truth < 0) {
        throw py::error_already_set();
    }
    return truth != 0;
}

py::object to_python(const Json& value) {
    return to_python_at(value, 0);
}

Json from_python(py::handle value) {
    return from_python_at(value, 0);
}

}  // namespace arunner::python
