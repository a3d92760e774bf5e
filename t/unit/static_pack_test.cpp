// Unit tests of the site pack format (protocols/static/pack_format.*): layout then parse round
// trips, lookups, and refusal of truncated, corrupt and foreign packs.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocols/static/pack_format.hpp"

namespace manifold::pack {
namespace {

struct Built {
  std::string bytes;
  std::vector<std::string> bodies;  // by entry, "" for non-files
};

// A small site: /, /index.html (aliased by /), /a.txt with a gzip form, /dir, /dir/, /big.
Built buildSample(int64_t buildTime = 1700000000) {
  std::vector<BuildEntry> entries(6);
  std::vector<std::string> bodies(6), gzips(6);
  entries[0].path = "/";
  entries[0].aliasOf = 3;
  entries[1].path = "/a.txt";
  entries[1].type = "text/plain";
  bodies[1] = std::string(3000, 'a');
  gzips[1] = "pretend-gzip";
  entries[1].hasGzip = true;
  entries[2].path = "/big";
  entries[2].type = "application/octet-stream";
  bodies[2] = std::string(70000, 'b');
  entries[3].path = "/index.html";
  entries[3].type = "text/html";
  bodies[3] = "<h1>hi</h1>";
  entries[4].path = "/sub";
  entries[4].kind = Kind::Redirect;
  entries[5].path = "/sub/";
  entries[5].kind = Kind::Directory;
  for (size_t i = 0; i < entries.size(); ++i) {
    entries[i].mtime = 1600000000 + i;
    entries[i].bodyLength = bodies[i].size();
    hashBytes(bodies[i], entries[i].bodyHash);
    entries[i].gzipLength = gzips[i].size();
    hashBytes(gzips[i], entries[i].gzipHash);
  }
  uint64_t size = 0;
  Built out;
  out.bytes = layout(entries, buildTime, 0, size);
  for (size_t i = 0; i < entries.size(); ++i) {
    const BuildEntry& e = entries[i];
    if (e.kind != Kind::File || e.aliasOf >= 0) continue;
    out.bytes.resize(e.bodyOffset, '\0');
    out.bytes += bodies[i];
    if (e.hasGzip) {
      out.bytes.resize(e.gzipOffset, '\0');
      out.bytes += gzips[i];
    }
  }
  out.bytes.resize(size, '\0');
  out.bodies = bodies;
  return out;
}

TEST(PackFormat, LayoutThenParseFindsEveryPath) {
  Built b = buildSample();
  View v;
  std::string why;
  ASSERT_TRUE(v.parse(b.bytes, b.bytes.size(), why)) << why;
  EXPECT_EQ(v.entryCount(), 6u);
  EXPECT_EQ(v.fileCount(), 3u);  // the "/" alias is not a file of its own
  EXPECT_EQ(v.buildTime(), 1700000000);
  EXPECT_FALSE(v.sealed());
  EXPECT_EQ(v.dataOffset() % 64, 0u);

  Entry e;
  ASSERT_TRUE(v.find("/a.txt", e));
  EXPECT_EQ(e.kind, Kind::File);
  EXPECT_EQ(e.type, "text/plain");
  EXPECT_EQ(e.mtime, 1600000001);
  EXPECT_EQ(b.bytes.substr(e.bodyOffset, e.bodyLength), b.bodies[1]);
  ASSERT_TRUE(e.hasGzip);
  EXPECT_EQ(b.bytes.substr(e.gzipOffset, e.gzipLength), "pretend-gzip");
  EXPECT_EQ(e.bodyOffset % 64, 0u);
  EXPECT_EQ(e.gzipOffset % 64, 0u);

  ASSERT_TRUE(v.find("/big", e));
  EXPECT_EQ(e.bodyOffset % 4096, 0u);  // large bodies start on a page
  EXPECT_EQ(b.bytes.substr(e.bodyOffset, e.bodyLength), b.bodies[2]);

  // "/" repeats /index.html's record: same body, type and validators.
  Entry root, index;
  ASSERT_TRUE(v.find("/", root));
  ASSERT_TRUE(v.find("/index.html", index));
  EXPECT_EQ(root.bodyOffset, index.bodyOffset);
  EXPECT_EQ(root.type, "text/html");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(root.bodyHash), kHashSize),
            std::string(reinterpret_cast<const char*>(index.bodyHash), kHashSize));

