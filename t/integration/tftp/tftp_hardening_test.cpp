// Tier: protocol on the wire — TFTP as a reflector and session pinning (issue #11.4): a request
// from a source that never answers (it may be spoofed) gets at most two packets and no ERROR;
// a timeout option beyond timeout_max is declined, so such a session is gone in seconds;
// unanswered sessions are capped per source and in total (silently) while answered ones go on;
// and a reload does not wait for unanswered sessions.
#include <gtest/gtest.h>
#include <signal.h>

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

// An instance with one [tftp:main] section (`extra` keys added) serving root/file (3 blocks).
std::unique_ptr<Instance> startTftp(const std::string& extra = "") {
  auto m = std::make_unique<Instance>(
      "[tftp:main]\nlisten = 127.0.0.1:{port:main}\nroot = {dir}/root\nnew_session_rate = 0\n" +
          extra,
      "", 1);
  run("mkdir -p " + m->path("root"));
  writeFile(m->path("root/file"), makeContent(1200, 3));
  if (!m->start()) ADD_FAILURE() << m->log();
  return m;
}

std::string json(const Instance& m) {
  return run(binPath("manifold-shm") + " -c " + m.configPath() + " --json");
}

bool jsonHas(const Instance& m, const std::string& needle, int waitMs) {
  auto start = Clock::now();
  do {
    if (json(m).find(needle) != std::string::npos) return true;
    sleepMs(100);
  } while (msSince(start) < waitMs);
  return false;
}

// Whether a request from `c` gets its first DATA (false: no answer within 1 s).
bool admitted(TftpTestClient& c) {
  c.sendRequest(Opcode::Rrq, "file");
  TftpPacket p;
  return c.receive(p, 1000) && p.opcode == Opcode::Data;
}

}  // namespace

// One 16-byte spoofable request used to draw 6 DATA and an ERROR (retries = 5) at its source;
// a WRQ, 6 ACK 0 and an ERROR.
TEST(TftpHardening, UnansweredRequestGetsAtMostTwoPackets) {
  auto m = startTftp("allow_write = on\nallow_create = on\n");
  TftpTestClient reader(m->port("main")), writer(m->port("main"));
  reader.sendRequest(Opcode::Rrq, "file");
  writer.sendRequest(Opcode::Wrq, "upload");
  int data = 0, acks = 0, other = 0;
  auto start = Clock::now();
  TftpPacket p;
  // The default timeout is 1 s: old code sent 7 in 6 s. Listening stops 1.5 s (past a timeout)
  // after both sessions are gone, since nothing can send after that.
  double endedAt = -1;
  while (msSince(start) < 7000 && (endedAt < 0 || msSince(start) < endedAt + 1500)) {
    if (reader.receive(p, 100)) (p.opcode == Opcode::Data ? data : other)++;
    if (writer.receive(p, 100)) (p.opcode == Opcode::Ack ? acks : other)++;
    if (endedAt < 0 && data > 0 && acks > 0 &&
        json(*m).find("\"transfers_active\":0") != std::string::npos)
      endedAt = msSince(start);
  }
  EXPECT_GE(data, 1);
  EXPECT_LE(data, 2) << "DATA packets sent to a source that never ACKed";
  EXPECT_GE(acks, 1);
  EXPECT_LE(acks, 2) << "ACKs sent to a source that never sent DATA";
  EXPECT_EQ(other, 0) << "no ERROR to a source that may be spoofed";
  EXPECT_TRUE(jsonHas(*m, "\"transfers_active\":0", 3000)) << json(*m);
  EXPECT_EQ(m->stop(), 0);
}

// timeout=255 used to be granted: one unanswered request held a socket for 25 minutes.
TEST(TftpHardening, TimeoutOptionBeyondTimeoutMaxIsDeclined) {
  auto m = startTftp();
  TftpTestClient c(m->port("main"));
  Options o;
  o.hasBlksize = o.hasTimeout = true;
  o.blksize = 1024;
  o.timeout = 255;
  c.sendRequest(Opcode::Rrq, "file", Mode::Octet, o);
  TftpPacket p;
  ASSERT_TRUE(c.receive(p));
  ASSERT_EQ(p.opcode, Opcode::Oack);
  static const char kOack[] = "blksize\0001024";  // timeout left out (RFC 2349: echo or omit)
  EXPECT_EQ(p.payload, std::string(kOack, sizeof kOack)) << "timeout granted";
  EXPECT_TRUE(jsonHas(*m, "\"transfers_active\":1", 1000)) << json(*m);
  // Never ACKed: the OACK is resent once after the 1 s default timeout, then the session ends.
  EXPECT_TRUE(jsonHas(*m, "\"transfers_active\":0", 6000)) << "still held\n" << json(*m);
  // A timeout within timeout_max is still granted as asked.
  TftpTestClient d(m->port("main"));
  o.timeout = 3;
  d.sendRequest(Opcode::Rrq, "file", Mode::Octet, o);
  ASSERT_TRUE(d.receive(p));
  ASSERT_EQ(p.opcode, Opcode::Oack);
  static const char kGranted[] = "blksize\0001024\0timeout\0003";
  EXPECT_EQ(p.payload, std::string(kGranted, sizeof kGranted));
  d.error(0, "done");
  EXPECT_EQ(m->stop(), 0);
}

