// Tier: unit (real files in a temp dir) — the TFTP root jail open, uploads that appear only
// when committed, and shared read-only mappings.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "protocols/tftp/files.hpp"
#include "protocols/tftp/mapped_files.hpp"

using namespace manifold::tftp;

namespace {

struct TempRoot {
  std::string dir;
  int fd = -1;
  TempRoot() {
    char tmpl[] = "/tmp/tftp-files-test.XXXXXX";
    dir = mkdtemp(tmpl);
    mkdir((dir + "/root").c_str(), 0755);
    mkdir((dir + "/root/sub").c_str(), 0755);
    write("outside", "secret");
    write("root/file", "hello");
    symlink("../outside", (dir + "/root/escape").c_str());
    symlink("file", (dir + "/root/inside").c_str());
    fd = open((dir + "/root").c_str(), O_PATH | O_DIRECTORY);
  }
  ~TempRoot() {
    close(fd);
    std::system(("rm -rf " + dir).c_str());
  }
  void write(const std::string& rel, const std::string& body) {
    std::ofstream(dir + "/" + rel) << body;
  }
  std::string read(const std::string& rel) {
    std::ifstream in(dir + "/" + rel);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::string list() {
    std::string out;
    FILE* p = popen(("ls -A " + dir + "/root " + dir + "/root/sub").c_str(), "r");
    char buf[256];
    while (fgets(buf, sizeof buf, p)) out += buf;
    pclose(p);
    return out;
  }
};

}  // namespace

TEST(TftpFiles, OpenBelowRefusesEscapes) {
  TempRoot t;
  int fd = openBelow(t.fd, "inside", O_RDONLY);
  EXPECT_GE(fd, 0);
  close(fd);
  EXPECT_LT(openBelow(t.fd, "escape", O_RDONLY), 0);
  EXPECT_EQ(errno, EXDEV);
  EXPECT_LT(openBelow(t.fd, "../outside", O_RDONLY), 0);
  EXPECT_LT(openBelow(t.fd, "/etc/passwd", O_RDONLY), 0);
}

TEST(TftpFiles, UploadIsInvisibleUntilCommit) {
  TempRoot t;
  std::string before = t.list();
  {
    Upload u;
    bool exists = true;
    ASSERT_EQ(u.begin(t.fd, "sub/new", exists), 0);
    EXPECT_FALSE(exists);
    ASSERT_EQ(::write(u.fd(), "partial", 7), 7);
    EXPECT_EQ(t.list(), before);
  }  // destroyed without commit: dropped
  EXPECT_EQ(t.list(), before);
  Upload u;
  bool exists = false;
  ASSERT_EQ(u.begin(t.fd, "file", exists), 0);
  EXPECT_TRUE(exists);
  ASSERT_EQ(::write(u.fd(), "new content", 11), 11);
  EXPECT_EQ(t.read("root/file"), "hello");
  EXPECT_EQ(u.commit(false), EEXIST);  // no replacing unless asked
  EXPECT_EQ(t.read("root/file"), "hello");
  EXPECT_EQ(t.list(), before);
  ASSERT_EQ(u.begin(t.fd, "file", exists), 0);
  ASSERT_EQ(::write(u.fd(), "new content", 11), 11);
  EXPECT_EQ(u.commit(true), 0);
  EXPECT_EQ(t.read("root/file"), "new content");
  EXPECT_EQ(t.list(), before);
  EXPECT_EQ(u.begin(t.fd, "sub", exists), EISDIR);
  EXPECT_EQ(u.begin(t.fd, "escape/x", exists), EXDEV);
}

TEST(TftpFiles, MappingsAreSharedPerFileVersion) {
  TempRoot t;
  MappedFiles files;
  int a = open((t.dir + "/root/file").c_str(), O_RDONLY);
  int b = open((t.dir + "/root/file").c_str(), O_RDONLY);
  struct stat sa, sb;
  fstat(a, &sa);
  fstat(b, &sb);
  const uint8_t* m1 = files.acquire(a, sa);
  const uint8_t* m2 = files.acquire(b, sb);
  ASSERT_NE(m1, nullptr);
  EXPECT_EQ(m1, m2);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(m1), 5), "hello");
  EXPECT_EQ(files.mappings(), 1u);
  // A replaced file (new inode) gets its own mapping; the old one lives while in use.
  t.write("root/file.new", "other");
  rename((t.dir + "/root/file.new").c_str(), (t.dir + "/root/file").c_str());
  int c = open((t.dir + "/root/file").c_str(), O_RDONLY);
  struct stat sc;
  fstat(c, &sc);
  const uint8_t* m3 = files.acquire(c, sc);
  ASSERT_NE(m3, nullptr);
  EXPECT_NE(m3, m1);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(m1), 5), "hello");
  EXPECT_EQ(files.mappings(), 2u);
  files.release(m1);
  files.release(m2);
  files.release(m3);
  EXPECT_EQ(files.mappings(), 0u);
  struct stat empty = sc;
  empty.st_size = 0;
  EXPECT_EQ(files.acquire(c, empty), nullptr);
  close(a);
  close(b);
  close(c);
}
