// Tier: protocol on the wire — TFTP admission limits are instance-wide (shm), not per worker:
// with 2 workers (SO_REUSEPORT spreads the clients' ports over both), max_sessions,
// max_sessions_per_client and new_session_rate hold for the instance; and a worker killed while
// holding sessions does not keep them: its respawned successor gives them back.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "t/integration/harness.hpp"
#include "t/integration/tftp_client.hpp"

using namespace manifold::testing;
using manifold::tftp::Opcode;

namespace {

struct Outcome {
  int data = 0, refused = 0, silent = 0;
};

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

  std::vector<std::unique_ptr<TftpTestClient>> clients;
  Outcome total = requestAll(port, 16, clients);
  EXPECT_EQ(total.data, 3) << "max_sessions counted per worker?";
  EXPECT_EQ(total.refused, 13);
  endAll(clients);

  Outcome source = requestAll(perClient, 16, clients);
  EXPECT_EQ(source.data, 2) << "max_sessions_per_client counted per worker?";
  EXPECT_EQ(source.refused, 14);
  endAll(clients);

  // Ended sessions are given back, on whichever worker they ran.
  sleepMs(100);
  Outcome again = requestAll(port, 3, clients);
  EXPECT_EQ(again.data, 3);
  endAll(clients);
  EXPECT_EQ(m->stop(), 0);
}

TEST(TftpInstanceLimits, RateLimitHoldsAcrossWorkers) {
  int port = freePort(true);
  auto m = startWith(section(port, "new_session_rate = 1\nnew_session_burst = 4\n"), 2);
  std::vector<std::unique_ptr<TftpTestClient>> clients;
  Outcome o = requestAll(port, 16, clients);
  EXPECT_EQ(o.data, 4) << "one burst for the instance, not one per worker";
  EXPECT_EQ(o.silent, 12);
  endAll(clients);
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
  Outcome o = requestAll(port, 2, clients);
  EXPECT_EQ(o.data, 2) << "the dead worker's sessions still count";
  endAll(clients);
  EXPECT_EQ(m->stop(), 0);
}
