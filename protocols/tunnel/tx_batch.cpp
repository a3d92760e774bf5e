#include "protocols/tunnel/tx_batch.hpp"

#include <netinet/udp.h>

#include <cerrno>
#include <cstring>

namespace manifold::tunnel {

TxBatch::TxBatch(unsigned slots, size_t slotBytes)
    : slotBytes_(slotBytes),
      capacity_(slots),
      buffers_(slots * slotBytes),
      addrs_(slots),
      iov_(slots),
      lens_(slots),
      msgs_(slots),
      control_(slots * CMSG_SPACE(sizeof(uint16_t))) {}

void TxBatch::commit(int fd, size_t len, const sockaddr* to, socklen_t toLen) {
  if (count_ > 0 && fd != fd_) flush();  // one socket per sendmmsg
  fd_ = fd;
  std::memcpy(&addrs_[count_], to, toLen);
  iov_[count_] = {slot(), len};
  lens_[count_] = toLen;
  if (++count_ == capacity_) flush();
}

void TxBatch::flush() {
  // Group runs: same destination, equal sizes (the last may be shorter), at most 64 and 64 KiB.
  unsigned messages = 0;
  for (unsigned i = 0; i < count_;) {
    unsigned n = 1;
    size_t size = iov_[i].iov_len, total = size;
    while (gso_ && i + n < count_ && n < 64 && lens_[i + n] == lens_[i] &&
           iov_[i + n - 1].iov_len == size && iov_[i + n].iov_len <= size &&
           total + iov_[i + n].iov_len <= 65000 &&
           std::memcmp(&addrs_[i + n], &addrs_[i], lens_[i]) == 0) {
      total += iov_[i + n].iov_len;
      ++n;
    }
    mmsghdr& m = msgs_[messages];
    m = {};
    m.msg_hdr.msg_name = &addrs_[i];
    m.msg_hdr.msg_namelen = lens_[i];
    m.msg_hdr.msg_iov = &iov_[i];
    m.msg_hdr.msg_iovlen = n;
    if (n > 1) {
      char* control = control_.data() + messages * CMSG_SPACE(sizeof(uint16_t));
      m.msg_hdr.msg_control = control;
      m.msg_hdr.msg_controllen = CMSG_SPACE(sizeof(uint16_t));
      cmsghdr* c = CMSG_FIRSTHDR(&m.msg_hdr);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      uint16_t segment = static_cast<uint16_t>(size);
      std::memcpy(CMSG_DATA(c), &segment, sizeof segment);
    }
    ++messages;
    i += n;
  }
  unsigned sent = 0;
  while (sent < messages) {
    int n = sendmmsg(fd_, msgs_.data() + sent, messages - sent, MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<unsigned>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && gso_ && msgs_[sent].msg_hdr.msg_iovlen > 1 && (errno == EIO || errno == EINVAL)) {
      gso_ = false;  // this route cannot take UDP GSO: send the rest one datagram at a time
      unsigned first =
          static_cast<unsigned>(static_cast<iovec*>(msgs_[sent].msg_hdr.msg_iov) - iov_.data());
      unsigned rest = count_ - first;
      std::memmove(&iov_[0], &iov_[first], rest * sizeof(iovec));
      std::memmove(&addrs_[0], &addrs_[first], rest * sizeof(sockaddr_storage));
      std::memmove(&lens_[0], &lens_[first], rest * sizeof(socklen_t));
      count_ = rest;
      flush();
      return;
    }
    drops_ += msgs_[sent].msg_hdr.msg_iovlen;  // full buffer, unreachable: skip it and go on
    ++sent;
  }
  count_ = 0;
}

}  // namespace manifold::tunnel
