// src/engine/curl_library.cpp: libcurl is loaded once, with every function the client calls.

#include <gtest/gtest.h>

#include "engine/curl_library.hpp"

namespace arunner::engine {
namespace {

TEST(CurlLibrary, LoadsOnceWithEveryFunction) {
    auto first = curl_library();
    ASSERT_TRUE(first.ok()) << first.error().message;
    auto second = curl_library();
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(*first, *second);  // loaded and initialised once
    const CurlLibrary& lib = **first;
    EXPECT_NE(lib.easy_setopt, nullptr);
    EXPECT_NE(lib.easy_perform, nullptr);
    EXPECT_NE(lib.easy_getinfo, nullptr);
    EXPECT_NE(lib.easy_strerror, nullptr);
    EXPECT_NE(lib.multi_setopt, nullptr);
    EXPECT_NE(lib.multi_add_handle, nullptr);
    EXPECT_NE(lib.multi_remove_handle, nullptr);
    EXPECT_NE(lib.multi_socket_action, nullptr);
    EXPECT_NE(lib.multi_timeout, nullptr);
    EXPECT_NE(lib.multi_info_read, nullptr);
    EXPECT_STREQ(lib.easy_strerror(CURLE_OK), "No error");

    // The handles the client makes can be made and freed.
    CURL* easy = lib.easy_init();
    ASSERT_NE(easy, nullptr);
    CURLM* multi = lib.multi_init();
    ASSERT_NE(multi, nullptr);
    EXPECT_EQ(lib.multi_add_handle(multi, easy), CURLM_OK);
    EXPECT_EQ(lib.multi_remove_handle(multi, easy), CURLM_OK);
    EXPECT_EQ(lib.multi_cleanup(multi), CURLM_OK);
    lib.easy_cleanup(easy);
    curl_slist* list = lib.slist_append(nullptr, "Expect:");
    ASSERT_NE(list, nullptr);
    EXPECT_STREQ(list->data, "Expect:");
    lib.slist_free_all(list);
}

}  // namespace
}  // namespace arunner::engine
