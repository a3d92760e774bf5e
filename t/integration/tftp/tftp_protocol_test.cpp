// Tier: protocol on the wire — our own UDP client against the real binary, sending exactly
// the packets a scenario needs: error codes, the root jail, option negotiation, retransmission
// with lost packets (and no Sorcerer's Apprentice duplicates), windows with partial ACKs,
// block-number rollover, unknown TIDs, aborted uploads leaving nothing, admission limits and
// a graceful stop that lets a transfer finish.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "t/integration/lib/harness.hpp"
#include "t/integration/tftp/tftp_client.hpp"

using namespace manifold::testing;
using manifold::tftp::Mode;
using manifold::tftp::Opcode;
using manifold::tftp::Options;

namespace {

struct Fixture {
  Instance m;
  Fixture()
      : m("[tftp:main]\nlisten = 127.0.0.1:{port:main}"
          "\nroot = {dir}/root\nallow_write = on\nallow_create = on\ntimeout = 300ms\nretries = 3\n"
          "blksize_max = 2048\nwindowsize_max = 16\nmax_file_size = 1M\n"
          "[tftp:ro]\nlisten = 127.0.0.1:{port:ro}\nroot = {dir}/root\n"
          "[tftp:strict]\nlisten = 127.0.0.1:{port:strict}"
          "\nroot = {dir}/root\nallow_write = on\nallow_create = off\noverwrite = off\n"
          "[tftp:limited]\nlisten = 127.0.0.1:{port:limited}"
          "\nroot = {dir}/root\nmax_sessions_per_client = 2\nnew_session_rate = "
          "1\nnew_session_burst = 4\n",
          "", 1) {
    run("mkdir -p " + m.path("root/sub") + " " + m.path("outside"));
    writeFile(m.path("outside/secret"), "secret\n");
  }
  // The services' ports, as the instance picked them (valid once it started).
  int main() const { return m.port("main"); }
  int readOnly() const { return m.port("ro"); }
  int strict() const { return m.port("strict"); }
  int limited() const { return m.port("limited"); }
  std::string json() { return run(binPath("manifold-shm") + " -c " + m.configPath() + " --json"); }
};

// The ERROR code the server answers `name` with (-1: it answered something else or nothing).
int errorFor(int port, Opcode op, const std::string& name, Mode mode = Mode::Octet,
             const Options& o = {}) {
  TftpTestClient c(port);
  c.sendRequest(op, name, mode, o);
  TftpPacket p;
  if (!c.receive(p, 2000) || p.opcode != Opcode::Error) return -1;
  return p.number;
}

std::string block(const std::string& s, size_t n, size_t size = 512) {
  return n * size >= s.size() ? std::string() : s.substr(n * size, size);
}

std::string listing(const std::string& dir) { return run("ls -A " + dir); }

}  // namespace

