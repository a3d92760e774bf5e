// The TLS keys of a virtual server on the HTTP engine ([http:NAME], [proxy:NAME]):
//   listen = ADDR:PORT tls      (the flag is read with listen; see VirtualServerKeys)
//   tls_certificate = FILE...   PEM, leaf first, chain allowed; one per key type (RSA, ECDSA)
//   tls_key = FILE...           the matching private keys, same order
//   tls_protocols = TLSv1.2 TLSv1.3
//   tls_ciphers = HIGH:!aNULL:!MD5   (TLS 1.2 suites, OpenSSL syntax)
//   tls_stapling_file = FILE         a DER OCSP response stapled to handshakes that ask
//   tls_ticket_key_rotation = 1h     session ticket keys (in shm) are replaced this often
//   tls_session_cache = 1M           shm budget of the TLS 1.2 session-ID cache (0: off)
//   http2 = on                       ALPN offers h2 (HTTP/2) before http/1.1
//   h2c = off                        cleartext addresses also take HTTP/2 by prior knowledge
// The context is built here, in the master, while the config is read: an unreadable file, a key
// that does not match its certificate or a cipher list that selects nothing is refused with
// file, line and key (so `manifold -t` reports it); an expired certificate is a warning.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "master/section_reader.hpp"
#include "protocols/service.hpp"

namespace manifold {
class TlsContext;
}

namespace manifold::http {

struct Site;

struct TlsKeys {
  std::shared_ptr<TlsContext> context;  // null when the server has no tls listen address
  std::vector<bool> listenTls;          // per listen address (the order of the service's fds)
  double ticketRotation = 3600;
  uint64_t sessionCache = 1 << 20;  // tls_session_cache bytes; 0: no session-ID cache
  bool http2 = true;                // http2 = on: ALPN offers h2 before http/1.1
  bool h2c = false;  // h2c = on: cleartext addresses take HTTP/2 by prior knowledge too

  void read(config::SectionReader& in, const std::vector<config::ListenAddress>& listen);
  bool enabled() const { return context != nullptr; }
  // The shm regions: session ticket keys, then the session-ID cache when sessionCache > 0
  // (append them to the service's regions when enabled, in this order).
  std::vector<RegionRequest> regions(const std::string& title) const;
  // Fills the Site's TLS fields; the regions as mapped (nullptr: not asked for).
  void describe(Site& site, void* ticketRegion, void* sessionRegion) const;
};

}  // namespace manifold::http
