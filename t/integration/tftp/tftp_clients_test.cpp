// Tier: end-to-end with real clients — Debian's tftp-hpa (`tftp`), atftp and curl's tftp://
// against the real binary: get and put, octet and netascii, with and without options, many
// transfers at once, and the counters in shared memory.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "t/integration/lib/harness.hpp"
#include "t/integration/tftp/tftp_client.hpp"

using namespace manifold::testing;

namespace {

bool have(const char* tool) {
  return run(std::string("command -v ") + tool + " >/dev/null && echo y") == "y\n";
}

std::string section(const std::string& extra = "") {
  return "[tftp:boot]\nlisten = 127.0.0.1:{port:boot}"
         "\nroot = {dir}/root\nallow_write = on\nallow_create = on\n" +
         extra;
}

struct Server {
  Instance m;
  explicit Server(const std::string& extra = "") : m(section(extra)) {
    run("mkdir -p " + m.path("root") + " " + m.path("local"));
  }
  int port() const { return m.port("boot"); }  // valid once m started
  std::string url(const std::string& name) const {
    return "tftp://127.0.0.1:" + std::to_string(port()) + "/" + name;
  }
  std::string hpa(const std::string& mode, const std::string& cmd) const {
    return "cd " + m.path("local") + " && timeout 30 tftp -m " + mode + " 127.0.0.1 " +
           std::to_string(port()) + " -c " + cmd + " 2>&1";
  }
  std::string atftp(const std::string& args) const {
    return "cd " + m.path("local") + " && timeout 30 atftp " + args + " 127.0.0.1 " +
           std::to_string(port()) + " 2>&1";
  }
};

}  // namespace

