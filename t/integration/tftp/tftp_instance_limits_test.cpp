// Tier: protocol on the wire — TFTP admission limits are instance-wide (shm), not per worker:
// with 2 workers (SO_REUSEPORT spreads the clients' ports over both), max_sessions,
// max_sessions_per_client and new_session_rate hold for the instance; and a worker killed while
// holding sessions does not keep them: its respawned successor gives them back.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "t/integration/lib/harness.hpp"
#include "t/integration/tftp/tftp_client.hpp"

using namespace manifold::testing;
using manifold::tftp::Opcode;

namespace {

struct Outcome {
  int data = 0, refused = 0, silent = 0;  // transfers started, ERROR answers, no answer
  bool operator==(const Outcome&) const = default;
};
std::ostream& operator<<(std::ostream& out, const Outcome& o) {
  return out << o.data << " started, " << o.refused << " refused, " << o.silent << " silent";
}

// `n` clients (each its own port) ask for `name` at once, then each waits for its answer. The
// admitted transfers stay open (never ACKed) until `clients` goes away.
Outcome requestAll(int port, int n, std::vector<std::unique_ptr<TftpTestClient>>& clients,
                   const std::string& name = "file") {
  for (int i = 0; i < n; ++i) clients.push_back(std::make_unique<TftpTestClient>(port));
  for (auto& c : clients) c->sendRequest(Opcode::Rrq, name);
  Outcome out;
  for (auto& c : clients) {
    TftpPacket p;
    if (!c->receive(p, 250))
      ++out.silent;
    else if (p.opcode == Opcode::Data)
      ++out.data;
    else
      ++out.refused;
  }
  return out;
}

void endAll(std::vector<std::unique_ptr<TftpTestClient>>& clients) {
  for (auto& c : clients) c->error(0, "done");
  clients.clear();
}

// requestAll, then every admitted transfer is ended (and its session given back).
Outcome askOnce(int port, int n) {
  std::vector<std::unique_ptr<TftpTestClient>> clients;
  Outcome out = requestAll(port, n, clients);
  endAll(clients);
  sleepMs(100);  // the ERROR reaches the sessions
  return out;
}

std::string section(int port, const std::string& limits, const std::string& name = "boot") {
  return "[tftp:" + name + "]\nlisten = 127.0.0.1:" + std::to_string(port) +
         "\nroot = {dir}/root\ntimeout = 5s\n" + limits;
}

// An instance of `sections` with `workers` workers, serving root/file; started.
std::unique_ptr<Instance> startWith(const std::string& sections, unsigned workers) {
  auto m = std::make_unique<Instance>(sections, "", workers);
  run("mkdir -p " + m->path("root"));
  writeFile(m->path("root/file"), std::string(2000, 'a'));
  if (!m->start()) ADD_FAILURE() << m->log();
  return m;
}

}  // namespace

TEST(TftpInstanceLimits, SessionCapsHoldAcrossWorkers) {
  int port = freePort(true), perClient = freePort(true);
  auto m = startWith(
      section(port, "max_sessions = 3\nnew_session_rate = 0\n") +
          section(perClient, "max_sessions_per_client = 2\nnew_session_rate = 0\n", "per"),
      2);
  ASSERT_EQ(m->workerPids().size(), 2u);

  // With per-worker counting, each worker would admit its own 3 and 2.
  EXPECT_EQ(askOnce(port, 16), (Outcome{3, 13, 0})) << "max_sessions";
  EXPECT_EQ(askOnce(perClient, 16), (Outcome{2, 14, 0})) << "max_sessions_per_client";
  // Ended sessions are given back, on whichever worker they ran.
  EXPECT_EQ(askOnce(port, 3), (Outcome{3, 0, 0}));
  EXPECT_EQ(m->stop(), 0);
}

TEST(TftpInstanceLimits, RateLimitHoldsAcrossWorkers) {
  int port = freePort(true);
  auto m = startWith(section(port, "new_session_rate = 1\nnew_session_burst = 4\n"), 2);
  EXPECT_EQ(askOnce(port, 16), (Outcome{4, 0, 12})) << "one burst for the instance";
  EXPECT_EQ(m->stop(), 0);
}

TEST(TftpInstanceLimits, AKilledWorkersSessionsAreGivenBack) {
  int port = freePort(true);
  auto m = startWith(section(port, "max_sessions = 2\nnew_session_rate = 0\n"), 1);
  std::vector<std::unique_ptr<TftpTestClient>> clients;
  ASSERT_EQ(requestAll(port, 2, clients).data, 2);
  auto before = m->workerPids();
  ASSERT_EQ(before.size(), 1u);
  ASSERT_EQ(kill(before[0], SIGKILL), 0);
  clients.clear();  // the transfers died with the worker
  auto start = Clock::now();
  std::vector<pid_t> now;
  while (msSince(start) < 3000) {
    now = m->workerPids();
    if (now.size() == 1 && now[0] != before[0]) break;
    sleepMs(10);
  }
  ASSERT_TRUE(now.size() == 1 && now[0] != before[0]) << "no respawn\n" << m->log();
  sleepMs(200);  // let the new worker start its service
  EXPECT_EQ(askOnce(port, 2), (Outcome{2, 0, 0})) << "the dead worker's sessions still count";
  EXPECT_EQ(m->stop(), 0);
}
