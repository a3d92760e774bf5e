#include "protocols/tunnel/tx_batch.hpp"

#include <cerrno>
#include <cstring>

namespace manifold::tunnel {

TxBatch::TxBatch(unsigned slots, size_t slotBytes)
    : slotBytes_(slotBytes),
      capacity_(slots),
      buffers_(slots * slotBytes),
      addrs_(slots),
      iov_(slots),
      msgs_(slots) {}

void TxBatch::commit(int fd, size_t len, const sockaddr* to, socklen_t toLen) {
  if (count_ > 0 && fd != fd_) flush();  // one socket per sendmmsg
  fd_ = fd;
  std::memcpy(&addrs_[count_], to, toLen);
  iov_[count_] = {slot(), len};
  mmsghdr& m = msgs_[count_];
  m = {};
  m.msg_hdr.msg_name = &addrs_[count_];
  m.msg_hdr.msg_namelen = toLen;
  m.msg_hdr.msg_iov = &iov_[count_];
  m.msg_hdr.msg_iovlen = 1;
  if (++count_ == capacity_) flush();
}

void TxBatch::flush() {
  unsigned sent = 0;
  while (sent < count_) {
    int n = sendmmsg(fd_, msgs_.data() + sent, count_ - sent, MSG_DONTWAIT);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      ++drops_;  // skip the one the kernel refused (full buffer, unreachable) and go on
      ++sent;
      continue;
    }
    sent += static_cast<unsigned>(n);
  }
  count_ = 0;
}

}  // namespace manifold::tunnel
