// Reads from a tun device opened with IFF_VNET_HDR and TCP segmentation offload: each read is
// a virtio_net_hdr and a packet that may be a TCP super-packet of up to 64 KiB (the kernel
// skipped segmentation and left the checksums to us), so one read replaces dozens. TunRead
// splits it into wire-size IP packets with complete IP and TCP/UDP checksums, as a NIC would.
// Pure: the kernel's bytes are not trusted (a malformed read yields nothing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace manifold::tunnel {

inline constexpr size_t kVnetHeaderSize = 10;  // struct virtio_net_hdr

class TunRead {
 public:
  // `read`: vnet header + packet. False when malformed (nothing to send).
  bool parse(std::span<const uint8_t> read);
  // Packets this read becomes (1 unless it is a GSO super-packet).
  size_t count() const { return count_; }
  // Writes packet i, checksums complete, to out; its length, or 0 when it does not fit.
  size_t segment(size_t i, uint8_t* out, size_t cap) const;

 private:
  std::span<const uint8_t> packet_;
  bool needsCsum_ = false;
  bool gso_ = false;
  bool v6_ = false;
  size_t l4_ = 0;       // transport header offset
  size_t headers_ = 0;  // IP + TCP header bytes (GSO)
  size_t csumOffset_ = 0;
  size_t mss_ = 0;
  size_t count_ = 0;
};

// Internet checksum helpers (RFC 1071), exposed for the tests.
uint32_t checksumAdd(uint32_t sum, const uint8_t* p, size_t n);
uint16_t checksumFold(uint32_t sum);

}  // namespace manifold::tunnel