TEST(TftpProtocol, ErrorCodesAndRootJail) {
  Fixture f;
  writeFile(f.m.path("root/image"), "image\n");
  ASSERT_EQ(symlink(f.m.path("outside").c_str(), f.m.path("root/out").c_str()), 0);
  ASSERT_EQ(symlink("/etc/passwd", f.m.path("root/abs").c_str()), 0);
  ASSERT_EQ(symlink("../outside/secret", f.m.path("root/rel").c_str()), 0);
  ASSERT_EQ(symlink("image", f.m.path("root/alias").c_str()), 0);
  ASSERT_TRUE(f.m.start()) << f.m.log();
  EXPECT_EQ(errorFor(f.main(), Opcode::Rrq, "missing"), 1);
  EXPECT_EQ(errorFor(f.main(), Opcode::Rrq, "sub/missing"), 1);
  for (const char* evil : {"../outside/secret", "/etc/passwd", "sub/../../outside/secret", "..",
                           "out/secret", "abs", "rel", "sub"})
    EXPECT_EQ(errorFor(f.main(), Opcode::Rrq, evil), 2) << evil;
  std::string got;
  EXPECT_TRUE(tftpGet(f.main(), "alias", got));  // a symlink that stays inside the root is fine
  EXPECT_EQ(got, "image\n");
  EXPECT_TRUE(tftpGet(f.main(), "./sub/../image", got) == false);        // ".." refused even inside
  EXPECT_EQ(errorFor(f.main(), Opcode::Rrq, "image", Mode::Octet), -1);  // DATA, not an error

  TftpTestClient c(f.main());
  c.sendRawToServer(std::string("\0\1image\0mail\0", 13));
  TftpPacket p;
  ASSERT_TRUE(c.receive(p));
  EXPECT_EQ(p.opcode, Opcode::Error);
  EXPECT_EQ(p.number, 4);
  c.sendRawToServer(std::string("\0\x09junk", 6));
  ASSERT_TRUE(c.receive(p));
  EXPECT_EQ(p.number, 4);
  c.sendRawToServer(std::string("\0\4\0\1", 4));  // an ACK on the listen port: unknown TID
  ASSERT_TRUE(c.receive(p));
  EXPECT_EQ(p.number, 5);

  // Writes: refused when disabled, no creation without allow_create, no overwrite when off.
  EXPECT_EQ(errorFor(f.readOnly(), Opcode::Wrq, "new"), 2);
  EXPECT_EQ(errorFor(f.strict(), Opcode::Wrq, "new"), 1);
  EXPECT_EQ(errorFor(f.strict(), Opcode::Wrq, "image"), 6);
  EXPECT_EQ(errorFor(f.main(), Opcode::Wrq, "../outside/new"), 2);
  EXPECT_EQ(errorFor(f.main(), Opcode::Wrq, "out/new"), 2);
  EXPECT_EQ(errorFor(f.main(), Opcode::Wrq, "nodir/new"), 1);
  EXPECT_EQ(errorFor(f.main(), Opcode::Wrq, "sub"), 2);
  Options big;
  big.hasTsize = true;
  big.tsize = 2 << 20;
  EXPECT_EQ(errorFor(f.main(), Opcode::Wrq, "huge", Mode::Octet, big), 3);
  EXPECT_EQ(listing(f.m.path("outside")), "secret\n");
  EXPECT_EQ(readFile(f.m.path("root/image")), "image\n");
  EXPECT_EQ(f.m.stop(), 0);
}

TEST(TftpProtocol, OptionNegotiation) {
  Fixture f;
  std::string content = makeContent(100000, 7);
  writeFile(f.m.path("root/file"), content);
  ASSERT_TRUE(f.m.start()) << f.m.log();
  {
    TftpTestClient c(f.main());
    // Unknown and out-of-range options are ignored; blksize and windowsize are capped by config.
    std::string req = std::string("\0\1file\0octet\0", 13) +
                      std::string(
                          "BlkSize\0"
                          "4096\0",
                          13) +
                      std::string(
                          "windowsize\0"
                          "200\0",
                          15) +
                      std::string(
                          "tsize\0"
                          "0\0",
                          8) +
                      std::string(
                          "timeout\0"
                          "2\0",
                          10) +
                      std::string("foo\0bar\0", 8);
    c.sendRawToServer(req);
    TftpPacket p;
    ASSERT_TRUE(c.receive(p));
    ASSERT_EQ(p.opcode, Opcode::Oack);
    static const char kOack[] =
        "blksize\0"
        "2048\0timeout\0"
        "2\0tsize\0"
        "100000\0windowsize\0"
        "16";
    EXPECT_EQ(p.payload, std::string(kOack, sizeof kOack));
    EXPECT_NE(ntohs(p.from.sin_port), f.main());  // a fresh TID
    c.error(8, "just checking");
  }
  {
    TftpTestClient c(f.main());  // only unknown options: plain RFC 1350 answer (DATA 1)
    c.sendRawToServer(
        std::string("\0\1file\0octet\0foo\0"
                    "1\0",
                    19));
    TftpPacket p;
    ASSERT_TRUE(c.receive(p));
    EXPECT_EQ(p.opcode, Opcode::Data);
    EXPECT_EQ(p.number, 1);
    EXPECT_EQ(p.payload.size(), 512u);
    c.error(0, "done");
  }
  std::string got;
  Options o;
  o.hasBlksize = o.hasWindowsize = true;
  o.blksize = 1428;
  o.windowsize = 8;
  ASSERT_TRUE(tftpGet(f.main(), "file", got, o));
  EXPECT_TRUE(got == content);
  EXPECT_EQ(f.m.stop(), 0);
}