  ASSERT_TRUE(v.find("/sub", e));
  EXPECT_EQ(e.kind, Kind::Redirect);
  ASSERT_TRUE(v.find("/sub/", e));
  EXPECT_EQ(e.kind, Kind::Directory);
  EXPECT_FALSE(v.find("/missing", e));
  EXPECT_FALSE(v.find("/a.tx", e));
  EXPECT_FALSE(v.find("", e));
  EXPECT_TRUE(v.verifyBodies(why)) << why;
}

TEST(PackFormat, SameInputSameBytes) {
  EXPECT_EQ(buildSample().bytes, buildSample().bytes);
  EXPECT_NE(buildSample(1).bytes, buildSample(2).bytes);  // the build time is in the header
}

TEST(PackFormat, MetadataOnlyParsesWithoutBodies) {
  Built b = buildSample();
  View v;
  std::string why;
  ASSERT_TRUE(v.parse(std::string_view(b.bytes).substr(0, 4096), b.bytes.size(), why)) << why;
  Entry e;
  EXPECT_TRUE(v.find("/big", e));
  EXPECT_FALSE(v.verifyBodies(why));  // nothing to hash
}

TEST(PackFormat, RefusesTruncatedCorruptAndForeign) {
  Built b = buildSample();
  View v;
  std::string why;
  std::string truncated = b.bytes.substr(0, b.bytes.size() - 1);
  EXPECT_FALSE(v.parse(truncated, truncated.size(), why));
  EXPECT_NE(why.find("truncated"), std::string::npos) << why;
  EXPECT_FALSE(v.parse(b.bytes.substr(0, 100), 100, why));

  std::string foreign = b.bytes;
  foreign.replace(0, 8, "GIF89a\0\0", 8);
  EXPECT_FALSE(v.parse(foreign, foreign.size(), why));
  EXPECT_NE(why.find("not a site pack"), std::string::npos) << why;

  std::string version = b.bytes;
  version[8] = 2;
  EXPECT_FALSE(v.parse(version, version.size(), why));
  EXPECT_NE(why.find("version"), std::string::npos) << why;

  // Any flipped byte of the metadata (index, buckets, strings) fails the metadata hash or a
  // bounds check.
  ASSERT_TRUE(v.parse(b.bytes, b.bytes.size(), why));
  size_t lastMeta = v.dataOffset() - 1;  // in the strings or the padding before the data
  for (size_t at : {size_t{130}, size_t{128 + 64}, size_t{128 + 6 * 128 + 3}, lastMeta}) {
    std::string corrupt = b.bytes;
    corrupt[at] ^= 0x20;
    EXPECT_FALSE(v.parse(corrupt, corrupt.size(), why)) << at;
  }
  // A flipped body byte passes the open (bodies are not hashed then) but not verifyBodies.
  std::string body = b.bytes;
  Entry e;
  ASSERT_TRUE(v.parse(b.bytes, b.bytes.size(), why));
  ASSERT_TRUE(v.find("/big", e));
  body[e.bodyOffset + 5] ^= 1;
  ASSERT_TRUE(v.parse(body, body.size(), why)) << why;
  EXPECT_FALSE(v.verifyBodies(why));
  EXPECT_EQ(why, "/big: body hash mismatch");
}

TEST(PackFormat, EtagIsHexOfTheHash) {
  uint8_t hash[kHashSize];
  hashBytes("", hash);
  char etag[34];
  formatEtag(hash, etag);
  // BLAKE2b-256 of the empty string starts 0e5751c026e543b2e8ab2eb06099daa1.
  EXPECT_EQ(std::string(etag, 34), "\"0e5751c026e543b2e8ab2eb06099daa1\"");
}

TEST(PackFormat, ManyEntriesAllFound) {
  std::vector<BuildEntry> entries(5000);
  for (size_t i = 0; i < entries.size(); ++i) {
    char name[32];
    snprintf(name, sizeof name, "/f%06zu", i);
    entries[i].path = name;
    entries[i].type = "text/plain";
  }
  uint64_t size = 0;
  std::string bytes = layout(entries, 0, 0, size);
  bytes.resize(size, '\0');
  View v;
  std::string why;
  ASSERT_TRUE(v.parse(bytes, bytes.size(), why)) << why;
  Entry e;
  for (const BuildEntry& b : entries) ASSERT_TRUE(v.find(b.path, e)) << b.path;
  EXPECT_FALSE(v.find("/f999999", e));
}

}  // namespace
}  // namespace manifold::pack
