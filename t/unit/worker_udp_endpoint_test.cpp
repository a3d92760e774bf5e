// Tier: unit — the batched UDP endpoint on a real libev loop and real loopback sockets.
#include <arpa/inet.h>
#include <ev.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <set>
#include <string>

#include "worker/runtime.hpp"
#include "worker/udp_endpoint.hpp"

namespace {

using manifold::DatagramHandler;
using manifold::UdpEndpoint;
using manifold::WorkerRuntime;

// Answers "ping N" with "pong N"; stays silent for anything else.
class PongHandler : public DatagramHandler {
 public:
  size_t onDatagram(const uint8_t* in, size_t len, const sockaddr*, socklen_t, uint8_t* out,
                    size_t outCap) override {
    ++seen;
    std::string text(reinterpret_cast<const char*>(in), len);
    if (text.rfind("ping ", 0) != 0 || len > outCap) return 0;
    std::memcpy(out, in, len);
    std::memcpy(out, "pong", 4);
    return len;
  }
  int seen = 0;
};

// Records, per datagram text, the prefetch stages offered before its turn, and checks at
// onDatagram that both came first, each once, with the datagram's own sender.
class StagedHandler : public PongHandler {
 public:
  void prefetch(const uint8_t* in, size_t len, const sockaddr* peer, unsigned stage) override {
    const std::string text(reinterpret_cast<const char*>(in), len);
    stages[text] += stage == 0 ? "0" : "1";
    senderOk &= peer && reinterpret_cast<const sockaddr_in*>(peer)->sin_port == clientPort;
  }
  size_t onDatagram(const uint8_t* in, size_t len, const sockaddr* peer, socklen_t peerLen,
                    uint8_t* out, size_t outCap) override {
    const std::string text(reinterpret_cast<const char*>(in), len);
    offeredFirst &= stages[text] == "01";
    return PongHandler::onDatagram(in, len, peer, peerLen, out, outCap);
  }
  std::map<std::string, std::string> stages;
  in_port_t clientPort = 0;
  bool senderOk = true, offeredFirst = true;
};

int boundUdpSocket(sockaddr_in& addr) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return fd;
}

// A libev loop and a server and a client socket on loopback, closed when done.
struct Rig {
  Rig() : loop(ev_loop_new(EVFLAG_AUTO)), runtime(loop, 0, 1, 16) {
    server = boundUdpSocket(serverAddr);
    client = boundUdpSocket(clientAddr);
  }
  ~Rig() {
    close(server);
    close(client);
    ev_loop_destroy(loop);
  }
  void ping(int count) {
    for (int i = 0; i < count; ++i) {
      std::string message = "ping " + std::to_string(i);
      sendto(client, message.data(), message.size(), 0, reinterpret_cast<sockaddr*>(&serverAddr),
             sizeof serverAddr);
    }
  }
  struct ev_loop* loop;
  WorkerRuntime runtime;
  sockaddr_in serverAddr, clientAddr;
  int server, client;
};

TEST(WorkerUdpEndpoint, AnswersABurstInBatchesAndDropsWhatTheHandlerIgnores) {
  struct ev_loop* loop = ev_loop_new(EVFLAG_AUTO);
  WorkerRuntime runtime(loop, 0, 1, 16);
  sockaddr_in serverAddr, clientAddr;
  int server = boundUdpSocket(serverAddr);
  int client = boundUdpSocket(clientAddr);
  PongHandler handler;
  UdpEndpoint endpoint(runtime, server, handler, 8, 512);  // a batch smaller than the burst
  endpoint.start();

  constexpr int kPings = 100;
  for (int i = 0; i < kPings; ++i) {
    std::string message = "ping " + std::to_string(i);
    sendto(client, message.data(), message.size(), 0, reinterpret_cast<sockaddr*>(&serverAddr),
           sizeof serverAddr);
  }
  sendto(client, "junk", 4, 0, reinterpret_cast<sockaddr*>(&serverAddr), sizeof serverAddr);
  for (int round = 0; round < 50 && handler.seen < kPings + 1; ++round) ev_run(loop, EVRUN_NOWAIT);
  EXPECT_EQ(handler.seen, kPings + 1);
  // Everything was queued before the loop ran, so each recvmmsg takes a full batch of 8 (the
  // last one the remaining 5), and each batch's answers leave in one sendmmsg: one datagram per
  // call would be 101 receives and 100 sends.
  constexpr uint64_t kBatches = (kPings + 1 + 7) / 8;
  EXPECT_EQ(endpoint.batchesReceived(), kBatches);
  EXPECT_LE(endpoint.batchesSent(), kBatches);
  EXPECT_GE(endpoint.batchesSent(), 1u);

  std::set<std::string> answers;
  char buffer[512];
  ssize_t n;
  while ((n = recv(client, buffer, sizeof buffer, MSG_DONTWAIT)) > 0) answers.emplace(buffer, n);
  EXPECT_EQ(answers.size(), static_cast<size_t>(kPings));
  EXPECT_TRUE(answers.count("pong 0"));
  EXPECT_TRUE(answers.count("pong 99"));
  EXPECT_FALSE(answers.count("junk"));
  EXPECT_EQ(endpoint.sendDrops(), 0u);

  endpoint.stop();
  close(server);
  close(client);
  ev_loop_destroy(loop);
}

TEST(WorkerUdpEndpoint, OffersEveryDatagramToPrefetchAtBothStagesBeforeItsTurn) {
  Rig rig;
  StagedHandler handler;
  handler.clientPort = rig.clientAddr.sin_port;
  UdpEndpoint endpoint(rig.runtime, rig.server, handler, 16, 512);
  endpoint.start();
  constexpr int kPings = 37;  // batches of 16, 16 and 5: the stages run ahead within each
  rig.ping(kPings);
  for (int round = 0; round < 50 && handler.seen < kPings; ++round) ev_run(rig.loop, EVRUN_NOWAIT);
  EXPECT_EQ(handler.seen, kPings);
  EXPECT_EQ(handler.stages.size(), static_cast<size_t>(kPings));
  for (auto& [text, stages] : handler.stages) EXPECT_EQ(stages, "01") << text;
  EXPECT_TRUE(handler.offeredFirst);
  EXPECT_TRUE(handler.senderOk);
  endpoint.stop();
}

}  // namespace
