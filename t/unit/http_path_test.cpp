// Unit tests of path normalisation and escaping (protocols/http/path.*).
#include <gtest/gtest.h>

#include <string>

#include "protocols/http/path.hpp"

namespace manifold::http {
namespace {

using namespace std::string_literals;

std::string norm(std::string_view in) {
  std::string out = "garbage";
  if (!normalizePath(in, out)) return "<fail>";
  return out;
}

TEST(HttpPath, Plain) {
  EXPECT_EQ(norm("/"), "/");
  EXPECT_EQ(norm("/index.html"), "/index.html");
  EXPECT_EQ(norm("/a/b/c.txt"), "/a/b/c.txt");
  EXPECT_EQ(norm("/dir/"), "/dir/");
  EXPECT_EQ(norm("/...."), "/....");
  EXPECT_EQ(norm("/.hidden/..x"), "/.hidden/..x");
}

TEST(HttpPath, DotSegmentsAndSlashes) {
  EXPECT_EQ(norm("/a/./b//c/../d"), "/a/b/d");
  EXPECT_EQ(norm("//a///b"), "/a/b");
  EXPECT_EQ(norm("/a//"), "/a/");
  EXPECT_EQ(norm("/a/b/.."), "/a/");
  EXPECT_EQ(norm("/a/b/."), "/a/b/");
  EXPECT_EQ(norm("/a/.."), "/");
  EXPECT_EQ(norm("/."), "/");
  EXPECT_EQ(norm("/./"), "/");
  EXPECT_EQ(norm("/a/b/../../c"), "/c");
  EXPECT_EQ(norm("/a/b/../../c/"), "/c/");
  EXPECT_EQ(norm("/a/./../b"), "/b");
}

TEST(HttpPath, TraversalIsRefused) {
  EXPECT_EQ(norm("/../etc/passwd"), "<fail>");
  EXPECT_EQ(norm("/.."), "<fail>");
  EXPECT_EQ(norm("/../"), "<fail>");
  EXPECT_EQ(norm("/a/../../etc/passwd"), "<fail>");
  EXPECT_EQ(norm("/%2e%2e/%2e%2e/etc/passwd"), "<fail>");
  EXPECT_EQ(norm("/%2E%2E"), "<fail>");
  EXPECT_EQ(norm("/.%2e/x"), "<fail>");
  EXPECT_EQ(norm("/a/%2e%2e%2f%2e%2e%2fetc"), "<fail>");  // encoded slashes separate too
  EXPECT_EQ(norm("/a/b/%2E%2E/%2e%2E/%2e%2e/x"), "<fail>");
  EXPECT_EQ(norm("/a/%2E%2E/%2e%2E/b"), "<fail>");  // a, up, up: above the root
  // Climbing inside the tree is fine.
  EXPECT_EQ(norm("/a/c/%2E%2E/%2e%2E/b"), "/b");
  EXPECT_EQ(norm("/a/%2E%2E/b"), "/b");
}

TEST(HttpPath, PercentDecoding) {
  EXPECT_EQ(norm("/a%20b"), "/a b");
  EXPECT_EQ(norm("/%41%62%63"), "/Abc");
  EXPECT_EQ(norm("/%c3%a9t%C3%A9"), "/\xc3\xa9t\xc3\xa9");
  EXPECT_EQ(norm("/100%25"), "/100%");
  EXPECT_EQ(norm("/%2525"), "/%25");  // decoded once only
  EXPECT_EQ(norm("/a%2Fb"), "/a/b");
  EXPECT_EQ(norm("/a%2f"), "/a/");
  EXPECT_EQ(norm("/a+b"), "/a+b");  // '+' is not a space in paths
}

TEST(HttpPath, BadEncodingAndControlsAreRefused) {
  EXPECT_EQ(norm("/a%00b"), "<fail>");
  EXPECT_EQ(norm("/%00"), "<fail>");
  EXPECT_EQ(norm("/a%0d%0aSet-Cookie:x"), "<fail>");
  EXPECT_EQ(norm("/a%1f"), "<fail>");
  EXPECT_EQ(norm("/a%7F"), "<fail>");
  EXPECT_EQ(norm("/a%zz"), "<fail>");
  EXPECT_EQ(norm("/a%4"), "<fail>");
  EXPECT_EQ(norm("/a%"), "<fail>");
  EXPECT_EQ(norm("/a%%41"), "<fail>");
  EXPECT_EQ(norm("/a\tb"), "<fail>");
  EXPECT_EQ(norm("/a\0b"s), "<fail>");
  EXPECT_EQ(norm(""), "<fail>");
  EXPECT_EQ(norm("a/b"), "<fail>");
  EXPECT_EQ(norm("*"), "<fail>");
}

TEST(HttpPath, OutputIsReplacedNotAppended) {
  std::string out = "/previous";
  ASSERT_TRUE(normalizePath("/x", out));
  EXPECT_EQ(out, "/x");
}

TEST(HttpPath, PercentEncode) {
  EXPECT_EQ(percentEncodePath("/a b/c"), "/a%20b/c");
  EXPECT_EQ(percentEncodePath("/AZaz09-._~/"), "/AZaz09-._~/");
  EXPECT_EQ(percentEncodePath("/%?#&\"<>'"), "/%25%3F%23%26%22%3C%3E%27");
  EXPECT_EQ(percentEncodePath("/\xc3\xa9\r\n"), "/%C3%A9%0D%0A");
  // Round trip through normalizePath.
  std::string out;
  ASSERT_TRUE(normalizePath(percentEncodePath("/we ird/na%me?.txt"), out));
  EXPECT_EQ(out, "/we ird/na%me?.txt");
}

TEST(HttpPath, HtmlEscape) {
  EXPECT_EQ(htmlEscape("plain"), "plain");
  EXPECT_EQ(htmlEscape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(htmlEscape(""), "");
}

}  // namespace
}  // namespace manifold::http