TEST(TftpProtocol, LostPacketsRetransmitAndDuplicateAcksSendNothing) {
  Fixture f;
  std::string content = makeContent(512 * 3 + 100, 8);
  writeFile(f.m.path("root/file"), content);
  ASSERT_TRUE(f.m.start()) << f.m.log();
  TftpTestClient c(f.main());
  c.sendRequest(Opcode::Rrq, "file");
  TftpPacket p;
  ASSERT_TRUE(c.receive(p));
  ASSERT_EQ(p.number, 1);
  // We "lose" DATA 1: no ACK. The server resends it after its 300 ms timeout.
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(c.receive(p, 2000));
  auto waited =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_EQ(p.opcode, Opcode::Data);
  EXPECT_EQ(p.number, 1);
  EXPECT_GE(waited, 200);
  EXPECT_TRUE(p.payload == block(content, 0));
  c.ack(1);
  ASSERT_TRUE(c.receive(p));
  EXPECT_EQ(p.number, 2);
  // A duplicate ACK 1 (say, delayed in the network) must not trigger a second DATA 2.
  c.ack(1);
  c.ack(1);
  EXPECT_FALSE(c.receive(p, 150)) << "duplicate ACK answered with block " << p.number;
  c.ack(2);
  ASSERT_TRUE(c.receive(p));
  EXPECT_EQ(p.number, 3);
  c.ack(3);
  ASSERT_TRUE(c.receive(p));
  EXPECT_EQ(p.number, 4);
  EXPECT_TRUE(p.payload == block(content, 3));
  c.ack(4);
  EXPECT_FALSE(c.receive(p, 800)) << "nothing after the last ACK";
  std::string json = f.json();
  EXPECT_NE(json.find("\"retransmits\":1,"), std::string::npos) << json;
  EXPECT_NE(json.find("\"transfers_finished\":1,"), std::string::npos) << json;
  EXPECT_EQ(f.m.stop(), 0);
}

TEST(TftpProtocol, WindowWithPartialAck) {
  Fixture f;
  std::string content = makeContent(512 * 10 + 80, 9);  // blocks 1..10 full, 11 short
  writeFile(f.m.path("root/file"), content);
  ASSERT_TRUE(f.m.start()) << f.m.log();
  TftpTestClient c(f.main());
  Options o;
  o.hasWindowsize = true;
  o.windowsize = 4;
  c.sendRequest(Opcode::Rrq, "file", Mode::Octet, o);
  TftpPacket p;
  ASSERT_TRUE(c.receive(p));
  ASSERT_EQ(p.opcode, Opcode::Oack);
  c.ack(0);
  auto expectBlocks = [&](int from, int to) {
    for (int b = from; b <= to; ++b) {
      ASSERT_TRUE(c.receive(p)) << "block " << b;
      ASSERT_EQ(p.opcode, Opcode::Data);
      EXPECT_EQ(p.number, b);
      EXPECT_TRUE(p.payload == block(content, b - 1)) << b;
    }
  };
  expectBlocks(1, 4);
  c.ack(2);  // block 3 "lost": the window restarts at 3 at once
  expectBlocks(3, 6);
  c.ack(6);
  expectBlocks(7, 10);
  c.ack(6);  // a duplicate of an old ACK: ignored
  EXPECT_FALSE(c.receive(p, 150));
  c.ack(10);
  expectBlocks(11, 11);
  EXPECT_EQ(p.payload.size(), 80u);
  c.ack(11);
  EXPECT_FALSE(c.receive(p, 500));
  EXPECT_EQ(f.m.stop(), 0);
}

