// A server TLS context (OpenSSL 3 SSL_CTX) built from certificate and key files. Control plane:
// the master builds it while it parses the config (before workers fork and drop privileges, so
// keys may be readable by root only), and every worker inherits it. A reload builds a new one.
//
// Several certificate/key pairs may be given at once (an RSA and an ECDSA one): OpenSSL keeps
// one per key type and picks by what the client supports. A certificate file may hold a chain
// (leaf first). Problems are reported with the index of the pair and which file was at fault,
// so config code can name the key and line; an expired (or not yet valid) certificate is a
// warning, not a refusal, as the server may still be useful to clients that accept it.
// OCSP stapling: a DER OCSP response file (as nginx's ssl_stapling_file), checked to parse,
// is sent to every client that asks for the certificate status; a reload reads it again.
#pragma once

#include <memory>
#include <string>
#include <vector>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct ssl_method_st SSL_METHOD;

namespace manifold {

struct TlsOptions {
  std::vector<std::string> certificates;  // PEM files, one per key type
  std::vector<std::string> keys;          // the matching private keys, same order
  std::string minVersion = "TLSv1.2";     // "TLSv1.2" or "TLSv1.3"
  std::string maxVersion = "TLSv1.3";
  std::string ciphers;       // TLS 1.2 cipher list (OpenSSL syntax); empty: the default below
  std::string staplingFile;  // a DER OCSP response stapled to every handshake that asks; "": none
  double ticketLifetime = 7200;  // seconds a session ticket is accepted
};

// A client context (outbound TLS: the proxy to its backends). The CA file is PEM (one or more
// certificates); "" trusts the system store. A client certificate is optional.
struct TlsClientOptions {
  bool verify = true;
  std::string caFile;
  std::string certificate;
  std::string key;
};

struct TlsProblem {
  enum class Field { Certificate, Key, Ciphers, Stapling, Ca, Other } field = Field::Other;
  size_t index = 0;  // which certificate/key pair
  std::string why;
};

class TlsContext {
 public:
  // Builds the context; nullptr and `problem` filled when a file cannot be read or parsed, a
  // key does not match its certificate, or the cipher list selects nothing. Warnings
  // (expired certificates) are appended to `warnings`.
  static std::shared_ptr<TlsContext> build(const TlsOptions& options, TlsProblem& problem,
                                           std::vector<std::string>& warnings);
  // A client context: TLS 1.2+, ALPN http/1.1, the peer verified when options.verify, and the
  // server's sessions kept per target for resumption (TlsEndpoint::lastSession).
  static std::shared_ptr<TlsContext> buildClient(const TlsClientOptions& options,
                                                 TlsProblem& problem);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  SSL_CTX* get() const { return ctx_; }

  // Whether the running kernel offers the `tls` ULP (kTLS): checked once per process. Contexts
  // built when it does ask OpenSSL to move the record layer into the kernel after the handshake,
  // so file bodies go out with sendfile.
  static bool kernelTls();

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  static std::shared_ptr<TlsContext> create(const SSL_METHOD* method, TlsProblem& problem);
  static int onStatus(SSL* ssl, void* self);
  SSL_CTX* ctx_;
  std::string ocspResponse_;  // DER, read once by the master
};

}  // namespace manifold