TEST(TftpClients, TftpHpaGetAndPutOctet) {
  ASSERT_TRUE(have("tftp")) << "tftp-hpa is not installed (make deps)";
  Server s;
  std::string content = makeContent(1500000, 1);
  writeFile(s.m.path("root/image.bin"), content);
  writeFile(s.m.path("root/empty"), "");
  writeFile(s.m.path("root/exact"), std::string(1024, 'x'));  // a multiple of 512: empty last block
  ASSERT_TRUE(s.m.start()) << s.m.log();
  int rc;
  run(s.hpa("octet", "get image.bin got.bin"), &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_TRUE(readFile(s.m.path("local/got.bin")) == content);
  run(s.hpa("octet", "get empty"), &rc);
  EXPECT_TRUE(fileExists(s.m.path("local/empty")));
  EXPECT_EQ(readFile(s.m.path("local/empty")), "");
  run(s.hpa("octet", "get exact"), &rc);
  EXPECT_EQ(readFile(s.m.path("local/exact")), std::string(1024, 'x'));
  run(s.hpa("octet", "put got.bin uploaded.bin"), &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_TRUE(readFile(s.m.path("root/uploaded.bin")) == content);
  EXPECT_EQ(s.m.stop(), 0) << s.m.log();
}

TEST(TftpClients, TftpHpaNetasciiBothWays) {
  ASSERT_TRUE(have("tftp")) << "tftp-hpa is not installed (make deps)";
  Server s;
  // Lines end in LF locally; a bare CR must survive too (CR NUL on the wire). Long enough that
  // CR LF pairs straddle 512-byte block boundaries.
  std::string text;
  for (int i = 0; text.size() < 5000; ++i)
    text += "line " + std::to_string(i) + (i % 7 ? "\n" : "\rx\n");
  writeFile(s.m.path("root/text.txt"), text);
  ASSERT_TRUE(s.m.start()) << s.m.log();
  run(s.hpa("netascii", "get text.txt"));
  EXPECT_EQ(readFile(s.m.path("local/text.txt")), text);
  run(s.hpa("netascii", "put text.txt back.txt"));
  EXPECT_EQ(readFile(s.m.path("root/back.txt")), text);
  // What actually crossed the wire: our own client sees CR LF and CR NUL.
  std::string wire, expected;
  ASSERT_TRUE(tftpGet(s.port(), "text.txt", wire, {}, nullptr, manifold::tftp::Mode::Netascii));
  for (char ch : text) {
    if (ch == '\n')
      expected += "\r\n";
    else if (ch == '\r')
      expected += std::string("\r\0", 2);
    else
      expected += ch;
  }
  EXPECT_TRUE(wire == expected);
}

TEST(TftpClients, CurlGetAndPutWithAndWithoutOptions) {
  ASSERT_TRUE(have("curl")) << "curl is not installed (make deps)";
  Server s;
  std::string content = makeContent(700000, 2);
  writeFile(s.m.path("root/file.bin"), content);
  writeFile(s.m.path("local/up.bin"), content);
  ASSERT_TRUE(s.m.start()) << s.m.log();
  int rc;
  for (std::string opts :
       {"--tftp-no-options", "", "--tftp-blksize 1428", "--tftp-blksize 65464"}) {
    run("curl -s " + opts + " " + s.url("file.bin") + " -o " + s.m.path("local/c.bin"), &rc);
    EXPECT_EQ(rc, 0) << opts;
    EXPECT_TRUE(readFile(s.m.path("local/c.bin")) == content) << opts;
    run("curl -s " + opts + " -T " + s.m.path("local/up.bin") + " " + s.url("put.bin"), &rc);
    EXPECT_EQ(rc, 0) << opts;
    EXPECT_TRUE(readFile(s.m.path("root/put.bin")) == content) << opts;
  }
  run("curl -s " + s.url("missing") + " -o /dev/null", &rc);
  EXPECT_EQ(rc, 68) << "curl: TFTP file not found";
}

TEST(TftpClients, AtftpBlksizeWindowsizeTsize) {
  ASSERT_TRUE(have("atftp")) << "atftp is not installed (make deps)";
  Server s;
  std::string content = makeContent(2 * 1024 * 1024 + 77, 3);
  writeFile(s.m.path("root/big.bin"), content);
  ASSERT_TRUE(s.m.start()) << s.m.log();
  for (std::string opts :
       {std::string(""),
        std::string("--option \"blksize 1428\" --option \"windowsize 16\" --option tsize"),
        std::string("--option \"blksize 8192\" --option \"windowsize 4\"")}) {
    std::string out = run(s.atftp(opts + " -g -r big.bin -l got.bin"));
    EXPECT_TRUE(readFile(s.m.path("local/got.bin")) == content) << opts << out;
    out = run(s.atftp(opts + " -p -l got.bin -r put.bin"));
    EXPECT_TRUE(readFile(s.m.path("root/put.bin")) == content) << opts << out;
    unlink(s.m.path("root/put.bin").c_str());
  }
}

TEST(TftpClients, HundredConcurrentGetsAndCounters) {
  ASSERT_TRUE(have("curl")) << "curl is not installed (make deps)";
  Server s;
  for (int i = 0; i < 100; ++i)
    writeFile(s.m.path("root/f" + std::to_string(i)), makeContent(20000 + i * 997, 100 + i));
  ASSERT_TRUE(s.m.start()) << s.m.log();
  std::string script = "cd " + s.m.path("local") +
                       " && for i in $(seq 0 99); do curl -s --tftp-blksize 1024 " + s.url("f$i") +
                       " -o f$i & done; wait";
  run(script);
  int same = 0;
  for (int i = 0; i < 100; ++i)
    same +=
        readFile(s.m.path("local/f" + std::to_string(i))) == makeContent(20000 + i * 997, 100 + i);
  EXPECT_EQ(same, 100);
  std::string stats = run(binPath("manifold-shm") + " -c " + s.m.configPath() + " stats");
  EXPECT_NE(stats.find("transfers_finished"), std::string::npos) << stats;
  std::string json = run(binPath("manifold-shm") + " -c " + s.m.configPath() + " --json");
  EXPECT_NE(json.find("\"transfers_finished\":100"), std::string::npos) << json;
  EXPECT_NE(json.find("\"transfers_active\":0"), std::string::npos) << json;
  EXPECT_NE(json.find("\"transfers_failed\":0"), std::string::npos) << json;
  EXPECT_EQ(s.m.stop(), 0);
}

TEST(TftpClients, Ipv6Loopback) {
  ASSERT_TRUE(have("curl") && have("tftp")) << "curl and tftp-hpa are needed (make deps)";
  Instance m("[tftp:v6]\nlisten = [::1]:{port:v6}\nroot = {dir}/root\n", "", 1);
  run("mkdir -p " + m.path("root") + " " + m.path("local"));
  std::string content = makeContent(100000, 5);
  writeFile(m.path("root/f.bin"), content);
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("v6");
  int rc;
  run("curl -s -g 'tftp://[::1]:" + std::to_string(port) + "/f.bin' -o " + m.path("local/c.bin"),
      &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_TRUE(readFile(m.path("local/c.bin")) == content);
  run("cd " + m.path("local") + " && timeout 20 tftp -6 ::1 " + std::to_string(port) +
          " -c get f.bin h.bin",
      &rc);
  EXPECT_TRUE(readFile(m.path("local/h.bin")) == content);
  EXPECT_EQ(m.stop(), 0);
}
