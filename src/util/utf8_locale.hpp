#pragma once
// Switches the calling thread to the C.UTF-8 locale for a scope. libarchive only treats
// non-ASCII zip entry names as UTF-8 (so Python's zipfile decodes them as UTF-8 rather than
// cp437) when the thread's codeset is UTF-8.

#include <locale.h>

namespace arunner::util {

/// While alive, this thread's LC_CTYPE is C.UTF-8; the previous locale comes back after.
class Utf8LocaleScope {
  public:
    Utf8LocaleScope() {
        locale_ = ::newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
        if (locale_ != static_cast<locale_t>(nullptr)) {
            previous_ = ::uselocale(locale_);
        }
    }
    ~Utf8LocaleScope() {
        if (locale_ != static_cast<locale_t>(nullptr)) {
            ::uselocale(previous_);
            ::freelocale(locale_);
        }
    }
    Utf8LocaleScope(const Utf8LocaleScope&) = delete;
    Utf8LocaleScope& operator=(const Utf8LocaleScope&) = delete;

  private:
    locale_t locale_ = static_cast<locale_t>(nullptr);
    locale_t previous_ = static_cast<locale_t>(nullptr);
};

}  // namespace arunner::util
