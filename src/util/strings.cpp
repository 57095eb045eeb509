#include "util/strings.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace arunner::util {

namespace {

constexpr std::string_view kSpace = " \t\n\v\f\r";

char lower_ascii(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// Whether the decimal number `text` (digits, a fraction, an exponent; no sign) is at least one:
/// enough to tell an overflow from an underflow, which are hundreds of orders of magnitude apart.
bool above_one(std::string_view text) {
    // The first nonzero digit's place: k digits before the point (k > 0), or -k zeros after it.
    long long k = 0;
    size_t i = 0;
    bool nonzero = false;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        nonzero = nonzero || text[i] != '0';
        k += nonzero ? 1 : 0;
    }
    if (i < text.size() && text[i] == '.') {
        for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
            if (nonzero) {
                continue;
            }
            nonzero = text[i] != '0';
            k -= nonzero ? 0 : 1;
        }
    }
    long long exponent = 0;
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        const bool negative = i < text.size() && text[i] == '-';
        i += i < text.size() && (text[i] == '-' || text[i] == '+') ? 1 : 0;
        for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
            exponent = std::min(exponent * 10 + (text[i] - '0'), 1LL << 40);
        }
        exponent = negative ? -exponent : exponent;
    }
    return k + exponent > 0;
}

}  // namespace

std::string_view trim(std::string_view text) {
    const size_t begin = text.find_first_not_of(kSpace);
    if (begin == std::string_view::npos) {
        return {};
    }
    const size_t end = text.find_last_not_of(kSpace);
    return text.substr(begin, end - begin + 1);
}

std::string to_lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), lower_ascii);
    return out;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return lower_ascii(x) == lower_ascii(y);
           });
}

std::optional<double> parse_double(std::string_view text) {
    const bool negative = !text.empty() && text.front() == '-';
    if (!text.empty() && (text.front() == '+' || negative)) {
        text.remove_prefix(1);  // Python's float() takes a leading '+'; from_chars does not
    }
    // from_chars also reads "nan(chars)", which float() refuses.
    if (text.empty() || text.front() == '+' || text.front() == '-' ||
        text.find('(') != std::string_view::npos) {
        return std::nullopt;
    }
    double value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ptr != end || (ec != std::errc() && ec != std::errc::result_out_of_range)) {
        return std::nullopt;
    }
    if (ec == std::errc::result_out_of_range) {
        // As float(): beyond the largest double is infinity, below the smallest is zero.
        value = above_one(text) ? std::numeric_limits<double>::infinity() : 0.0;
    }
    return negative ? -value : value;
}

std::string duration_text(long long milliseconds) {
    return milliseconds % 1000 == 0 ? std::to_string(milliseconds / 1000) + " s"
                                    : std::to_string(milliseconds) + " ms";
}

Status check_seconds(double value, const std::string& key, const std::string& source) {
    std::string where = source.empty() ? key : source + ": " + key;
    if (std::isnan(value)) {
        return Error{where + " must be a number of seconds, not NaN"};
    }
    if (value < 0) {
        return Error{where + " must not be negative"};
    }
    if (!(value <= kMaxSeconds)) {
        return Error{where + " is too large: at most " +
                     std::to_string(static_cast<long long>(kMaxSeconds)) +
                     " seconds (ten years) are allowed"};
    }
    return {};
}

}  // namespace arunner::util
