#include "engine/curl_library.hpp"

#include <dlfcn.h>

#include <mutex>
#include <string>

namespace arunner::engine {
namespace {

template <typename Function>
bool resolve(void* library, const char* name, Function& out) {
    out = reinterpret_cast<Function>(::dlsym(library, name));
    return out != nullptr;
}

Result<const CurlLibrary*> load() {
    static CurlLibrary curl;
    // Never closed: libcurl stays loaded for the life of the process.
    void* library = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) {
        const char* why = ::dlerror();
        return Error{std::string("cannot load libcurl (libcurl.so.4), which arunner needs to talk "
                                 "to a container engine; install Debian's libcurl4: ") +
                     (why ? why : "unknown error")};
    }
    CURLcode (*global_init)(long) = nullptr;
    bool found = resolve(library, "curl_global_init", global_init) &&
                 resolve(library, "curl_easy_init", curl.easy_init) &&
                 resolve(library, "curl_easy_setopt", curl.easy_setopt) &&
                 resolve(library, "curl_easy_perform", curl.easy_perform) &&
                 resolve(library, "curl_easy_getinfo", curl.easy_getinfo) &&
                 resolve(library, "curl_easy_cleanup", curl.easy_cleanup) &&
                 resolve(library, "curl_easy_strerror", curl.easy_strerror) &&
                 resolve(library, "curl_slist_append", curl.slist_append) &&
                 resolve(library, "curl_slist_free_all", curl.slist_free_all) &&
                 resolve(library, "curl_multi_init", curl.multi_init) &&
                 resolve(library, "curl_multi_cleanup", curl.multi_cleanup) &&
                 resolve(library, "curl_multi_setopt", curl.multi_setopt) &&
                 resolve(library, "curl_multi_add_handle", curl.multi_add_handle) &&
                 resolve(library, "curl_multi_remove_handle", curl.multi_remove_handle) &&
                 resolve(library, "curl_multi_socket_action", curl.multi_socket_action) &&
                 resolve(library, "curl_multi_timeout", curl.multi_timeout) &&
                 resolve(library, "curl_multi_info_read", curl.multi_info_read) &&
                 resolve(library, "curl_multi_strerror", curl.multi_strerror);
    if (!found) {
        return Error{"libcurl.so.4 lacks a function arunner needs: " + std::string(::dlerror())};
    }
    if (global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        return Error{"libcurl failed to initialise"};
    }
    return &curl;
}

}  // namespace

Result<const CurlLibrary*> curl_library() {
    static std::once_flag once;
    static Result<const CurlLibrary*> loaded = Error{"libcurl not loaded"};
    std::call_once(once, [] { loaded = load(); });
    return loaded;
}

}  // namespace arunner::engine
