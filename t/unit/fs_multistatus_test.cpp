// Tier: unit — merging the stage nodes' PROPFIND answers (protocols/fs/multistatus).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocols/fs/multistatus.hpp"

using namespace manifold::fs;

namespace {

std::string doc(const std::vector<std::string>& hrefs, const std::string& p = "D:") {
  std::string out = "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n<" + p + "multistatus xmlns" +
                    (p.empty() ? "" : ":" + p.substr(0, p.size() - 1)) + "=\"DAV:\">\n";
  for (const auto& h : hrefs)
    out += "<" + p + "response>\n<" + p + "href>" + h + "</" + p + "href>\n<" + p + "propstat><" +
           p + "status>HTTP/1.1 200 OK</" + p + "status></" + p + "propstat>\n</" + p +
           "response>\n";
  return out + "</" + p + "multistatus>\n";
}

size_t count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST(FsMultistatus, UnionOfTheNodesListingsEachHrefOnce) {
  std::string a = doc({"/d/", "/d/f0", "/d/f2"}), b = doc({"/d/", "/d/f1", "/d/f0"}),
              c = doc({"/d/", "/d/f1", "/d/f2"});
  std::vector<std::string_view> bodies = {a, b, c};
  std::string out;
  ASSERT_TRUE(mergeMultistatus(bodies, out));
  for (const char* h : {"/d/", "/d/f0", "/d/f1", "/d/f2"})
    EXPECT_EQ(count(out, std::string("<D:href>") + h + "</D:href>"), 1u) << h << out;
  EXPECT_EQ(count(out, "<D:response>"), 4u);
  EXPECT_EQ(out.find("<?xml"), 0u);
  EXPECT_NE(out.find("</D:multistatus>"), std::string::npos);
}

TEST(FsMultistatus, DefaultNamespaceAndForeignPrefixes) {
  std::string plain = doc({"/x"}, ""), other = doc({"/y"}, "lp1:");
  std::vector<std::string_view> bodies = {plain, other};
  std::string out;
  ASSERT_TRUE(mergeMultistatus(bodies, out));
  EXPECT_EQ(count(out, "<href>/x</href>"), 1u);
  EXPECT_EQ(out.find("/y"), std::string::npos);  // another prefix: left out, not mangled
  std::vector<std::string_view> none = {"not xml", ""};
  EXPECT_FALSE(mergeMultistatus(none, out));
}
