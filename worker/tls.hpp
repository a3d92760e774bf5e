// The TLS layer of a Connection (OpenSSL 3 over the connection's own non-blocking socket).
//
// A listener that serves TLS describes itself with a TlsEndpoint (its default context, how to
// pick a context by SNI name, whether h2 may be offered by ALPN, the shm ticket keys, and its
// counters). Each accepted connection gets a TlsSession (Connection::startTls) before its first
// read. The Connection drives the handshake from its ordinary read/write events and then reads
// and writes through the session instead of the socket; handlers see plaintext only and are
// first called once the handshake is complete, so they can ask alpn() at their first read.
//
// read()/write()/sendFile() keep the contract of read(2)/send(2)/sendfile(2), so the connection's
// buffering and flow control stay as they are: >0 bytes moved; read returns 0 at the peer's
// close_notify (and at a bare EOF: HTTP's own framing decides whether a request was complete,
// so a truncated body is never taken for a whole one); -1 with errno EAGAIN while TLS waits for
// the socket (wantsWrite() tells which way), EPROTO on a TLS error, or the socket's own errno.
//
// Decrypted bytes can wait inside OpenSSL when the caller's buffer was smaller than a record:
// pending() says so, and the connection then feeds itself a read event (the socket would not
// become readable again for them).
//
// File bodies: with kTLS (the kernel's tls ULP, see TlsContext::kernelTls) sendFile() is
// SSL_sendfile, zero-copy; without it, slices of the file are read into one per-process buffer
// and encrypted from there (no file is read into memory whole).
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "shm/counters.hpp"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_session_st SSL_SESSION;

namespace manifold {

class TicketKeys;
class TlsSessionCache;

// Counters of a TLS listener (a block of the owning service's counters, in this order).
#define MANIFOLD_TLS_COUNTERS(X)                                                               \
  X(kTlsHandshakesFull, "tls_handshakes_full", Counter, "TLS handshakes with a new session")   \
  X(kTlsHandshakesResumed, "tls_handshakes_resumed", Counter,                                  \
    "TLS handshakes that resumed a session from a ticket")                                     \
  X(kTlsHandshakeFailures, "tls_handshake_failures", Counter, "TLS handshakes that failed")    \
  X(kTlsVersion12, "tls_version_1_2", Counter, "TLS 1.2 connections")                          \
  X(kTlsVersion13, "tls_version_1_3", Counter, "TLS 1.3 connections")                          \
  X(kTlsAlpnHttp11, "tls_alpn_http11", Counter, "TLS connections that chose http/1.1 by ALPN") \
  X(kTlsAlpnH2, "tls_alpn_h2", Counter, "TLS connections that chose h2 by ALPN")               \
  X(kTlsKtls, "tls_ktls", Counter, "TLS connections whose sends the kernel encrypts (kTLS)")   \
  X(kTlsTicketRotations, "tls_ticket_key_rotations", Counter, "session ticket keys rotated")
enum TlsCounter : unsigned { MANIFOLD_TLS_COUNTERS(MANIFOLD_COUNTER_ENUM) kTlsCounterCount };

struct TlsEndpoint {
  SSL_CTX* context = nullptr;  // before SNI is seen
  // The context for an SNI name, or nullptr to keep the current one.
  std::function<SSL_CTX*(std::string_view serverName)> byName;
  bool offerH2 = false;                 // ALPN may choose h2 (else http/1.1 only)
  TicketKeys* tickets = nullptr;        // shm ticket keys; nullptr: no tickets issued
  TlsSessionCache* sessions = nullptr;  // shm session-ID cache (TLS 1.2); nullptr: none
  shm::CounterSlot counters;            // MANIFOLD_TLS_COUNTERS order
  // Client endpoints (one per backend, TlsSession::connect): the name sent as SNI (unless it is
  // an IP address) and verified against the server's certificate, and the last session the
  // server gave, offered on the next connect so that reconnects resume.
  std::string serverName;
  mutable std::shared_ptr<SSL_SESSION> lastSession;
};

// Installs the SNI, ALPN and ticket callbacks on a context (TlsContext::build does it).
void installTlsCallbacks(SSL_CTX* ctx);
// Keeps the sessions a server gives a client context's connections (TlsContext::buildClient).
void installTlsClientCallbacks(SSL_CTX* ctx);

class TlsSession {
 public:
  // A server session on `fd` (the endpoint must outlive it); nullptr if OpenSSL cannot make one.
  static std::unique_ptr<TlsSession> accept(const TlsEndpoint& endpoint, int fd);
  // A client session on the connected `fd`, resuming endpoint.lastSession when there is one.
  static std::unique_ptr<TlsSession> connect(const TlsEndpoint& endpoint, int fd);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  bool established() const { return established_; }
  // Advances the handshake: 1 done, 0 waiting for the socket (see wantsWrite()), -1 failed.
  int handshake();
  ssize_t read(char* buffer, size_t length);
  ssize_t write(const char* data, size_t length);
  ssize_t sendFile(int fd, off_t* offset, size_t length);
  bool pending() const;
  // The last handshake or read step waits for the socket to become writable.
  bool wantsWrite() const { return wantsWrite_; }
  // Sends close_notify once (best effort, never blocks); nothing after a TLS error.
  void closeNotify();
  std::string_view alpn() const;  // "h2", "http/1.1" or empty
  bool resumed() const;           // the handshake resumed a session
  // After a failed client handshake: why the server's certificate was refused, or nullptr.
  const char* verifyError() const;
  const TlsEndpoint& endpoint() const { return endpoint_; }

 private:
  TlsSession(SSL* ssl, const TlsEndpoint& endpoint) : ssl_(ssl), endpoint_(endpoint) {}
  ssize_t failed(int ret, bool reading);
  void countHandshake();

  SSL* ssl_;
  const TlsEndpoint& endpoint_;
  bool established_ = false;
  bool wantsWrite_ = false;       // of the last handshake or read step
  bool lastWantedWrite_ = false;  // of the last step of any kind
  bool broken_ = false;
  bool notified_ = false;
  bool ktls_ = false;
};

}  // namespace manifold
