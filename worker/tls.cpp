#include "worker/tls.hpp"

#include <arpa/inet.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "worker/log.hpp"
#include "worker/tls_tickets.hpp"

namespace manifold {

namespace {

// File bodies without kTLS are encrypted from here, one TLS record's worth at a time. One per
// process: the loop is single-threaded and a slice is handed to OpenSSL before the next read.
constexpr size_t kFileSlice = 16 * 1024;
char gFileSlice[kFileSlice];

TlsSession* sessionOf(SSL* ssl) { return static_cast<TlsSession*>(SSL_get_app_data(ssl)); }

int onServerName(SSL* ssl, int*, void*) {
  TlsSession* session = sessionOf(ssl);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!session || !name || !session->endpoint().byName) return SSL_TLSEXT_ERR_OK;
  SSL_CTX* ctx = session->endpoint().byName(name);
  if (ctx && ctx != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, ctx);
  return SSL_TLSEXT_ERR_OK;
}

// ALPN protocol lists in wire format (length-prefixed), in our order of preference.
constexpr unsigned char kAlpnH2[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

int onAlpn(SSL* ssl, const unsigned char** out, unsigned char* outLength, const unsigned char* in,
           unsigned inLength, void*) {
  TlsSession* session = sessionOf(ssl);
  const bool h2 = session && session->endpoint().offerH2;
  const unsigned char* ours = h2 ? kAlpnH2 : kAlpnHttp11;
  const unsigned oursLength = h2 ? sizeof kAlpnH2 : sizeof kAlpnHttp11;
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outLength, ours, oursLength, in, inLength) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;  // no common protocol: go on without ALPN (HTTP/1.1)
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

// Session tickets sealed with the shm keys (worker/tls_tickets.hpp): AES-256-CBC and
// HMAC-SHA256, as OpenSSL's own ticket format expects from this callback.
int onTicketKey(SSL* ssl, unsigned char name[16], unsigned char iv[EVP_MAX_IV_LENGTH],
                EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int encrypt) {
  TlsSession* session = sessionOf(ssl);
  TicketKeys* keys = session ? session->endpoint().tickets : nullptr;
  if (!keys) return 0;  // no shared keys: no ticket issued, or a full handshake
  const TicketKeys::Key* key = nullptr;
  bool isCurrent = true;
  if (encrypt) {
    key = &keys->current();
    std::memcpy(name, key->name, sizeof key->name);
    if (RAND_bytes(iv, 16) != 1) return -1;
  } else {
    key = keys->find(name, isCurrent);
    if (!key) return 0;  // unknown or expired key: full handshake
  }
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<uint8_t*>(key->hmac),
                                        sizeof key->hmac),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(mac, params) != 1) return -1;
  const int ok = encrypt ? EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes, iv)
                         : EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes, iv);
  if (ok != 1) return -1;
  return isCurrent ? 1 : 2;  // 2: accepted, and a ticket under the current key is sent
}

// A client connection got a session (TLS 1.3: a ticket after the handshake): the next connect
// to the same backend offers it. A copy: OpenSSL marks a connection's own session not
// resumable when that connection ends without close_notify (a backend closing first).
int onNewClientSession(SSL* ssl, SSL_SESSION* session) {
  TlsSession* owner = sessionOf(ssl);
  SSL_SESSION* copy = owner ? SSL_SESSION_dup(session) : nullptr;
  if (copy) owner->endpoint().lastSession.reset(copy, SSL_SESSION_free);
  return 0;  // OpenSSL keeps its own reference
}

}  // namespace

void installTlsClientCallbacks(SSL_CTX* ctx) {
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, onNewClientSession);
}

void installTlsCallbacks(SSL_CTX* ctx) {
  SSL_CTX_set_tlsext_servername_callback(ctx, onServerName);
  SSL_CTX_set_alpn_select_cb(ctx, onAlpn, nullptr);
  SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, onTicketKey);
}

std::unique_ptr<TlsSession> TlsSession::accept(const TlsEndpoint& endpoint, int fd) {
  SSL* ssl = SSL_new(endpoint.context);
  if (!ssl) {
    ERR_clear_error();
    return nullptr;
  }
  if (SSL_set_fd(ssl, fd) != 1) {
    SSL_free(ssl);
    ERR_clear_error();
    return nullptr;
  }
  SSL_set_accept_state(ssl);
  std::unique_ptr<TlsSession> session(new TlsSession(ssl, endpoint));
  SSL_set_app_data(ssl, session.get());
  return session;
}

