// Worker half of [tftp:NAME]: answers requests on the SO_REUSEPORT listen sockets (batched by
// UdpEndpoint), admits them (instance-wide per-source rate limit and global and per-client
// caps in shm, duplicate request suppression in this worker) and runs each transfer as a Session
// from a pool on the worker's loop. Refusals and request errors are answered from the listen
// socket, so a refused (possibly spoofed) request costs one small packet and no socket.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <unordered_map>

#include "protocols/tftp/config.hpp"
#include "protocols/tftp/filename.hpp"
#include "protocols/tftp/packet.hpp"
#include "protocols/tftp/rate_limit.hpp"
#include "protocols/tftp/session.hpp"
#include "protocols/tftp/session_caps.hpp"
#include "worker/clock.hpp"
#include "worker/log.hpp"
#include "worker/runtime.hpp"
#include "worker/timer.hpp"
#include "worker/udp_endpoint.hpp"

namespace manifold::tftp {

namespace {

// A client endpoint (address + port): one session per endpoint, so a retransmitted request
// does not start a second transfer.
struct PeerKey {
  uint64_t hi = 0, lo = 0;
  uint32_t port = 0;
  bool operator==(const PeerKey&) const = default;
};
struct PeerKeyHash {
  size_t operator()(const PeerKey& k) const {
    uint64_t h = k.hi * 0x9e3779b97f4a7c15ull ^ k.lo * 0xc2b2ae3d27d4eb4full ^ k.port;
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

PeerKey peerKey(const sockaddr* peer) {
  PeerKey key;
  if (peer->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(peer);
    key.lo = in->sin_addr.s_addr;
    key.port = in->sin_port | 4u << 16;
  } else if (peer->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(peer);
    std::memcpy(&key.hi, in6->sin6_addr.s6_addr, 8);
    std::memcpy(&key.lo, in6->sin6_addr.s6_addr + 8, 8);
    key.port = in6->sin6_port | 6u << 16;
  }
  return key;
}

class TftpService;

// One listen socket: knows its local address, which each session's socket binds to.
class ListenPort : public DatagramHandler {
 public:
  ListenPort(TftpService& service, const config::ListenAddress& address)
      : service_(service), address_(address) {}
  size_t onDatagram(const uint8_t* in, size_t len, const sockaddr* peer, socklen_t peerLen,
                    uint8_t* out, size_t outCap) override;
  const config::ListenAddress& address() const { return address_; }
  std::unique_ptr<UdpEndpoint> endpoint;

 private:
  TftpService& service_;
  config::ListenAddress address_;
};

class TftpService : public Service {
 public:
  TftpService(const TftpConfig& config, ServiceContext& ctx)
      : config_(config),
        ctx_(ctx),
        limiter_(config.settings.newSessionRate, config.settings.newSessionBurst, region(2)),
        caps_(region(0), ctx.slot, config.settings.maxSessions,
              config.settings.maxSessionsPerClient),
        unverified_(region(1), ctx.slot, config.settings.maxUnverifiedSessions,
                    config.settings.maxUnverifiedPerClient),
        sweep_(ctx.loop, [this] {
          caps_.reclaimDead();
          unverified_.reclaimDead();
        }) {
    const TftpSettings& s = config.settings;
    host_.settings = &config_.settings;
    host_.loop = ctx.loop;
    host_.counters = ctx.counters;
    unsigned window = std::max<unsigned>(s.windowsizeMax, kRecvBatch);
    window = std::min<unsigned>(window, 65535);
    host_.recvBuffer.resize(kRecvBatch * kMaxDatagram);
    host_.headers.resize(4 * static_cast<size_t>(window));
    host_.iov.resize(2 * static_cast<size_t>(window));
    host_.msgs.resize(window);
    host_.from.resize(kRecvBatch);
    host_.finished = [this](Session* session, bool wasActive) { release(session, wasActive); };
    host_.idle = [this](Session*) { setActive(active_ - 1); };
    host_.verified = [this](Session* session) { releaseUnverified(session->clientKey); };
  }

  ~TftpService() override {
    for (auto& port : ports_) port->endpoint.reset();
    sessions_.clear();
    if (host_.rootFd >= 0) ::close(host_.rootFd);
  }

  void start() override {
    host_.rootFd = ::open(config_.settings.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (host_.rootFd < 0)
      LOG_ERROR("[%s] root %s: %s", config_.title().c_str(), config_.settings.root.c_str(),
                strerror(errno));
    // A connected socket pair (session.hpp) costs one fd more: at most an eighth of the fd
    // limit's worth of sessions get one, so max_sessions mapped transfers still fit.
    host_.maxConnected = static_cast<size_t>(raiseFileLimit() / 8);
    setActive(0);
    ctx_.counters.set(kSessionsUnverified, 0);
    // A killed worker's sessions are given back when its successor takes its slot; this sweep
    // covers a worker that is not respawned (crash-loop guard, fewer workers after a reload).
    if (ctx_.runtime && ctx_.runtime->runsInstanceTasks() && caps_.shared()) {
      sweep_.keepsLoopAlive(false);
      sweep_.repeat(kSweepInterval);
    }
    for (size_t i = 0; i < ctx_.fds.size() && i < config_.listen.size(); ++i) {
      auto port = std::make_unique<ListenPort>(*this, config_.listen[i]);
      port->endpoint = std::make_unique<UdpEndpoint>(*ctx_.runtime, ctx_.fds[i], *port, 64, 4096);
      port->endpoint->start();
      ports_.push_back(std::move(port));
    }
  }

  void stopAccepting() override {
    accepting_ = false;
    sweep_.stop();
    for (auto& port : ports_) port->endpoint->stop();
  }
  // Sessions whose peer never answered do not hold the stop up (see Session::drain).
  void closeIdle() override {
    host_.draining = true;
    for (auto& session : sessions_) session->drain();
  }
  size_t inFlight() const override { return active_; }

  size_t onRequest(const ListenPort& port, const uint8_t* in, size_t len, const sockaddr* peer,
                   socklen_t peerLen, uint8_t* out, size_t outCap);

 private:
  static constexpr double kSweepInterval = 2.0;  // seconds

  void* region(size_t i) const { return i < ctx_.regions.size() ? ctx_.regions[i] : nullptr; }
  void setActive(size_t n) {
    active_ = n;
    ctx_.counters.set(kTransfersActive, n);
  }
  size_t refuse(uint8_t* out, size_t cap, ErrorCode code, std::string_view message) {
    ctx_.counters.inc(kErrorsSent);
    return buildError(out, cap, code, message);
  }
  void release(Session* session, bool wasActive);
  void releaseUnverified(uint64_t source) {
    unverified_.release(source);
    ctx_.counters.set(kSessionsUnverified, --unverifiedCount_);
  }
  rlim_t raiseFileLimit();

  const TftpConfig& config_;
  ServiceContext ctx_;
  SessionHost host_;
  SourceRateLimiter limiter_;
  SessionCaps caps_;
  SessionCaps unverified_;  // sessions whose peer has not answered yet
  Timer sweep_;
  std::vector<std::unique_ptr<ListenPort>> ports_;
  std::vector<std::unique_ptr<Session>> sessions_;  // every session ever made (the pool)
  std::vector<Session*> free_;
  std::unordered_map<PeerKey, Session*, PeerKeyHash> byPeer_;
  size_t active_ = 0;           // transfers in flight
  size_t unverifiedCount_ = 0;  // ... of which the peer has not answered yet
  bool accepting_ = true;
  std::string path_;  // scratch for the normalised name
};

size_t ListenPort::onDatagram(const uint8_t* in, size_t len, const sockaddr* peer,
                              socklen_t peerLen, uint8_t* out, size_t outCap) {
  return service_.onRequest(*this, in, len, peer, peerLen, out, outCap);
}

size_t TftpService::onRequest(const ListenPort& port, const uint8_t* in, size_t len,
                              const sockaddr* peer, socklen_t peerLen, uint8_t* out,
                              size_t outCap) {
  const TftpSettings& s = config_.settings;
  if (!accepting_ || len < 2) return 0;
  uint64_t source = sourceKey(peer);
  if (!limiter_.allow(source, clock::monotonicSeconds())) {
    ctx_.counters.inc(kSessionsRefused);
    return 0;  // silently: the source may be spoofed
  }
  Request request;
  switch (parseRequest(in, len, request)) {
    case ParseResult::Ok:
      break;
    case ParseResult::BadMode:
      return refuse(out, outCap, ErrorCode::IllegalOperation, "Unsupported mode");
    case ParseResult::NotARequest:
      // A stray DATA/ACK/ERROR on the listen port (e.g. a late packet): error 5, not a crash.
      if (in[1] == static_cast<uint8_t>(Opcode::Error)) return 0;
      return refuse(out, outCap, ErrorCode::UnknownTid, {});
    case ParseResult::Malformed:
      return refuse(out, outCap, ErrorCode::IllegalOperation, {});
  }
  PeerKey key = peerKey(peer);
  if (byPeer_.count(key)) return 0;  // a retransmitted request: that session answers
  // Unanswered sessions first, silently: a flood from spoofed sources gets no reflection even
  // when the session caps below would answer "busy".
  if (unverified_.acquire(source) != SessionCaps::Verdict::Ok) {
    ctx_.counters.inc(kSessionsUnverifiedRefused);
    return 0;
  }
  ctx_.counters.set(kSessionsUnverified, ++unverifiedCount_);
  SessionCaps::Verdict verdict = caps_.acquire(source);
  if (verdict != SessionCaps::Verdict::Ok) {
    releaseUnverified(source);
    ctx_.counters.inc(kSessionsRefused);
    return refuse(out, outCap, ErrorCode::NotDefined,
                  verdict == SessionCaps::Verdict::Busy ? "Server busy"
                                                        : "Too many sessions from your address");
  }
  if (!normalizeFilename(request.filename, s.allowAbsolute, path_)) {
    caps_.release(source);
    releaseUnverified(source);
    return refuse(out, outCap, ErrorCode::AccessViolation, {});
  }

  Session* session;
  if (free_.empty()) {
    sessions_.push_back(std::make_unique<Session>(host_));
    session = sessions_.back().get();
  } else {
    session = free_.back();
    free_.pop_back();
  }
  session->clientKey = source;
  setActive(active_ + 1);
  byPeer_[key] = session;
  size_t replyLen = 0;
  if (!session->start(request, path_, peer, peerLen,
                      reinterpret_cast<const sockaddr*>(&port.address().addr), port.address().len,
                      out, outCap, replyLen)) {
    release(session, true);
    return replyLen;
  }
  return 0;
}

void TftpService::release(Session* session, bool wasActive) {
  byPeer_.erase(peerKey(reinterpret_cast<const sockaddr*>(&session->peer())));
  caps_.release(session->clientKey);
  if (!session->verified()) releaseUnverified(session->clientKey);
  if (wasActive) setActive(active_ - 1);
  free_.push_back(session);
}

// Each transfer holds a socket and a file: make sure the fd limit allows max_sessions of them.
// Returns the limit in force.
rlim_t TftpService::raiseFileLimit() {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  rlim_t want = static_cast<rlim_t>(config_.settings.maxSessions) * 2;
  if (limit.rlim_cur >= want) return limit.rlim_cur;
  rlim_t before = limit.rlim_cur;
  limit.rlim_cur = std::min(want, limit.rlim_max);
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return before;
  if (limit.rlim_cur < want)
    LOG_WARN(
        "[%s] open file limit %lu (was %lu) is below 2 x max_sessions: raise "
        "worker_rlimit_nofile",
        config_.title().c_str(), static_cast<unsigned long>(limit.rlim_cur),
        static_cast<unsigned long>(before));
  return limit.rlim_cur;
}

}  // namespace

std::unique_ptr<Service> TftpConfig::createService(ServiceContext& ctx) const {
  return std::make_unique<TftpService>(*this, ctx);
}

}  // namespace manifold::tftp
