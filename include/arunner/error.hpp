#pragma once
// The library's one error currency: a Result<T> holds either a value or an Error whose message
// names the file, flag or field at fault. Nothing in the library throws; the CLI turns an Error
// into a message on stderr and an exit code.

#include <string>
#include <utility>
#include <variant>

namespace arunner {

/// A failure a user can act on. `message` is complete: it names what is wrong and where.
struct Error {
    std::string message;
};

/// Either a T or an Error. Converts from both, so `return Error{...};` and `return value;` work.
template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : state_(std::move(value)) {}
    Result(Error error) : state_(std::move(error)) {}

    /// True when a value is held.
    bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(state_); }
    const T& value() const& { return std::get<0>(state_); }
    T&& value() && { return std::get<0>(std::move(state_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    /// The error; only valid when !ok().
    const Error& error() const { return std::get<1>(state_); }

  private:
    std::variant<T, Error> state_;
};

/// Result of an operation that yields nothing but may fail.
template <>
class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), ok_(false) {}

    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error& error() const { return error_; }

  private:
    Error error_;
    bool ok_ = true;
};

using Status = Result<void>;

}  // namespace arunner

/// Evaluates a Result-returning expression and returns its Error from the enclosing function
/// when it failed. Usable in any function whose return type converts from arunner::Error.
#define ARUNNER_TRY(expr)                       \
    do {                                        \
        auto arunner_try_result_ = (expr);      \
        if (!arunner_try_result_.ok()) {        \
            return arunner_try_result_.error(); \
        }                                       \
    } while (false)

#define ARUNNER_CONCAT_INNER_(a, b) a##b
#define ARUNNER_CONCAT_(a, b) ARUNNER_CONCAT_INNER_(a, b)

/// Evaluates a Result-returning expression; on failure returns its Error from the enclosing
/// function, else declares (or assigns) `lhs` from the value:
///   ARUNNER_ASSIGN_OR_RETURN(auto dir, open_dir(path));
///   ARUNNER_ASSIGN_OR_RETURN(existing, read_file(path));
#define ARUNNER_ASSIGN_OR_RETURN(lhs, expr) \
    ARUNNER_ASSIGN_OR_RETURN_IMPL_(ARUNNER_CONCAT_(arunner_result_, __LINE__), lhs, expr)

// `result` is a name and `lhs` a declaration (`auto x`), so neither can be parenthesized.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define ARUNNER_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr) \
    auto result = (expr);                                 \
    if (!result.ok()) {                                   \
        return result.error();                            \
    }                                                     \
    lhs = std::move(result).value()
// NOLINTEND(bugprone-macro-parentheses)
