// A batched UDP endpoint: each wake receives up to `batch` datagrams with one recvmmsg, lets
// the handler answer each straight into a prebuilt send buffer, and sends every answer with
// one sendmmsg. No allocation per datagram. Used by DNS, the tracker and TFTP's listen socket.
#pragma once

#include <ev.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace manifold {

class WorkerRuntime;

class DatagramHandler {
 public:
  virtual ~DatagramHandler() = default;
  // Returns the reply length written to `out` (at most outCap), or 0 for no reply.
  virtual size_t onDatagram(const uint8_t* in, size_t len, const sockaddr* peer, socklen_t peerLen,
                            uint8_t* out, size_t outCap) = 0;
  // After each received batch (work the handler held back to do once per batch).
  virtual void onBatchEnd() {}
  // Called for a received datagram before onDatagram gets it: at stage 0 four datagrams ahead,
  // at stage 1 two ahead. A handler whose answer needs memory likely out of cache prefetches it
  // here (stage 0: a table slot; stage 1: what that slot points to, now loaded), so the misses
  // of a batch overlap instead of stalling one after another. Only a hint: may do nothing.
  virtual void prefetch(const uint8_t* /*in*/, size_t /*len*/, const sockaddr* /*peer*/,
                        unsigned /*stage*/) {}
};

class UdpEndpoint {
 public:
  UdpEndpoint(WorkerRuntime& runtime, int fd, DatagramHandler& handler, unsigned batch = 64,
              size_t bufferSize = 4096);
  ~UdpEndpoint();
  void start();
  void stop();
  uint64_t sendDrops() const { return sendDrops_; }
  // Datagrams larger than bufferSize, dropped unseen by the handler (for its counters).
  uint64_t truncatedDrops() const { return truncatedDrops_; }
  // recvmmsg and sendmmsg calls that moved at least one datagram: tests assert the batching.
  uint64_t batchesReceived() const { return batchesReceived_; }
  uint64_t batchesSent() const { return batchesSent_; }

 private:
  static void onReadable(struct ev_loop*, ev_io* watcher, int);
  void receiveBatch();

  WorkerRuntime& runtime_;
  int fd_;
  DatagramHandler& handler_;
  unsigned batch_;
  size_t bufferSize_;
  ev_io io_;
  std::vector<uint8_t> inBuffers_, outBuffers_;
  std::vector<sockaddr_storage> peers_;
  std::vector<iovec> inIov_, outIov_;
  std::vector<mmsghdr> inMsgs_, outMsgs_;
  uint64_t sendDrops_ = 0;
  uint64_t truncatedDrops_ = 0;
  uint64_t batchesReceived_ = 0;
  uint64_t batchesSent_ = 0;
};

}  // namespace manifold
