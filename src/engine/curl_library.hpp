#pragma once
// libcurl, loaded with dlopen the first time the engine is used. Linked normally, libcurl and
// the ~30 libraries it pulls in (TLS, Kerberos, LDAP, ...) are loaded by every arunner start and
// cost `arunner --version` and every local run about 20 ms; only container jobs need them.

#include <curl/curl.h>

#include "arunner/error.hpp"

namespace arunner::engine {

/// The libcurl functions the engine client calls.
struct CurlLibrary {
    CURL* (*easy_init)() = nullptr;
    CURLcode (*easy_setopt)(CURL*, CURLoption, ...) = nullptr;
    CURLcode (*easy_perform)(CURL*) = nullptr;
    CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...) = nullptr;
    void (*easy_cleanup)(CURL*) = nullptr;
    const char* (*easy_strerror)(CURLcode) = nullptr;
    curl_slist* (*slist_append)(curl_slist*, const char*) = nullptr;
    void (*slist_free_all)(curl_slist*) = nullptr;
};

/// libcurl, loaded and globally initialised once (thread-safe); an Error that says what to
/// install when it cannot be loaded.
Result<const CurlLibrary*> curl_library();

}  // namespace arunner::engine
