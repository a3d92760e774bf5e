#include "protocols/tunnel/gso.hpp"

#include <cstring>

namespace manifold::tunnel {

namespace {
// From linux/virtio_net.h (which does not compile as C++).
constexpr uint8_t kNeedsCsum = 1;
constexpr uint8_t kGsoNone = 0, kGsoTcpV4 = 1, kGsoTcpV6 = 4, kGsoEcn = 0x80;

uint16_t load16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
void store16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
}  // namespace

uint32_t checksumAdd(uint32_t sum, const uint8_t* p, size_t n) {
  uint64_t s = sum;
  while (n >= 8) {
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + 4, 4);
    s += a;
    s += b;
    p += 8;
    n -= 8;
  }
  while (n >= 2) {
    uint16_t a;
    std::memcpy(&a, p, 2);
    s += a;
    p += 2;
    n -= 2;
  }
  if (n) s += *p;  // little-endian host: the odd byte is the low byte of its word
  while (s >> 32) s = (s & 0xffffffffu) + (s >> 32);
  return static_cast<uint32_t>(s);
}

uint16_t checksumFold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

bool TunRead::parse(std::span<const uint8_t> read) {
  count_ = 0;
  if (read.size() < kVnetHeaderSize + 20) return false;
  const uint8_t* h = read.data();
  packet_ = read.subspan(kVnetHeaderSize);
  const uint8_t version = packet_[0] >> 4;
  if (version != 4 && version != 6) return false;
  v6_ = version == 6;
  if (v6_ && packet_.size() < 40) return false;
  needsCsum_ = h[0] & kNeedsCsum;
  const uint8_t gsoType = h[1] & ~kGsoEcn;
  gso_ = h[1] != kGsoNone;
  l4_ = le16(h + 6);
  csumOffset_ = le16(h + 8);
  if (needsCsum_ && (l4_ + csumOffset_ + 2 > packet_.size())) return false;
  if (!gso_) {
    count_ = 1;
    return true;
  }
  // Only TCP segmentation is enabled on the device (TUN_F_TSO4 / TUN_F_TSO6).
  if (gsoType != (v6_ ? kGsoTcpV6 : kGsoTcpV4) || !needsCsum_) return false;
  if (!v6_ && (packet_[0] & 15) * 4u != l4_) return false;  // IPv4 options end where TCP starts
  if (l4_ + 20 > packet_.size()) return false;
  headers_ = l4_ + (packet_[l4_ + 12] >> 4) * 4u;
  mss_ = le16(h + 4);
  if (headers_ < l4_ + 20 || headers_ > packet_.size() || mss_ == 0) return false;
  size_t payload = packet_.size() - headers_;
  count_ = payload == 0 ? 1 : (payload + mss_ - 1) / mss_;
  return true;
}

size_t TunRead::segment(size_t i, uint8_t* out, size_t cap) const {
  if (i >= count_) return 0;
  if (!gso_) {
    if (packet_.size() > cap) return 0;
    std::memcpy(out, packet_.data(), packet_.size());
    if (needsCsum_) {
      // The field holds the pseudo-header sum already: sum from the transport header on.
      store16(out + l4_ + csumOffset_, 0);
      uint32_t sum = checksumAdd(0, packet_.data() + l4_ + csumOffset_, 2);
      sum = checksumAdd(sum, out + l4_, packet_.size() - l4_);
      uint16_t c = checksumFold(sum);
      std::memcpy(out + l4_ + csumOffset_, &c, 2);
    }
    return packet_.size();
  }
  const size_t offset = i * mss_;
  const size_t data = std::min(mss_, packet_.size() - headers_ - offset);
  const size_t len = headers_ + data;
  if (len > cap) return 0;
  std::memcpy(out, packet_.data(), headers_);
  std::memcpy(out + headers_, packet_.data() + headers_ + offset, data);
  const bool last = i + 1 == count_;
  uint8_t* tcp = out + l4_;
  // Sequence number, and FIN/PSH only on the last segment, CWR only on the first.
  uint32_t seq =
      (uint32_t(tcp[4]) << 24 | uint32_t(tcp[5]) << 16 | uint32_t(tcp[6]) << 8 | tcp[7]) +
      static_cast<uint32_t>(offset);
  for (int b = 0; b < 4; ++b) tcp[4 + b] = static_cast<uint8_t>(seq >> (24 - 8 * b));
  if (!last) tcp[13] &= static_cast<uint8_t>(~0x09);
  if (i > 0) tcp[13] &= static_cast<uint8_t>(~0x80);
  const size_t tcpLen = len - l4_;
  const uint8_t hi = static_cast<uint8_t>(tcpLen >> 8), lo = static_cast<uint8_t>(tcpLen);
  uint32_t pseudo;
  if (v6_) {
    store16(out + 4, static_cast<uint16_t>(len - 40));
    const uint8_t tail[8] = {0, 0, hi, lo, 0, 0, 0, 6};  // 32-bit length, next header
    pseudo = checksumAdd(checksumAdd(0, out + 8, 32), tail, 8);
  } else {
    store16(out + 2, static_cast<uint16_t>(len));
    store16(out + 4, static_cast<uint16_t>(load16(packet_.data() + 4) + i));
    store16(out + 10, 0);
    uint16_t ipsum = checksumFold(checksumAdd(0, out, l4_));
    std::memcpy(out + 10, &ipsum, 2);
    const uint8_t tail[4] = {0, 6, hi, lo};
    pseudo = checksumAdd(checksumAdd(0, out + 12, 8), tail, 4);
  }
  store16(tcp + 16, 0);
  uint16_t c = checksumFold(checksumAdd(pseudo, tcp, tcpLen));
  std::memcpy(tcp + 16, &c, 2);
  return len;
}

}  // namespace manifold::tunnel
