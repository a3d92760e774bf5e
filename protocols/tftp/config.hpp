// [tftp:NAME]: a TFTP server (RFC 1350 + options 2347/2348/2349/7440) on UDP.
//
//   listen                  UDP address(es), required, e.g. 127.0.0.1:6969
//   root                    directory served, required; nothing outside it is read or written
//   allow_write = off       accept WRQ (uploads) at all
//   allow_create = off      uploads may create files that do not exist yet
//   overwrite = on          uploads may replace existing files (off: error 6 "file exists")
//   absolute_paths = refuse refuse | root: a leading '/' means the root (tftpd-hpa -s style)
//   blksize_max = 65464     largest blksize granted (RFC 2348 range 8..65464)
//   path_mtu = 0            when set, also caps blksize to path_mtu - IP - UDP - 4 header bytes
//   windowsize_max = 64     largest windowsize granted (RFC 7440)
//   timeout = 1s            retransmission timeout unless the client asks for one (RFC 2349)
//   timeout_max = 5s        largest timeout option granted; a larger one is declined (left out
//                           of the OACK, as RFC 2349 wants the value echoed or not at all)
//   retries = 5             consecutive timeouts before a transfer is abandoned
//   unverified_retries = 1  ... while the peer never answered (it may be a spoofed source):
//                           the OACK / first block / ACK 0 is sent at most 1 + this many times
//   max_file_size = 1G      largest upload (and tsize accepted in a WRQ): error 3 beyond
//   max_sessions = 10000    concurrent transfers of the instance (all workers); more get
//                           error 0 "server busy"
//   max_sessions_per_client = 1000  per source (/32, /64), instance-wide
//   new_session_rate = 1000 new sessions per second per source, instance-wide (0 = unlimited);
//                           requests over the rate are dropped silently (no reflection)
//   new_session_burst       bucket depth, default 2 x new_session_rate
//   max_unverified_sessions = 1000    sessions whose peer has not answered yet, instance-wide;
//   max_unverified_per_client = 100   ... and per source: beyond either, requests are dropped
//                                     silently (the source may be spoofed)
// A session is verified once the peer answers it (RRQ: an ACK of the OACK or of data; WRQ:
// DATA), proving it receives at its source address. A draining worker ends unverified sessions
// at their next timeout instead of resending.
// Instance-wide state lives in shm: "tftp:NAME/sessions" and "tftp:NAME/unverified"
// (session_caps.hpp) and, when a rate is set, "tftp:NAME/rate" (rate_limit.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "protocols/service.hpp"

namespace manifold::tftp {

struct TftpSettings {
  std::string root;
  bool allowWrite = false;
  bool allowCreate = false;
  bool overwrite = true;
  bool allowAbsolute = false;
  uint32_t blksizeMax = 65464;
  uint32_t pathMtu = 0;
  uint32_t windowsizeMax = 64;
  double timeout = 1.0;     // seconds
  unsigned timeoutMax = 5;  // seconds, the largest RFC 2349 timeout option granted
  unsigned retries = 5;
  unsigned unverifiedRetries = 1;
  uint64_t maxFileSize = 1ull << 30;
  unsigned maxSessions = 10000;
  unsigned maxSessionsPerClient = 1000;
  double newSessionRate = 1000;
  double newSessionBurst = 2000;
  unsigned maxUnverifiedSessions = 1000;
  unsigned maxUnverifiedPerClient = 100;

  // blksize cap for a peer of this address family: blksize_max, and path_mtu if set.
  uint32_t blksizeCap(int family) const;
};

// The counters of a [tftp:NAME] service, in shm order.
#define MANIFOLD_TFTP_COUNTERS(X)                                                              \
  X(kTransfersActive, "transfers_active", Gauge, "transfers in progress")                      \
  X(kTransfersFinished, "transfers_finished", Counter, "transfers completed")                  \
  X(kTransfersFailed, "transfers_failed", Counter, "transfers ended by an error or a timeout") \
  X(kBytesSent, "bytes_sent", Counter, "file bytes sent (RRQ)")                                \
  X(kBytesReceived, "bytes_received", Counter, "file bytes received (WRQ)")                    \
  X(kRetransmits, "retransmits", Counter, "packets sent again after a timeout")                \
  X(kErrorsSent, "errors_sent", Counter, "ERROR packets sent")                                 \
  X(kSessionsRefused, "sessions_refused", Counter, "requests refused before a transfer began") \
  X(kSessionsUnverified, "sessions_unverified", Gauge,                                         \
    "transfers whose peer has not answered yet")                                               \
  X(kSessionsUnverifiedRefused, "sessions_unverified_refused", Counter,                        \
    "requests dropped by max_unverified_sessions / max_unverified_per_client")
enum Counter : unsigned { MANIFOLD_TFTP_COUNTERS(MANIFOLD_COUNTER_ENUM) kCounterCount };
inline constexpr shm::CounterDef kCounterDefs[] = {MANIFOLD_TFTP_COUNTERS(MANIFOLD_COUNTER_DEF)};

struct TftpConfig : ServiceConfig {
  std::vector<config::ListenAddress> listen;
  int listenLine = 0;
  TftpSettings settings;

  std::vector<ListenRequest> listeners() const override;
  // [0] the session caps; [1] the unverified-session caps; [2] the rate buckets, when
  // new_session_rate is set.
  std::vector<RegionRequest> regions() const override;
  std::vector<CounterSpec> counters() const override;
  std::unique_ptr<Service> createService(ServiceContext& ctx) const override;
};

std::unique_ptr<ServiceConfig> parseTftpSection(config::SectionReader& in);

}  // namespace manifold::tftp
