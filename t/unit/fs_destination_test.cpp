// Tier: unit — protocols/fs COPY and MOVE headers: Destination (absolute URL or path, the
// server it names), Overwrite and Depth.
#include <gtest/gtest.h>

#include <string>

#include "protocols/fs/destination.hpp"

using namespace manifold::fs;

namespace {

// The path of a valid Destination, "!" when refused, "authority|path" for a URL.
std::string dest(std::string_view value) {
  Destination d;
  if (!parseDestination(value, d)) return "!";
  return d.authority.empty() ? std::string(d.path)
                             : std::string(d.authority) + "|" + std::string(d.path);
}

}  // namespace

TEST(FsDestination, AbsoluteUrlsAndPaths) {
  EXPECT_EQ(dest("http://127.0.0.1:8100/_s2/a/b.txt"), "127.0.0.1:8100|/_s2/a/b.txt");
  EXPECT_EQ(dest("HTTPS://Store.Example/x/"), "Store.Example|/x/");
  EXPECT_EQ(dest("http://store"), "store|/");
  EXPECT_EQ(dest("  /_s1/a%20b  "), "/_s1/a%20b");  // kept encoded: placement hashes it so
  EXPECT_EQ(dest("/_s1/a#frag"), "/_s1/a");
  EXPECT_EQ(dest("http://[::1]:8100/f"), "[::1]:8100|/f");
  EXPECT_EQ(dest("/a/..b/c."), "/a/..b/c.");  // dots inside names are names
}

TEST(FsDestination, Refused) {
  for (std::string_view bad :
       {"",          "   ",         "a/b",          "ftp://h/x", "http://",
        "http:///x", "//host/x",    "http://u@h/x", "/a b",      "/a\tb",
        "/a\x7f",    "/x?y=1",      "/a/../b",      "/a/./b",    "/a/..",
        "/.",        "/a/%2e%2E/b", "/a/%2e",       "/a\\b",     "http://h x/y"})
    EXPECT_EQ(dest(bad), "!") << bad;
}

TEST(FsDestination, SameAuthority) {
  EXPECT_TRUE(sameAuthority("127.0.0.1:8100", "127.0.0.1:8100"));
  EXPECT_TRUE(sameAuthority("Store.Example", "store.example"));
  EXPECT_TRUE(sameAuthority("store.example:80", "store.example"));
  EXPECT_TRUE(sameAuthority("store.example", "store.example:443"));
  EXPECT_TRUE(sameAuthority("[::1]:80", "[::1]"));
  EXPECT_FALSE(sameAuthority("store.example:8080", "store.example"));
  EXPECT_FALSE(sameAuthority("elsewhere", "store"));
  EXPECT_FALSE(sameAuthority("store", ""));
}

TEST(FsDestination, OverwriteAndDepth) {
  EXPECT_EQ(parseOverwrite(""), Overwrite::True);
  EXPECT_EQ(parseOverwrite("T"), Overwrite::True);
  EXPECT_EQ(parseOverwrite(" F "), Overwrite::False);
  EXPECT_EQ(parseOverwrite("f"), Overwrite::False);
  EXPECT_EQ(parseOverwrite("yes"), Overwrite::Invalid);
  EXPECT_EQ(parseOverwrite("TF"), Overwrite::Invalid);
  EXPECT_EQ(parseDepth(""), Depth::Infinity);
  EXPECT_EQ(parseDepth("Infinity"), Depth::Infinity);
  EXPECT_EQ(parseDepth("0"), Depth::Zero);
  EXPECT_EQ(parseDepth("1"), Depth::One);
  EXPECT_EQ(parseDepth("2"), Depth::Invalid);
  EXPECT_EQ(parseDepth("00"), Depth::Invalid);
}