std::unique_ptr<TlsSession> TlsSession::connect(const TlsEndpoint& endpoint, int fd) {
  SSL* ssl = SSL_new(endpoint.context);
  if (!ssl) {
    ERR_clear_error();
    return nullptr;
  }
  const std::string& name = endpoint.serverName;
  unsigned char ip[16];
  const bool literal =
      inet_pton(AF_INET, name.c_str(), ip) == 1 || inet_pton(AF_INET6, name.c_str(), ip) == 1;
  bool ok = SSL_set_fd(ssl, fd) == 1;
  if (ok && !name.empty()) {
    // SSL_set1_host takes a DNS name or an IP address (matched against the IP SANs).
    ok = SSL_set1_host(ssl, name.c_str()) == 1 &&
         (literal || SSL_set_tlsext_host_name(ssl, name.c_str()) == 1);
  }
  if (!ok) {
    SSL_free(ssl);
    ERR_clear_error();
    return nullptr;
  }
  SSL_set_connect_state(ssl);
  // A copy again, for the same reason (the stored one stays resumable whatever this one does).
  if (SSL_SESSION* copy =
          endpoint.lastSession ? SSL_SESSION_dup(endpoint.lastSession.get()) : nullptr) {
    SSL_set_session(ssl, copy);
    SSL_SESSION_free(copy);  // the SSL holds its own reference
  }
  std::unique_ptr<TlsSession> session(new TlsSession(ssl, endpoint));
  SSL_set_app_data(ssl, session.get());
  return session;
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

ssize_t TlsSession::failed(int ret, bool reading) {
  const int savedErrno = errno;
  const int error = SSL_get_error(ssl_, ret);
  switch (error) {
    case SSL_ERROR_WANT_READ:
      lastWantedWrite_ = false;
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_WANT_WRITE:
      lastWantedWrite_ = true;
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_ZERO_RETURN:  // close_notify
      if (reading) return 0;
      errno = EPIPE;
      return -1;
    case SSL_ERROR_SYSCALL:
      broken_ = true;
      ERR_clear_error();
      if (reading && savedErrno == 0) return 0;  // EOF without close_notify
      errno = savedErrno ? savedErrno : EPIPE;
      return -1;
    default: {
      broken_ = true;
      const unsigned long e = ERR_peek_error();
      ERR_clear_error();
      // OpenSSL 3 reports an EOF without close_notify as an error: for a server it is an
      // ordinary end of input (HTTP framing tells a complete request from a cut one).
      if (reading && ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) return 0;
      errno = EPROTO;
      return -1;
    }
  }
}

void TlsSession::countHandshake() {
  shm::CounterSlot c = endpoint_.counters;
  if (!c) return;
  c.inc(SSL_session_reused(ssl_) ? kTlsHandshakesResumed : kTlsHandshakesFull);
  if (SSL_version(ssl_) == TLS1_3_VERSION) c.inc(kTlsVersion13);
  if (SSL_version(ssl_) == TLS1_2_VERSION) c.inc(kTlsVersion12);
  std::string_view protocol = alpn();
  if (protocol == "h2") c.inc(kTlsAlpnH2);
  if (protocol == "http/1.1") c.inc(kTlsAlpnHttp11);
  if (ktls_) c.inc(kTlsKtls);
}

int TlsSession::handshake() {
  if (established_) return 1;
  const int ret = SSL_do_handshake(ssl_);
  if (ret == 1) {
    established_ = true;
    wantsWrite_ = false;
    ktls_ = BIO_get_ktls_send(SSL_get_wbio(ssl_)) > 0;
    countHandshake();
    return 1;
  }
  const bool waiting = failed(ret, false) < 0 && errno == EAGAIN;
  wantsWrite_ = waiting && lastWantedWrite_;
  if (waiting) return 0;
  if (endpoint_.counters) endpoint_.counters.inc(kTlsHandshakeFailures);
  broken_ = true;
  return -1;
}

ssize_t TlsSession::read(char* buffer, size_t length) {
  const int n = SSL_read(ssl_, buffer, static_cast<int>(std::min<size_t>(length, INT32_MAX)));
  if (n > 0) {
    wantsWrite_ = false;
    return n;
  }
  const ssize_t r = failed(n, true);
  wantsWrite_ = r < 0 && errno == EAGAIN && lastWantedWrite_;
  return r;
}

ssize_t TlsSession::write(const char* data, size_t length) {
  const int n = SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(length, INT32_MAX)));
  if (n > 0) return n;
  return failed(n, false);
}

ssize_t TlsSession::sendFile(int fd, off_t* offset, size_t length) {
  if (ktls_) {
    const ossl_ssize_t n = SSL_sendfile(ssl_, fd, *offset, length, 0);
    if (n > 0) {
      *offset += n;
      return n;
    }
    return failed(static_cast<int>(n), false);
  }
  // The same slice is read again after EAGAIN: OpenSSL wants the retried write to carry the
  // same bytes, and the file's bytes at this offset have not changed.
  const ssize_t got = ::pread(fd, gFileSlice, std::min(length, kFileSlice), *offset);
  if (got <= 0) return got;
  const ssize_t n = write(gFileSlice, static_cast<size_t>(got));
  if (n > 0) *offset += n;
  return n;
}

bool TlsSession::pending() const { return established_ && SSL_has_pending(ssl_); }

void TlsSession::closeNotify() {
  if (notified_ || broken_ || !established_) return;
  notified_ = true;
  if (SSL_shutdown(ssl_) < 0) ERR_clear_error();
}

bool TlsSession::resumed() const { return SSL_session_reused(ssl_) == 1; }

const char* TlsSession::verifyError() const {
  // Without SSL_VERIFY_PEER a result is recorded but did not decide anything.
  if (!(SSL_get_verify_mode(ssl_) & SSL_VERIFY_PEER)) return nullptr;
  const long result = SSL_get_verify_result(ssl_);
  return result == X509_V_OK ? nullptr : X509_verify_cert_error_string(result);
}

std::string_view TlsSession::alpn() const {
  const unsigned char* data = nullptr;
  unsigned length = 0;
  SSL_get0_alpn_selected(ssl_, &data, &length);
  return data ? std::string_view(reinterpret_cast<const char*>(data), length) : std::string_view();
}

}  // namespace manifold