TEST(TftpProtocol, UploadWithLostAckGapAndRetransmittedAck) {
  Fixture f;
  ASSERT_TRUE(f.m.start()) << f.m.log();
  std::string content = makeContent(512 * 2 + 10, 10);
  TftpTestClient c(f.main());
  c.sendRequest(Opcode::Wrq, "up.bin");
  TftpPacket p;
  ASSERT_TRUE(c.receive(p));
  ASSERT_EQ(p.opcode, Opcode::Ack);
  ASSERT_EQ(p.number, 0);
  c.data(1, block(content, 0));
  ASSERT_TRUE(c.receive(p));
  EXPECT_EQ(p.number, 1);
  c.data(1, block(content, 0));  // we "lost" ACK 1: resend DATA 1 -> ACK 1 again
  ASSERT_TRUE(c.receive(p));
  EXPECT_EQ(p.number, 1);
  c.data(3, block(content, 2));  // a gap: nothing more until progress (no ACK storm)...
  c.data(1, block(content, 0));
  EXPECT_FALSE(c.receive(p, 150));
  ASSERT_TRUE(c.receive(p, 1000));  // ...but the server's own timer repeats ACK 1
  EXPECT_EQ(p.number, 1);
  EXPECT_FALSE(fileExists(f.m.path("root/up.bin")));
  c.data(2, block(content, 1));
  ASSERT_TRUE(c.receive(p));
  EXPECT_EQ(p.number, 2);
  c.data(3, block(content, 2));
  ASSERT_TRUE(c.receive(p));
  EXPECT_EQ(p.number, 3);
  EXPECT_TRUE(readFile(f.m.path("root/up.bin")) == content);
  c.data(3, block(content, 2));  // final ACK lost: the dallying session answers again
  ASSERT_TRUE(c.receive(p));
  EXPECT_EQ(p.opcode, Opcode::Ack);
  EXPECT_EQ(p.number, 3);
  EXPECT_EQ(f.m.stop(), 0);
}

TEST(TftpProtocol, AbortedUploadsLeaveNothing) {
  Fixture f;
  writeFile(f.m.path("root/existing"), "old\n");
  ASSERT_TRUE(f.m.start()) << f.m.log();
  std::string before = listing(f.m.path("root"));
  std::string content = makeContent(512 * 8, 11);
  {
    TftpTestClient c(f.main());  // client vanishes midway
    c.sendRequest(Opcode::Wrq, "vanish.bin");
    TftpPacket p;
    ASSERT_TRUE(c.receive(p));
    for (int b = 1; b <= 3; ++b) {
      c.data(static_cast<uint16_t>(b), block(content, b - 1));
      ASSERT_TRUE(c.receive(p));
    }
  }
  {
    TftpTestClient c(f.main());  // client gives up with an ERROR while replacing a file
    c.sendRequest(Opcode::Wrq, "existing");
    TftpPacket p;
    ASSERT_TRUE(c.receive(p));
    c.data(1, block(content, 0));
    ASSERT_TRUE(c.receive(p));
    c.error(0, "user abort");
  }
  {
    TftpTestClient c(f.main());  // more than max_file_size (1M): error 3
    c.sendRequest(Opcode::Wrq, "toobig.bin");
    TftpPacket p;
    ASSERT_TRUE(c.receive(p));
    std::string chunk(512, 'z');
    int code = -1;
    for (int b = 1; b <= 2100 && code < 0; ++b) {
      c.data(static_cast<uint16_t>(b), chunk);
      ASSERT_TRUE(c.receive(p));
      if (p.opcode == Opcode::Error) code = p.number;
    }
    EXPECT_EQ(code, 3);
  }
  EXPECT_EQ(listing(f.m.path("root")), before);
  usleep(1600 * 1000);  // 300 ms x (3 retries + 1) and then some: the vanished one times out
  EXPECT_EQ(listing(f.m.path("root")), before);
  EXPECT_EQ(readFile(f.m.path("root/existing")), "old\n");
  std::string json = f.json();
  EXPECT_NE(json.find("\"transfers_failed\":3,"), std::string::npos) << json;
  EXPECT_NE(json.find("\"transfers_active\":0,"), std::string::npos) << json;
  EXPECT_EQ(f.m.stop(), 0);
}

