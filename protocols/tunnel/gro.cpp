#include "protocols/tunnel/gro.hpp"

#include <cstring>

#include "protocols/tunnel/gso.hpp"

namespace manifold::tunnel {

namespace {
constexpr size_t kMaxHeld = 65535;
constexpr uint8_t kAck = 0x10, kPsh = 0x08;

uint32_t load32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
// A plain TCP/IPv4 data segment: no IP options or fragments, ACK (maybe PSH) only, some data.
// Returns its header bytes, 0 otherwise.
size_t tcpDataHeaders(std::span<const uint8_t> p) {
  if (p.size() < 40 || p[0] != 0x45 || p[9] != 6) return 0;
  if (size_t(p[2] << 8 | p[3]) != p.size() || ((p[6] & 0x3f) | p[7]) != 0) return 0;
  size_t headers = 20 + (p[32] >> 4) * 4u;
  if (headers < 40 || headers >= p.size()) return 0;
  if ((p[33] & ~kPsh) != kAck) return 0;
  return headers;
}
}  // namespace

TunWriteBatch::TunWriteBatch(Writer write) : write_(std::move(write)) { held_.reserve(kMaxHeld); }

bool TunWriteBatch::mergeable(std::span<const uint8_t> p) const {
  if (held_.empty() || closed_) return false;
  size_t headers = tcpDataHeaders(p);
  if (headers != headers_ || p.size() - headers > mss_ ||
      held_.size() + p.size() - headers > kMaxHeld)
    return false;
  const uint8_t* h = held_.data();
  // Same addresses and ports (12..24), same ACK and data offset (28..33), window (34..36) and
  // options (40..headers); the next sequence number.
  return std::memcmp(h + 12, p.data() + 12, 12) == 0 &&
         std::memcmp(h + 28, p.data() + 28, 5) == 0 && std::memcmp(h + 34, p.data() + 34, 2) == 0 &&
         std::memcmp(h + 40, p.data() + 40, headers - 40) == 0 && load32(p.data() + 24) == nextSeq_;
}

void TunWriteBatch::add(std::span<const uint8_t> p) {
  if (mergeable(p)) {
    size_t data = p.size() - headers_;
    held_.insert(held_.end(), p.begin() + headers_, p.end());
    held_[33] |= p[33] & kPsh;
    nextSeq_ += static_cast<uint32_t>(data);
    closed_ = data < mss_ || (p[33] & kPsh);
    ++segments_;
    return;
  }
  flush();
  size_t headers = tcpDataHeaders(p);
  if (!headers) {
    static const uint8_t kPlain[kVnetHeaderSize] = {};
    write_({kPlain, kVnetHeaderSize}, p);
    return;
  }
  held_.assign(p.begin(), p.end());
  headers_ = headers;
  mss_ = p.size() - headers;
  nextSeq_ = load32(p.data() + 24) + static_cast<uint32_t>(mss_);
  closed_ = (p[33] & kPsh) != 0;
  segments_ = 1;
}

void TunWriteBatch::flush() {
  if (held_.empty()) return;
  uint8_t header[kVnetHeaderSize] = {};
  if (segments_ > 1) {
    uint8_t* p = held_.data();
    const size_t len = held_.size(), tcpLen = len - 20;
    p[2] = static_cast<uint8_t>(len >> 8);
    p[3] = static_cast<uint8_t>(len);
    p[10] = p[11] = 0;
    uint16_t ipsum = checksumFold(checksumAdd(0, p, 20));
    std::memcpy(p + 10, &ipsum, 2);
    // Checksum left partial (pseudo header only), as the kernel's own GSO packets carry it.
    const uint8_t tail[4] = {0, 6, static_cast<uint8_t>(tcpLen >> 8), static_cast<uint8_t>(tcpLen)};
    uint16_t pseudo =
        static_cast<uint16_t>(~checksumFold(checksumAdd(checksumAdd(0, p + 12, 8), tail, 4)));
    std::memcpy(p + 36, &pseudo, 2);
    header[0] = 1;  // NEEDS_CSUM
    header[1] = 1;  // GSO_TCPV4
    header[2] = static_cast<uint8_t>(headers_);
    header[3] = static_cast<uint8_t>(headers_ >> 8);
    header[4] = static_cast<uint8_t>(mss_);
    header[5] = static_cast<uint8_t>(mss_ >> 8);
    header[6] = 20;  // csum_start
    header[8] = 16;  // csum_offset
    merged_ += segments_;
  }
  write_({header, kVnetHeaderSize}, held_);
  held_.clear();
  segments_ = 0;
}

}  // namespace manifold::tunnel
