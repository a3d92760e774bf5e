// Outgoing datagrams of one worker, sent with one sendmmsg per batch: the session encrypts
// straight into the next free slot (the tun is read into it too, so a datagram-mode packet is
// never copied), then commits it with its destination. Runs of equal-size datagrams to one
// destination (the segments of a TCP burst) leave as one UDP GSO message (UDP_SEGMENT), so the
// kernel's UDP/IP path runs once per run; where the kernel refuses that (EIO/EINVAL: older
// kernels, IPsec routes; not exercised by the tests, this kernel takes GSO even without
// checksum offload), the batch falls back to one message per datagram for good. No allocation
// after construction.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace manifold::tunnel {

class TxBatch {
 public:
  TxBatch(unsigned slots, size_t slotBytes);
  uint8_t* slot() { return buffers_.data() + count_ * slotBytes_; }
  size_t slotBytes() const { return slotBytes_; }
  // Queues the current slot's first `len` bytes for `to` via fd; sends the batch when full.
  void commit(int fd, size_t len, const sockaddr* to, socklen_t toLen);
  // Sends everything queued (datagrams the kernel refuses are counted and dropped).
  void flush();
  uint64_t drops() const { return drops_; }

 private:
  size_t slotBytes_;
  unsigned capacity_;
  unsigned count_ = 0;
  int fd_ = -1;
  std::vector<uint8_t> buffers_;
  std::vector<sockaddr_storage> addrs_;
  std::vector<iovec> iov_;
  std::vector<socklen_t> lens_;
  std::vector<mmsghdr> msgs_;
  std::vector<char> control_;  // one UDP_SEGMENT cmsg per message
  bool gso_ = true;
  uint64_t drops_ = 0;
};

}  // namespace manifold::tunnel
