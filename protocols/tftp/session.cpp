#include "protocols/tftp/session.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "worker/log.hpp"

namespace manifold::tftp {

namespace {

ErrorCode codeForErrno(int error) {
  switch (error) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
      return ErrorCode::FileNotFound;
    case EACCES:
    case EPERM:
    case EXDEV:  // RESOLVE_BENEATH: the path leads out of the root
    case ELOOP:
    case EISDIR:
    case EROFS:
      return ErrorCode::AccessViolation;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return ErrorCode::DiskFull;
    case EEXIST:
      return ErrorCode::FileExists;
    default:
      return ErrorCode::NotDefined;
  }
}

constexpr uint32_t kMaxWindowBytes = 16u << 20;
// A draining worker gives a session whose peer has not answered yet this long (at most) to
// answer what it just got; a real client's round trip is far shorter.
constexpr double kDrainGrace = 1.0;

bool samePeer(const sockaddr_storage& a, const sockaddr* b) {
  if (a.ss_family != b->sa_family) return false;
  if (b->sa_family == AF_INET) {
    auto* x = reinterpret_cast<const sockaddr_in*>(&a);
    auto* y = reinterpret_cast<const sockaddr_in*>(b);
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  if (b->sa_family == AF_INET6) {
    auto* x = reinterpret_cast<const sockaddr_in6*>(&a);
    auto* y = reinterpret_cast<const sockaddr_in6*>(b);
    return x->sin6_port == y->sin6_port &&
           std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
  }
  return false;
}

// Socket buffers sized for a whole window (the default ~200 KiB drops most of a 64 x 64 KiB
// window). SO_*BUFFORCE works when privileged; otherwise the sysctl maximum applies.
void sizeBuffers(int fd, size_t bytes) {
  int size = static_cast<int>(std::min<size_t>(bytes, 16u << 20));
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

}  // namespace

Session::Session(SessionHost& host)
    : host_(host),
      io_(host.loop, [this](int) { receive(); }),
      strayIo_(host.loop, [this](int) { answerStrays(); }),
      timer_(host.loop, [this] { onTimeout(); }) {}

Session::~Session() {
  io_.stop();  // before the fds close
  strayIo_.stop();
  if (sock_ >= 0) ::close(sock_);
  if (stray_ >= 0) ::close(stray_);
  if (file_ >= 0) ::close(file_);
}

bool Session::start(const Request& request, const std::string& path, const sockaddr* peer,
                    socklen_t peerLen, const sockaddr* local, socklen_t localLen, uint8_t* reply,
                    size_t replyCap, size_t& replyLen) {
  const TftpSettings& s = *host_.settings;
  replyLen = 0;
  auto refuse = [&](ErrorCode code, std::string_view message) {
    replyLen = buildError(reply, replyCap, code, message);
    host_.count(kErrorsSent);
    upload_.abort();
    if (file_ >= 0) ::close(file_);
    if (sock_ >= 0) ::close(sock_);
    file_ = sock_ = -1;
    return false;
  };

  std::memcpy(&peer_, peer, peerLen);
  peerLen_ = peerLen;
  path_ = path;
  reading_ = request.opcode == Opcode::Rrq;
  verified_ = drainGrace_ = false;
  mode_ = request.mode;
  blksize_ = kDefaultBlockSize;
  window_ = 1;
  timeout_ = s.timeout;
  timeouts_ = 0;
  base_ = 1;
  sentUpTo_ = lastBlock_ = 0;
  received_ = acked_ = written_ = 0;
  nudged_ = false;
  decoder_ = NetasciiDecoder{};
  pendingWrites_.clear();
  pendingBytes_ = 0;

  const Options& asked = request.options;
  Options accepted;
  if (asked.hasBlksize) {
    accepted.hasBlksize = true;
    accepted.blksize = blksize_ = std::min(asked.blksize, s.blksizeCap(peer->sa_family));
  }
  if (asked.hasWindowsize) {
    accepted.hasWindowsize = true;
    accepted.windowsize = window_ = std::min(asked.windowsize, s.windowsizeMax);
  }
  // Keep a window's bytes bounded (RFC 7440 lets the server lower windowsize).
  window_ = std::max<uint32_t>(1, std::min<uint32_t>(window_, kMaxWindowBytes / blksize_));
  if (accepted.hasWindowsize) accepted.windowsize = window_;
  // A long timeout would let one unverified request hold a socket for minutes: beyond
  // timeout_max the option is declined (RFC 2349: the OACK echoes the value or leaves it out).
  if (asked.hasTimeout && asked.timeout <= s.timeoutMax) {
    accepted.hasTimeout = true;
    accepted.timeout = asked.timeout;
    timeout_ = asked.timeout;
  }

  struct stat fileStat {};
  if (reading_) {
    file_ = openBelow(host_.rootFd, path, O_RDONLY | O_NONBLOCK);
    if (file_ < 0) return refuse(codeForErrno(errno), {});
    struct stat& st = fileStat;
    if (fstat(file_, &st) != 0) return refuse(codeForErrno(errno), {});
    if (!S_ISREG(st.st_mode)) return refuse(ErrorCode::AccessViolation, "Not a regular file");
    fileSize_ = static_cast<uint64_t>(st.st_size);
    // netascii grows the file by an unknown amount: no tsize then (as tftpd-hpa).
    if (asked.hasTsize && mode_ == Mode::Octet) {
      accepted.hasTsize = true;
      accepted.tsize = fileSize_;
    }
    posix_fadvise(file_, 0, 0, POSIX_FADV_SEQUENTIAL);
    if (mode_ == Mode::Netascii) cursors_.assign(window_ + 1, NetasciiCursor{});
  } else {
    if (!s.allowWrite) return refuse(ErrorCode::AccessViolation, "Writes are not allowed");
    if (asked.hasTsize) {
      if (s.maxFileSize && asked.tsize > s.maxFileSize)
        return refuse(ErrorCode::DiskFull, "File too large");
      accepted.hasTsize = true;
      accepted.tsize = asked.tsize;
    }
    bool exists = false;
    int error = upload_.begin(host_.rootFd, path, exists);
    if (error) return refuse(codeForErrno(error), {});
    if (exists && !s.overwrite) return refuse(ErrorCode::FileExists, {});
    if (!exists && !s.allowCreate)
      return refuse(ErrorCode::FileNotFound, "File not found (creating files is not allowed)");
    replace_ = exists;
  }

  if (!openSocket(local, localLen)) {
    LOG_WARN("tftp: transfer socket: %s", strerror(errno));
    return refuse(ErrorCode::NotDefined, "Server busy");
  }
  if (static_cast<size_t>(window_) * (blksize_ + 64) > (192u << 10))
    sizeBuffers(sock_, static_cast<size_t>(window_) * (blksize_ + 64) * 2);
  if (reading_ && mode_ == Mode::Octet) {
    map_ = host_.mapped.acquire(file_, fileStat);
    if (map_) {  // the mapping keeps the file: one fd per transfer (10,000 fit in 20,000 fds)
      ::close(file_);
      file_ = -1;
    }
  }
  if (host_.connected < host_.maxConnected) connectSocket(local, localLen);
  io_.start(sock_, IoWatcher::kRead);

  if (accepted.any()) {
    state_ = State::Oack;
    controlLen_ = buildOack(control_, sizeof control_, accepted);
    sendControl();
    armTimer();
  } else if (reading_) {
    state_ = State::Transfer;
    sendWindow(false);  // arms the timer (or ends a failed session)
  } else {
    state_ = State::Transfer;
    sendAck(0);
    armTimer();
  }
  LOG_DEBUG("tftp: %s %s (blksize %u, windowsize %u)", reading_ ? "RRQ" : "WRQ", path_.c_str(),
            blksize_, window_);
  return true;
}

bool Session::openSocket(const sockaddr* local, socklen_t localLen) {
  sock_ = ::socket(local->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (sock_ < 0) return false;
  sockaddr_storage bindAddr{};
  std::memcpy(&bindAddr, local, localLen);
  if (bindAddr.ss_family == AF_INET)
    reinterpret_cast<sockaddr_in*>(&bindAddr)->sin_port = 0;
  else
    reinterpret_cast<sockaddr_in6*>(&bindAddr)->sin6_port = 0;
  if (::bind(sock_, reinterpret_cast<sockaddr*>(&bindAddr), localLen) != 0) {
    int error = errno;
    ::close(sock_);
    sock_ = -1;
    errno = error;
    return false;
  }
  return true;
}

// Best effort: on any failure the session keeps its unconnected socket, which works alone.
void Session::connectSocket(const sockaddr* local, socklen_t localLen) {
  sockaddr_storage bound{};
  socklen_t boundLen = sizeof bound;
  if (getsockname(sock_, reinterpret_cast<sockaddr*>(&bound), &boundLen) != 0) return;
  // SO_REUSEADDR only now: set before the bind, port 0 could pick a port already held by
  // another session's pair (both flagged), which would then share its packets.
  int on = 1;
  if (setsockopt(sock_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0) return;
  int stray = ::socket(local->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (stray < 0) return;
  if (setsockopt(stray, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
      ::bind(stray, reinterpret_cast<sockaddr*>(&bound), localLen) != 0 ||
      ::connect(sock_, reinterpret_cast<sockaddr*>(&peer_), peerLen_) != 0) {
    ::close(stray);
    return;
  }
  stray_ = stray;
  ++host_.connected;
  strayIo_.start(stray_, IoWatcher::kRead);
}

void Session::armTimer() {
  // Repeating, as before: a timeout that does not re-arm (a retransmission) fires again later.
  timer_.repeat(state_ == State::Dally ? std::max(2 * timeout_, 2.0) : timeout_);
}

// Packets from other TIDs (the connected socket only gets the client's): error 5 to each,
// from this transfer's port, leaving the transfer alone (RFC 1350).
void Session::answerStrays() {
  for (unsigned i = 0; i < kRecvBatch; ++i) {
    sockaddr_storage from{};
    socklen_t fromLen = sizeof from;
    uint8_t packet[4];
    ssize_t n = ::recvfrom(stray_, packet, sizeof packet, MSG_DONTWAIT | MSG_TRUNC,
                           reinterpret_cast<sockaddr*>(&from), &fromLen);
    if (n < 0) return;
    if (samePeer(peer_, reinterpret_cast<sockaddr*>(&from))) continue;  // raced the connect()
    if (n >= 2 && packet[1] == static_cast<uint8_t>(Opcode::Error)) continue;
    uint8_t reply[128];
    size_t len = buildError(reply, sizeof reply, ErrorCode::UnknownTid, {});
    ::sendto(stray_, reply, len, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), fromLen);
    host_.count(kErrorsSent);
  }
}

void Session::receive() {
  auto& h = host_;
  if (reading_ && window_ == 1 && stray_ >= 0) {
    // Lockstep read on a connected socket: one ACK per round trip, from the client only. A
    // plain recv (no msghdr, no address) is the cheapest receive; a batch would cost a second,
    // empty attempt.
    ssize_t n = ::recv(sock_, h.recvBuffer.data(), kMaxDatagram, MSG_DONTWAIT | MSG_TRUNC);
    if (n >= 0 && static_cast<size_t>(n) <= kMaxDatagram)
      handle(h.recvBuffer.data(), static_cast<size_t>(n));
    return;
  }
  unsigned batch = reading_ ? (window_ == 1 ? 1 : 4) : kRecvBatch;
  for (unsigned i = 0; i < batch; ++i) {
    h.iov[i] = {h.recvBuffer.data() + i * kMaxDatagram, kMaxDatagram};
    std::memset(&h.msgs[i], 0, sizeof(mmsghdr));
    h.msgs[i].msg_hdr.msg_iov = &h.iov[i];
    h.msgs[i].msg_hdr.msg_iovlen = 1;
    h.msgs[i].msg_hdr.msg_name = &h.from[i];
    h.msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
  }
  int got = ::recvmmsg(sock_, h.msgs.data(), batch, MSG_DONTWAIT, nullptr);
  if (got <= 0) return;
  ackDue_ = finalDue_ = progress_ = false;
  for (int i = 0; i < got && state_ != State::Idle; ++i) {
    auto* from = reinterpret_cast<const sockaddr*>(&h.from[i]);
    if (!samePeer(peer_, from)) {
      // Another TID: tell it, leave the transfer alone (RFC 1350).
      sendError(ErrorCode::UnknownTid, {}, from, h.msgs[i].msg_hdr.msg_namelen);
      continue;
    }
    if (h.msgs[i].msg_hdr.msg_flags & MSG_TRUNC) continue;
    handle(h.recvBuffer.data() + i * kMaxDatagram, h.msgs[i].msg_len);
  }
  if (state_ == State::Idle || reading_) return;
  // Write side: data of the whole batch goes to disk before it is acknowledged.
  if (!flushWrites()) return;
  if (finalDue_) {
    finishUpload();
    return;
  }
  if (ackDue_) sendAck(received_);
  if (progress_ || ackDue_) armTimer();
}

void Session::handle(const uint8_t* data, size_t len) {
  Packet packet;
  if (!parsePacket(data, len, packet)) {
    fail(ErrorCode::IllegalOperation, {});
    return;
  }
  if (state_ == State::Dally && packet.opcode != Opcode::Data) {
    if (packet.opcode == Opcode::Error) close();  // the upload is done; nothing to fail
    return;
  }
  switch (packet.opcode) {
    case Opcode::Error:
      LOG_DEBUG("tftp: %s: peer sent error %u", path_.c_str(), packet.number);
      fail(ErrorCode::NotDefined, {}, false);
      return;
    case Opcode::Ack:
      if (reading_) return onAck(packet.number);
      break;
    case Opcode::Data:
      if (!reading_) return onData(packet.number, packet.payload, packet.payloadLen);
      break;
    default:
      break;
  }
  fail(ErrorCode::IllegalOperation, {});
}

// ---- read side ----

void Session::onAck(uint16_t wire) {
  if (state_ == State::Oack) {
    if (wire != 0) return;
    markVerified();
    state_ = State::Transfer;
    timeouts_ = 0;
    sendWindow(false);
    return;
  }
  // The block inside [base_, sentUpTo_] whose low 16 bits are `wire`; anything else (notably
  // base_ - 1, a duplicate ACK) is ignored: data is resent only on a timeout.
  uint64_t k = base_ + static_cast<uint16_t>(wire - static_cast<uint16_t>(base_));
  if (k > sentUpTo_) return;
  markVerified();
  if (mode_ == Mode::Netascii) cursors_[0] = cursors_[k + 1 - base_];
  base_ = k + 1;
  timeouts_ = 0;
  if (lastBlock_ && k >= lastBlock_) return succeed();
  sendWindow(false);
}

size_t Session::buildOctetWindow(unsigned& blocks) {
  uint64_t count = window_;
  if (lastBlock_) count = std::min<uint64_t>(count, lastBlock_ - base_ + 1);
  size_t want = count * blksize_;
  uint64_t start = (base_ - 1) * blksize_;
  const uint8_t* data;
  size_t got = 0;
  if (map_) {
    data = map_ + start;
    got = start >= fileSize_ ? 0 : static_cast<size_t>(std::min<uint64_t>(want, fileSize_ - start));
  } else {
    auto& buf = host_.sendBuffer;
    if (buf.size() < want) buf.resize(want);
    data = buf.data();
    while (got < want) {  // a regular file returns all but at end of file; loop for EINTR
      ssize_t n = ::pread(file_, buf.data() + got, want - got, static_cast<off_t>(start + got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return SIZE_MAX;
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
  }
  size_t full = got / blksize_;
  if (got < want) {
    blocks = static_cast<unsigned>(full + 1);
    lastBlock_ = base_ + full;
  } else {
    if (lastBlock_) return SIZE_MAX;  // the file grew under us: its end block is no longer short
    blocks = static_cast<unsigned>(count);
  }
  for (unsigned i = 0; i < blocks; ++i) {
    size_t len = std::min<size_t>(blksize_, got - i * static_cast<size_t>(blksize_));
    host_.iov[2 * i + 1] = {const_cast<uint8_t*>(data) + i * static_cast<size_t>(blksize_), len};
  }
  return got;
}

size_t Session::buildNetasciiWindow(unsigned& blocks) {
  auto& out = host_.sendBuffer;
  size_t need = static_cast<size_t>(window_) * blksize_;
  if (out.size() < need) out.resize(need);
  if (host_.readBuffer.size() < blksize_) host_.readBuffer.resize(blksize_);
  size_t total = 0;
  blocks = 0;
  for (unsigned i = 0; i < window_; ++i) {
    NetasciiCursor cursor = cursors_[i];
    ssize_t n;
    do n = ::pread(file_, host_.readBuffer.data(), blksize_, static_cast<off_t>(cursor.offset));
    while (n < 0 && errno == EINTR);
    if (n < 0) return SIZE_MAX;
    uint8_t* dst = out.data() + static_cast<size_t>(i) * blksize_;
    size_t len =
        netasciiEncode(host_.readBuffer.data(), static_cast<size_t>(n), cursor, dst, blksize_);
    cursors_[i + 1] = cursor;
    host_.iov[2 * i + 1] = {dst, len};
    total += len;
    ++blocks;
    if (len < blksize_) {
      lastBlock_ = base_ + i;
      break;
    }
  }
  return total;
}

void Session::sendWindow(bool retransmit) {
  unsigned blocks = 0;
  size_t bytes = mode_ == Mode::Octet ? buildOctetWindow(blocks) : buildNetasciiWindow(blocks);
  if (bytes == SIZE_MAX) {
    LOG_WARN("tftp: %s: read: %s", path_.c_str(), errno ? strerror(errno) : "file changed");
    return fail(ErrorCode::NotDefined, "Read error");
  }
  auto& h = host_;
  for (unsigned i = 0; i < blocks; ++i) {
    uint8_t* header = h.headers.data() + 4 * i;
    buildDataHeader(header, 4, static_cast<uint16_t>(base_ + i));
    h.iov[2 * i] = {header, 4};
    std::memset(&h.msgs[i], 0, sizeof(mmsghdr));
    if (stray_ < 0) {  // a connected socket sends without an address (cached route)
      h.msgs[i].msg_hdr.msg_name = &peer_;
      h.msgs[i].msg_hdr.msg_namelen = peerLen_;
    }
    h.msgs[i].msg_hdr.msg_iov = &h.iov[2 * i];
    h.msgs[i].msg_hdr.msg_iovlen = 2;
  }
  unsigned sent = 0;
  while (sent < blocks) {
    // One block (lockstep): sendmsg skips sendmmsg's per-message bookkeeping.
    int n = blocks == 1 ? (::sendmsg(sock_, &h.msgs[0].msg_hdr, MSG_DONTWAIT) >= 0 ? 1 : -1)
                        : ::sendmmsg(sock_, h.msgs.data() + sent, blocks - sent, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EFAULT) {  // the mapped file was truncated under us
        LOG_WARN("tftp: %s: file shrank while being sent", path_.c_str());
        return fail(ErrorCode::NotDefined, "File changed");
      }
      break;  // a full socket buffer drops the rest, as the network would; the timer resends
    }
    sent += static_cast<unsigned>(n);
  }
  for (unsigned i = 0; i < sent; ++i) h.count(kBytesSent, h.iov[2 * i + 1].iov_len);
  if (retransmit) h.count(kRetransmits, blocks);
  sentUpTo_ = std::max(sentUpTo_, base_ + blocks - 1);
  armTimer();
}

// ---- write side ----

void Session::onData(uint16_t wire, const uint8_t* payload, size_t len) {
  if (state_ == State::Dally) {
    if (wire == static_cast<uint16_t>(received_)) sendControl();  // our final ACK was lost
    return;
  }
  if (len > blksize_) return fail(ErrorCode::IllegalOperation, "Block larger than blksize");
  uint64_t expected = received_ + 1;
  if (wire != static_cast<uint16_t>(expected) && state_ == State::Oack)
    return;  // OACK resent on timeout
  if (wire != static_cast<uint16_t>(expected)) {
    // A duplicate (the client missed our ACK) or a gap (we missed its DATA): ACK what we have,
    // once until progress resumes; our timer repeats it if that ACK is lost too.
    if (!nudged_) {
      nudged_ = true;
      ackDue_ = true;
    }
    return;
  }
  const TftpSettings& s = *host_.settings;
  if (s.maxFileSize && written_ + pendingBytes_ + len > s.maxFileSize)
    return fail(ErrorCode::DiskFull, "File too large");
  if (mode_ == Mode::Octet) {
    if (len) pendingWrites_.push_back({const_cast<uint8_t*>(payload), len});
    pendingBytes_ += len;
  } else {
    if (host_.decodeBuffer.size() < len + 1) host_.decodeBuffer.resize(kMaxDatagram + 1);
    if (!flushWrites()) return;
    size_t n = decoder_.decode(payload, len, host_.decodeBuffer.data());
    if (n) pendingWrites_.push_back({host_.decodeBuffer.data(), n});
    pendingBytes_ += n;
    if (!flushWrites()) return;  // the decode buffer is reused by the next block
  }
  markVerified();
  host_.count(kBytesReceived, len);
  received_ = expected;
  state_ = State::Transfer;
  nudged_ = false;
  timeouts_ = 0;
  progress_ = true;
  if (len < blksize_) {
    lastBlock_ = received_;
    finalDue_ = true;
  } else if (received_ - acked_ >= window_) {
    ackDue_ = true;
  }
}

bool Session::flushWrites() {
  size_t done = 0;
  while (done < pendingWrites_.size()) {
    size_t count = std::min<size_t>(pendingWrites_.size() - done, IOV_MAX);
    ssize_t n = ::pwritev(upload_.fd(), pendingWrites_.data() + done, static_cast<int>(count),
                          static_cast<off_t>(written_));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int error = n < 0 ? errno : ENOSPC;
      LOG_WARN("tftp: %s: write: %s", path_.c_str(), strerror(error));
      fail(codeForErrno(error) == ErrorCode::DiskFull ? ErrorCode::DiskFull : ErrorCode::NotDefined,
           {});
      return false;
    }
    written_ += static_cast<size_t>(n);
    // Drop fully written iovecs, trim a partly written one.
    size_t left = static_cast<size_t>(n);
    while (left && done < pendingWrites_.size()) {
      iovec& v = pendingWrites_[done];
      if (left >= v.iov_len) {
        left -= v.iov_len;
        ++done;
      } else {
        v.iov_base = static_cast<uint8_t*>(v.iov_base) + left;
        v.iov_len -= left;
        left = 0;
      }
    }
  }
  pendingWrites_.clear();
  pendingBytes_ = 0;
  return true;
}

bool Session::finishUpload() {
  uint8_t tail[1];
  if (mode_ == Mode::Netascii && decoder_.finish(tail)) {
    pendingWrites_.push_back({tail, 1});
    if (!flushWrites()) return false;
  }
  int error = upload_.commit(replace_ || host_.settings->overwrite);
  if (error) {
    LOG_WARN("tftp: %s: commit: %s", path_.c_str(), strerror(error));
    fail(codeForErrno(error), {});
    return false;
  }
  sendAck(received_);
  succeed();
  return true;
}

void Session::sendAck(uint64_t block) {
  acked_ = block;
  controlLen_ = buildAck(control_, sizeof control_, static_cast<uint16_t>(block));
  sendControl();
}

// ---- common ----

void Session::sendControl() {
  if (stray_ >= 0)
    ::send(sock_, control_, controlLen_, MSG_DONTWAIT);
  else
    ::sendto(sock_, control_, controlLen_, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&peer_),
             peerLen_);
}

void Session::sendError(ErrorCode code, std::string_view message, const sockaddr* to,
                        socklen_t toLen) {
  uint8_t packet[128];
  size_t len = buildError(packet, sizeof packet, code, message);
  ::sendto(sock_, packet, len, MSG_DONTWAIT, to, toLen);
  host_.count(kErrorsSent);
}

void Session::markVerified() {
  if (verified_) return;
  verified_ = true;
  host_.verified(this);
}

void Session::drain() {
  if (state_ == State::Idle || verified_ || drainGrace_) return;
  if (timeouts_ > 0) return fail(ErrorCode::NotDefined, {}, false);  // had its chance
  drainGrace_ = true;  // once: the drain calls this again every check
  if (timer_.remaining() > kDrainGrace) timer_.repeat(kDrainGrace);
}

void Session::onTimeout() {
  if (state_ == State::Dally) return close();
  const TftpSettings& s = *host_.settings;
  unsigned retries = verified_ ? s.retries : std::min(s.retries, s.unverifiedRetries);
  if (!verified_ && host_.draining) retries = 0;
  if (++timeouts_ > retries) {
    LOG_DEBUG("tftp: %s: timed out%s", path_.c_str(), verified_ ? "" : " (never answered)");
    // No ERROR to a peer that never answered: it may be a spoofed victim.
    return fail(ErrorCode::NotDefined, "Timed out", verified_);
  }
  if (reading_ && state_ == State::Transfer) return sendWindow(true);
  sendControl();  // OACK, or our last ACK
  host_.count(kRetransmits);
  armTimer();
}

void Session::fail(ErrorCode code, std::string_view message, bool notifyPeer) {
  if (notifyPeer && sock_ >= 0)
    sendError(code, message, reinterpret_cast<sockaddr*>(&peer_), peerLen_);
  host_.count(kTransfersFailed);
  upload_.abort();
  close();
}

void Session::succeed() {
  host_.count(kTransfersFinished);
  LOG_DEBUG("tftp: %s %s done", reading_ ? "RRQ" : "WRQ", path_.c_str());
  if (!reading_) {
    // Dally: re-ACK the last block if the client resends it (its copy of our ACK was lost).
    state_ = State::Dally;
    if (file_ >= 0) ::close(file_);
    file_ = -1;
    host_.idle(this);
    armTimer();
    return;
  }
  close();
}

void Session::close() {
  io_.stop();
  strayIo_.stop();
  timer_.stop();
  if (sock_ >= 0) ::close(sock_);
  if (stray_ >= 0) {
    ::close(stray_);
    --host_.connected;
  }
  if (file_ >= 0) ::close(file_);
  sock_ = stray_ = file_ = -1;
  if (map_) host_.mapped.release(map_);
  map_ = nullptr;
  pendingWrites_.clear();
  pendingBytes_ = 0;
  bool wasActive = state_ != State::Dally;
  state_ = State::Idle;
  host_.finished(this, wasActive);
}

}  // namespace manifold::tftp
