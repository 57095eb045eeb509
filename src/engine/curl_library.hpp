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
    // The multi interface, so that every wait goes through the caller's util::Clock.
    CURLM* (*multi_init)() = nullptr;
    CURLMcode (*multi_cleanup)(CURLM*) = nullptr;
    CURLMcode (*multi_setopt)(CURLM*, CURLMoption, ...) = nullptr;
    CURLMcode (*multi_add_handle)(CURLM*, CURL*) = nullptr;
    CURLMcode (*multi_remove_handle)(CURLM*, CURL*) = nullptr;
    CURLMcode (*multi_socket_action)(CURLM*, curl_socket_t, int, int*) = nullptr;
    CURLMcode (*multi_timeout)(CURLM*, long*) = nullptr;
    CURLMsg* (*multi_info_read)(CURLM*, int*) = nullptr;
    const char* (*multi_strerror)(CURLMcode) = nullptr;
};

/// libcurl, loaded and globally initialised once (thread-safe); an Error that says what to
/// install when it cannot be loaded.
Result<const CurlLibrary*> curl_library();

}  // namespace arunner::engine
