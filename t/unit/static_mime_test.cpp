// Unit tests of the media type table (protocols/static/mime.*).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "protocols/static/mime.hpp"

namespace manifold::http {
namespace {

TEST(HttpMime, EmptyTableGivesDefault) {
  MimeTable t;
  EXPECT_EQ(t.lookup("a.html"), "application/octet-stream");
}

TEST(HttpMime, Defaults) {
  MimeTable t;
  t.loadDefaults();
  struct {
    const char* ext;
    const char* type;
  } cases[] = {{"html", "text/html"},        {"htm", "text/html"},
               {"css", "text/css"},          {"js", "application/javascript"},
               {"json", "application/json"}, {"txt", "text/plain"},
               {"xml", "application/xml"},   {"svg", "image/svg+xml"},
               {"png", "image/png"},         {"jpg", "image/jpeg"},
               {"jpeg", "image/jpeg"},       {"gif", "image/gif"},
               {"webp", "image/webp"},       {"ico", "image/x-icon"},
               {"pdf", "application/pdf"},   {"wasm", "application/wasm"},
               {"mp4", "video/mp4"},         {"woff", "font/woff"},
               {"woff2", "font/woff2"},      {"gz", "application/gzip"},
               {"zip", "application/zip"},   {"tar", "application/x-tar"}};
  for (const auto& c : cases) EXPECT_EQ(t.lookup(c.ext), c.type) << c.ext;
}

TEST(HttpMime, LookupForms) {
  MimeTable t;
  t.loadDefaults();
  EXPECT_EQ(t.lookup("/a/b/index.HTML"), "text/html");
  EXPECT_EQ(t.lookup("Index.Html"), "text/html");
  EXPECT_EQ(t.lookup(".css"), "text/css");
  EXPECT_EQ(t.lookup("JS"), "application/javascript");
  EXPECT_EQ(t.lookup("/a/b.tar.gz"), "application/gzip");
  EXPECT_EQ(t.lookup("/dir.d/README"), "application/octet-stream");  // dot only in a dir
  EXPECT_EQ(t.lookup("/a/file."), "application/octet-stream");
  EXPECT_EQ(t.lookup("/a/.bashrc"), "application/octet-stream");
  EXPECT_EQ(t.lookup("/a/b.unknownext"), "application/octet-stream");
  EXPECT_EQ(t.lookup("/a/b.averyveryverylongextension"), "application/octet-stream");
  EXPECT_EQ(t.lookup(""), "application/octet-stream");
  EXPECT_EQ(t.lookup("/"), "application/octet-stream");
}

TEST(HttpMime, SetOverrides) {
  MimeTable t;
  t.loadDefaults();
  size_t n = t.size();
  t.set(".HTML", "text/html; charset=utf-8");
  EXPECT_EQ(t.size(), n);
  EXPECT_EQ(t.lookup("x.html"), "text/html; charset=utf-8");
  t.set("new", "x/new");
  EXPECT_EQ(t.size(), n + 1);
  EXPECT_EQ(t.lookup("a.NEW"), "x/new");
}

TEST(HttpMime, LoadFile) {
  std::string path = testing::TempDir() + "/manifold-mime-test.types";
  {
    std::ofstream f(path);
    f << "# comment line\n"
         "\n"
         "text/x-custom\tcst   CST2 # trailing comment\n"
         "application/javascript js\n"
         "text/javascript js mjs\r\n"
         "type/without-extensions\n";
  }
  MimeTable t;
  t.loadDefaults();
  ASSERT_TRUE(t.loadFile(path));
  EXPECT_EQ(t.lookup("a.cst"), "text/x-custom");
  EXPECT_EQ(t.lookup("a.cst2"), "text/x-custom");
  EXPECT_EQ(t.lookup("a.js"), "text/javascript");  // later line wins
  EXPECT_EQ(t.lookup("a.mjs"), "text/javascript");
  EXPECT_EQ(t.lookup("a.png"), "image/png");  // defaults kept
  std::remove(path.c_str());
  EXPECT_FALSE(t.loadFile(path));
}

TEST(HttpMime, Compressible) {
  EXPECT_TRUE(isCompressible("text/html"));
  EXPECT_TRUE(isCompressible("text/plain; charset=utf-8"));
  EXPECT_TRUE(isCompressible("TEXT/CSS"));
  EXPECT_TRUE(isCompressible("application/json"));
  EXPECT_TRUE(isCompressible("application/javascript"));
  EXPECT_TRUE(isCompressible("application/xml"));
  EXPECT_TRUE(isCompressible("image/svg+xml"));
  EXPECT_TRUE(isCompressible("application/ld+json"));
  EXPECT_TRUE(isCompressible("application/rss+xml"));
  EXPECT_TRUE(isCompressible("image/x-icon"));
  EXPECT_FALSE(isCompressible("application/wasm"));
  EXPECT_FALSE(isCompressible("image/png"));
  EXPECT_FALSE(isCompressible("image/jpeg"));
  EXPECT_FALSE(isCompressible("application/gzip"));
  EXPECT_FALSE(isCompressible("application/zip"));
  EXPECT_FALSE(isCompressible("font/woff2"));
  EXPECT_FALSE(isCompressible("video/mp4"));
  EXPECT_FALSE(isCompressible("application/octet-stream"));
  EXPECT_FALSE(isCompressible("text/"));
  EXPECT_FALSE(isCompressible(""));
}

}  // namespace
}  // namespace manifold::http
