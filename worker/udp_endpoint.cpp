#include "worker/udp_endpoint.hpp"

#include <cerrno>
#include <cstring>

#include "worker/log.hpp"
#include "worker/runtime.hpp"

namespace manifold {

namespace {
constexpr int kBatchesPerWake = 4;         // then yield to the other watchers
constexpr int kPrefetchAhead[2] = {4, 2};  // how far ahead prefetch() sees a datagram, by stage
}  // namespace

UdpEndpoint::UdpEndpoint(WorkerRuntime& runtime, int fd, DatagramHandler& handler, unsigned batch,
                         size_t bufferSize)
    : runtime_(runtime),
      fd_(fd),
      handler_(handler),
      batch_(batch),
      bufferSize_(bufferSize),
      inBuffers_(batch * bufferSize),
      outBuffers_(batch * bufferSize),
      peers_(batch),
      inIov_(batch),
      outIov_(batch),
      inMsgs_(batch),
      outMsgs_(batch) {
  for (unsigned i = 0; i < batch_; ++i) {
    inIov_[i] = {inBuffers_.data() + i * bufferSize_, bufferSize_};
    std::memset(&inMsgs_[i], 0, sizeof(mmsghdr));
    inMsgs_[i].msg_hdr.msg_iov = &inIov_[i];
    inMsgs_[i].msg_hdr.msg_iovlen = 1;
  }
  ev_io_init(&io_, onReadable, fd_, EV_READ);
  io_.data = this;
}

UdpEndpoint::~UdpEndpoint() { stop(); }
void UdpEndpoint::start() { ev_io_start(runtime_.loop(), &io_); }
void UdpEndpoint::stop() { ev_io_stop(runtime_.loop(), &io_); }

void UdpEndpoint::onReadable(struct ev_loop*, ev_io* watcher, int) {
  static_cast<UdpEndpoint*>(watcher->data)->receiveBatch();
}

void UdpEndpoint::receiveBatch() {
  for (int round = 0; round < kBatchesPerWake; ++round) {
    for (unsigned i = 0; i < batch_; ++i) {
      inMsgs_[i].msg_hdr.msg_name = &peers_[i];
      inMsgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      inMsgs_[i].msg_hdr.msg_flags = 0;
    }
    int got = ::recvmmsg(fd_, inMsgs_.data(), batch_, MSG_DONTWAIT, nullptr);
    if (got <= 0) {
      if (got < 0 && errno != EAGAIN && errno != EINTR) LOG_WARN("recvmmsg: %s", strerror(errno));
      return;
    }
    ++batchesReceived_;
    unsigned replies = 0;
    auto prefetch = [&](int at, unsigned stage) {
      if (at < got)
        handler_.prefetch(inBuffers_.data() + at * bufferSize_, inMsgs_[at].msg_len,
                          reinterpret_cast<sockaddr*>(&peers_[at]), stage);
    };
    for (int i = 0; i < kPrefetchAhead[0]; ++i) prefetch(i, 0);
    for (int i = 0; i < kPrefetchAhead[1]; ++i) prefetch(i, 1);
    for (int i = 0; i < got; ++i) {
      prefetch(i + kPrefetchAhead[0], 0);
      prefetch(i + kPrefetchAhead[1], 1);
      if (inMsgs_[i].msg_hdr.msg_flags & MSG_TRUNC) {  // oversized: drop
        ++truncatedDrops_;
        continue;
      }
      uint8_t* out = outBuffers_.data() + replies * bufferSize_;
      size_t n = handler_.onDatagram(inBuffers_.data() + i * bufferSize_, inMsgs_[i].msg_len,
                                     reinterpret_cast<sockaddr*>(&peers_[i]),
                                     inMsgs_[i].msg_hdr.msg_namelen, out, bufferSize_);
      if (n == 0) continue;
      outIov_[replies] = {out, n};
      std::memset(&outMsgs_[replies], 0, sizeof(mmsghdr));
      outMsgs_[replies].msg_hdr.msg_name = &peers_[i];
      outMsgs_[replies].msg_hdr.msg_namelen = inMsgs_[i].msg_hdr.msg_namelen;
      outMsgs_[replies].msg_hdr.msg_iov = &outIov_[replies];
      outMsgs_[replies].msg_hdr.msg_iovlen = 1;
      ++replies;
    }
    handler_.onBatchEnd();
    unsigned sent = 0;
    while (sent < replies) {
      int n = ::sendmmsg(fd_, outMsgs_.data() + sent, replies - sent, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        sendDrops_ += replies - sent;  // UDP: a full socket buffer drops, as the network would
        break;
      }
      sent += n;
      ++batchesSent_;
    }
    if (static_cast<unsigned>(got) < batch_) return;
  }
}

}  // namespace manifold