TEST(TftpProtocol, UnknownTidGetsErrorFiveAndTransferGoesOn) {
  Fixture f;
  std::string content = makeContent(512 * 2 + 1, 12);
  writeFile(f.m.path("root/file"), content);
  ASSERT_TRUE(f.m.start()) << f.m.log();
  TftpTestClient c(f.main());
  c.sendRequest(Opcode::Rrq, "file");
  TftpPacket p;
  ASSERT_TRUE(c.receive(p));
  ASSERT_EQ(p.number, 1);
  TftpTestClient intruder(f.main());
  intruder.sendRaw(std::string("\0\4\0\1", 4), c.tid());
  ASSERT_TRUE(intruder.receive(p));
  EXPECT_EQ(p.opcode, Opcode::Error);
  EXPECT_EQ(p.number, 5);
  EXPECT_EQ(p.from.sin_port, c.tid().sin_port);
  EXPECT_FALSE(c.receive(p, 100));  // the real client saw nothing of it
  std::string got = block(content, 0);
  for (uint16_t b = 1; b <= 3; ++b) {
    c.ack(b);
    if (b == 3) break;
    ASSERT_TRUE(c.receive(p));
    EXPECT_EQ(p.number, b + 1);
    got += p.payload;
  }
  EXPECT_TRUE(got == content);
  EXPECT_EQ(f.m.stop(), 0);
}

// Sessions run on a connected socket pair while fds are plentiful (an eighth of the fd limit:
// 8 here) and on one unconnected socket beyond: both answer a stray TID with error 5.
TEST(TftpProtocol, UnknownTidOnConnectedAndUnconnectedSessions) {
  Instance m(
      "[tftp:main]\nlisten = 127.0.0.1:{port:main}"
      "\nroot = {dir}/root\ntimeout = 300ms\nretries = 10\n",
      "worker_rlimit_nofile = 64", 1);
  run("mkdir -p " + m.path("root"));
  std::string content = makeContent(512 * 2 + 1, 14);
  writeFile(m.path("root/file"), content);
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("main");
  std::vector<std::unique_ptr<TftpTestClient>> clients;
  for (int i = 0; i < 10; ++i) {  // 8 connected, then 2 unconnected
    clients.push_back(std::make_unique<TftpTestClient>(port));
    clients.back()->sendRequest(Opcode::Rrq, "file");
    TftpPacket p;
    ASSERT_TRUE(clients.back()->receive(p));
    ASSERT_EQ(p.number, 1);
  }
  for (int i : {0, 9}) {
    TftpTestClient& c = *clients[i];
    TftpTestClient intruder(port);
    intruder.sendRaw(std::string("\0\4\0\1", 4), c.tid());
    TftpPacket p;
    ASSERT_TRUE(intruder.receive(p)) << i;
    EXPECT_EQ(p.opcode, Opcode::Error);
    EXPECT_EQ(p.number, 5);
    EXPECT_EQ(p.from.sin_port, c.tid().sin_port);
    c.ack(1);
    do ASSERT_TRUE(c.receive(p)) << i;  // skips block 1 resent on a timeout
    while (p.opcode == Opcode::Data && p.number == 1);
    EXPECT_EQ(p.opcode, Opcode::Data);
    EXPECT_EQ(p.number, 2);
    EXPECT_TRUE(p.payload == block(content, 1)) << i;
  }
  for (auto& c : clients) c->error(0, "done");
  EXPECT_EQ(m.stop(), 0);
}