// The default max_unverified_per_client (100) holds without any new key.
TEST(TftpHardening, UnansweredSessionsPerSourceAreCappedByDefault) {
  auto m = startTftp("timeout = 10s\n");
  std::vector<std::unique_ptr<TftpTestClient>> flood;
  int started = 0;
  for (int i = 0; i < 101; ++i) {
    flood.push_back(std::make_unique<TftpTestClient>(m->port("main")));
    started += admitted(*flood.back());
  }
  EXPECT_EQ(started, 100);
  EXPECT_EQ(m->stop(), 0);
}

TEST(TftpHardening, UnansweredSessionCapsRefuseSilentlyWhileAnsweredOnesGoOn) {
  auto m = startTftp("timeout = 10s\nmax_unverified_per_client = 3\nmax_unverified_sessions = 5\n");
  const int port = m->port("main");
  std::string content = makeContent(1200, 3);
  TftpTestClient answered(port);
  TftpPacket p;
  ASSERT_TRUE(admitted(answered));
  answered.ack(1);  // verified: no longer counts against the caps
  ASSERT_TRUE(answered.receive(p));
  ASSERT_EQ(p.number, 2);

  std::vector<std::unique_ptr<TftpTestClient>> flood;
  auto from = [&](const char* address) {
    flood.push_back(std::make_unique<TftpTestClient>(port, address));
    return admitted(*flood.back());
  };
  EXPECT_TRUE(from("127.0.0.1"));
  EXPECT_TRUE(from("127.0.0.1"));
  EXPECT_TRUE(from("127.0.0.1"));
  EXPECT_FALSE(from("127.0.0.1")) << "max_unverified_per_client";
  EXPECT_TRUE(from("127.0.0.2"));
  EXPECT_TRUE(from("127.0.0.2"));
  EXPECT_FALSE(from("127.0.0.3")) << "max_unverified_sessions";
  EXPECT_NE(json(*m).find("\"sessions_unverified_refused\":2"), std::string::npos) << json(*m);

  // The answered transfer is served to its end meanwhile.
  answered.ack(2);
  ASSERT_TRUE(answered.receive(p));
  EXPECT_EQ(p.number, 3);
  EXPECT_EQ(p.payload.size(), 1200u - 1024u);
  answered.ack(3);

  // A client that answers frees its unverified place at once.
  flood[0]->ack(1);
  sleepMs(100);
  EXPECT_TRUE(from("127.0.0.3"));
  flood[0]->error(0, "done");  // answered: a stop would wait for its transfer
  EXPECT_EQ(m->stop(), 0);
}

// Unanswered sessions used to hold the old generation until shutdown_timeout (10 s here).
TEST(TftpHardening, ReloadDoesNotWaitForUnansweredSessions) {
  auto m = startTftp("timeout = 5s\n");  // unanswered sessions end by themselves after 10 s
  std::vector<std::unique_ptr<TftpTestClient>> flood;
  for (int i = 0; i < 5; ++i) {
    flood.push_back(std::make_unique<TftpTestClient>(m->port("main")));
    ASSERT_TRUE(admitted(*flood.back()));
  }
  TftpPacket p;
  ASSERT_TRUE(flood.back()->receive(p, 8000)) << "the first block is resent once";
  auto start = Clock::now();
  m->signal(SIGHUP);
  EXPECT_TRUE(m->waitForLog("generation 1 finished", 9000)) << m->log();
  // Generous for a loaded machine (the new generation starts first), and still well under both
  // the sessions' own end (5 s after the HUP) and shutdown_timeout.
  EXPECT_LT(msSince(start), 4000) << "the old worker waited for unanswered sessions";
  EXPECT_EQ(m->stop(), 0);
}

// A graceful stop right after the first block went out gives the peer a round trip (see
// TftpProtocol.GracefulStopLetsTransfersFinish), not its whole timeout and retries.
TEST(TftpHardening, StopDoesNotWaitForYoungUnansweredSessions) {
  auto m = startTftp("timeout = 5s\n");
  std::vector<std::unique_ptr<TftpTestClient>> flood;
  for (int i = 0; i < 3; ++i) {
    flood.push_back(std::make_unique<TftpTestClient>(m->port("main")));
    ASSERT_TRUE(admitted(*flood.back()));
  }
  auto start = Clock::now();
  EXPECT_EQ(m->stop(), 0) << m->log();
  EXPECT_LT(msSince(start), 4000) << "the worker waited for unanswered sessions";
}
