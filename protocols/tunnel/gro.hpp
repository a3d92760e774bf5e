// Writes to a tun device opened with IFF_VNET_HDR, coalesced: consecutive in-order TCP/IPv4
// segments of one flow (same addresses, ports, ACK, window and options, full-size segments but
// the last) are joined into one super-packet written with a GSO virtio_net_hdr, so the kernel
// takes a 64 KiB burst in one write and runs its stack once, as GRO does for a NIC. Everything
// else is written as it came, with a zero header. Pure apart from the writer callback.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace manifold::tunnel {

class TunWriteBatch {
 public:
  // write(header, packet): one tun write of a vnet header and a packet.
  using Writer = std::function<void(std::span<const uint8_t>, std::span<const uint8_t>)>;
  explicit TunWriteBatch(Writer write);
  // A whole IP packet (checksums valid) for the tun.
  void add(std::span<const uint8_t> packet);
  // Writes what is held (at the end of each receive batch).
  void flush();
  uint64_t merged() const { return merged_; }  // segments that rode in a super-packet

 private:
  bool mergeable(std::span<const uint8_t> p) const;

  Writer write_;
  std::vector<uint8_t> held_;  // the packet being grown
  size_t segments_ = 0;
  size_t mss_ = 0;      // payload of the first segment
  size_t headers_ = 0;  // IP + TCP header bytes
  uint32_t nextSeq_ = 0;
  bool closed_ = false;  // a short or PSH segment ended it
  uint64_t merged_ = 0;
};

}  // namespace manifold::tunnel