TEST(TftpProtocol, BlockNumbersRollOverBothWays) {
  Fixture f;
  std::string content = makeContent(8 * 65600 + 3, 13);  // 65601 blocks of 8 bytes
  writeFile(f.m.path("root/big"), content);
  ASSERT_TRUE(f.m.start()) << f.m.log();
  Options o;
  o.hasBlksize = o.hasWindowsize = true;
  o.blksize = 8;
  o.windowsize = 16;
  std::string got;
  ASSERT_TRUE(tftpGet(f.main(), "big", got, o));
  EXPECT_TRUE(got == content);

  TftpTestClient c(f.main());
  c.sendRequest(Opcode::Wrq, "rolled", Mode::Octet, o);
  TftpPacket p;
  ASSERT_TRUE(c.receive(p));
  ASSERT_EQ(p.opcode, Opcode::Oack);
  size_t blocks = content.size() / 8 + 1;
  for (size_t b = 1; b <= blocks; ++b) {
    c.data(static_cast<uint16_t>(b), content.substr((b - 1) * 8, 8));
    if (b % 16 == 0 || b == blocks) {
      ASSERT_TRUE(c.receive(p)) << b;
      ASSERT_EQ(p.opcode, Opcode::Ack) << p.payload;
      ASSERT_EQ(p.number, static_cast<uint16_t>(b));
    }
  }
  EXPECT_TRUE(readFile(f.m.path("root/rolled")) == content);
  EXPECT_EQ(f.m.stop(), 0);
}

TEST(TftpProtocol, AdmissionLimitsAndDuplicateRequests) {
  Fixture f;
  writeFile(f.m.path("root/file"), std::string(2000, 'a'));
  ASSERT_TRUE(f.m.start()) << f.m.log();
  TftpPacket p;
  {
    TftpTestClient c(f.main());  // the same request twice: one session, one DATA 1
    c.sendRequest(Opcode::Rrq, "file");
    c.sendRequest(Opcode::Rrq, "file");
    ASSERT_TRUE(c.receive(p));
    EXPECT_EQ(p.number, 1);
    EXPECT_FALSE(c.receive(p, 150));
    c.error(0, "done");
  }
  // limited: 2 sessions per client, then error 0; a burst of 4 new sessions, then silence.
  TftpTestClient a(f.limited()), b(f.limited()), c(f.limited()), d(f.limited()), e(f.limited());
  a.sendRequest(Opcode::Rrq, "file");
  ASSERT_TRUE(a.receive(p));
  EXPECT_EQ(p.opcode, Opcode::Data);
  b.sendRequest(Opcode::Rrq, "file");
  ASSERT_TRUE(b.receive(p));
  EXPECT_EQ(p.opcode, Opcode::Data);
  c.sendRequest(Opcode::Rrq, "file");
  ASSERT_TRUE(c.receive(p));
  EXPECT_EQ(p.opcode, Opcode::Error);
  EXPECT_EQ(p.number, 0);
  d.sendRequest(Opcode::Rrq, "file");
  ASSERT_TRUE(d.receive(p));
  EXPECT_EQ(p.opcode, Opcode::Error);
  e.sendRequest(Opcode::Rrq, "file");  // the fifth request in a second: dropped silently
  EXPECT_FALSE(e.receive(p, 300));
  std::string json = f.json();
  EXPECT_NE(json.find("\"sessions_refused\":3"), std::string::npos) << json;
  a.error(0, "done");
  b.error(0, "done");
  EXPECT_EQ(f.m.stop(), 0);
}

TEST(TftpProtocol, GracefulStopLetsTransfersFinish) {
  Fixture f;
  std::string content = makeContent(512 * 4 + 5, 14);
  writeFile(f.m.path("root/file"), content);
  ASSERT_TRUE(f.m.start()) << f.m.log();
  TftpTestClient c(f.main());
  c.sendRequest(Opcode::Rrq, "file");
  TftpPacket p;
  ASSERT_TRUE(c.receive(p));
  std::string got = p.payload;
  f.m.signal(SIGQUIT);
  usleep(100 * 1000);
  TftpTestClient late(f.main());
  late.sendRequest(Opcode::Rrq, "file");  // after the stop began: no new session
  for (uint16_t b = 1; b <= 4;) {
    c.ack(b);
    ASSERT_TRUE(c.receive(p)) << b;
    if (p.number != b + 1) continue;  // a retransmission while we were slow
    got += p.payload;
    ++b;
  }
  c.ack(5);
  EXPECT_FALSE(late.receive(p, 0));
  EXPECT_TRUE(got == content);
  EXPECT_EQ(f.m.stop(), 0) << f.m.log();
}
