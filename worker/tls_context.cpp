#include "worker/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "worker/tls.hpp"
#include "worker/tls_session_cache.hpp"

namespace manifold {

namespace {

// nginx's default list: strong ciphers, no anonymous or MD5 suites (TLS 1.3 suites are separate
// and OpenSSL's defaults are kept).
constexpr const char* kDefaultCiphers = "HIGH:!aNULL:!MD5";

std::string lastSslError() {
  unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(e, text, sizeof text);
  return text;
}

int versionOf(const std::string& name) {
  return name == "TLSv1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
}

// Reads a PEM certificate chain file's leaf for the validity check.
X509* readLeaf(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return nullptr;
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  return cert;
}

}  // namespace

bool TlsContext::kernelTls() {
  static const bool available = [] {
    std::ifstream in("/proc/sys/net/ipv4/tcp_available_ulp");
    std::string word;
    while (in >> word)
      if (word == "tls") return true;
    return false;
  }();
  return available;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

std::shared_ptr<TlsContext> TlsContext::create(const SSL_METHOD* method, TlsProblem& problem) {
  ERR_clear_error();
  SSL_CTX* raw = SSL_CTX_new(method);
  if (!raw) {
    problem = {TlsProblem::Field::Other, 0, "SSL_CTX_new: " + lastSslError()};
    return nullptr;
  }
  return std::shared_ptr<TlsContext>(new TlsContext(raw));
}

std::shared_ptr<TlsContext> TlsContext::build(const TlsOptions& options, TlsProblem& problem,
                                              std::vector<std::string>& warnings) {
  std::shared_ptr<TlsContext> ctx = create(TLS_server_method(), problem);
  if (!ctx) return nullptr;
  SSL_CTX* raw = ctx->get();
  SSL_CTX_set_min_proto_version(raw, versionOf(options.minVersion));
  SSL_CTX_set_max_proto_version(raw, versionOf(options.maxVersion));
  // Writes resume with a moved buffer (the connection's output grows) and may be partial;
  // buffers are released while a connection idles.
  SSL_CTX_set_mode(raw, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  uint64_t ops = SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION;
  if (kernelTls()) ops |= SSL_OP_ENABLE_KTLS;
  SSL_CTX_set_options(raw, ops);
  // Whole socket reads into OpenSSL's buffer, not a 5-byte record header then its body: a
  // handshake takes 3 reads instead of 8 or 9 (decrypted bytes left over are picked up through
  // TlsSession::pending()).
  SSL_CTX_set_read_ahead(raw, 1);
  SSL_CTX_set_max_early_data(raw, 0);  // no 0-RTT: replayable requests (ssl_early_data off)
  SSL_CTX_set_timeout(raw, static_cast<long>(options.ticketLifetime));
  // Resumption by tickets (keys in shm) and, for TLS 1.2 clients without tickets, by session
  // ID from the shm cache: nothing per process that another worker could not see.
  installSessionCacheCallbacks(raw);
  SSL_CTX_set_num_tickets(raw, 1);

  const std::string ciphers = options.ciphers.empty() ? kDefaultCiphers : options.ciphers;
  if (SSL_CTX_set_cipher_list(raw, ciphers.c_str()) != 1) {
    problem = {TlsProblem::Field::Ciphers, 0, "no usable cipher in \"" + ciphers + "\""};
    return nullptr;
  }
  for (size_t i = 0; i < options.certificates.size(); ++i) {
    const std::string& certFile = options.certificates[i];
    const std::string& keyFile = i < options.keys.size() ? options.keys[i] : certFile;
    if (SSL_CTX_use_certificate_chain_file(raw, certFile.c_str()) != 1) {
      problem = {TlsProblem::Field::Certificate, i,
                 "cannot load certificate \"" + certFile + "\": " + lastSslError()};
      return nullptr;
    }
    if (SSL_CTX_use_PrivateKey_file(raw, keyFile.c_str(), SSL_FILETYPE_PEM) != 1) {
      problem = {TlsProblem::Field::Key, i,
                 "cannot load key \"" + keyFile + "\": " + lastSslError()};
      return nullptr;
    }
    if (SSL_CTX_check_private_key(raw) != 1) {
      problem = {TlsProblem::Field::Key, i,
                 "key \"" + keyFile + "\" does not match certificate \"" + certFile + "\""};
      ERR_clear_error();
      return nullptr;
    }
    if (X509* leaf = readLeaf(certFile)) {
      if (X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0)
        warnings.push_back("certificate \"" + certFile + "\" has expired");
      else if (X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0)
        warnings.push_back("certificate \"" + certFile + "\" is not valid yet");
      X509_free(leaf);
    }
  }
  if (!options.staplingFile.empty()) {
    std::ifstream in(options.staplingFile, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    ctx->ocspResponse_ = bytes.str();
    const unsigned char* p = reinterpret_cast<const unsigned char*>(ctx->ocspResponse_.data());
    OCSP_RESPONSE* parsed =
        in ? d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(ctx->ocspResponse_.size())) : nullptr;
    if (!parsed) {
      ERR_clear_error();
      problem = {TlsProblem::Field::Stapling, 0,
                 "\"" + options.staplingFile + "\" is not a readable DER OCSP response"};
      return nullptr;
    }
    OCSP_RESPONSE_free(parsed);
    SSL_CTX_set_tlsext_status_cb(raw, onStatus);
    SSL_CTX_set_tlsext_status_arg(raw, ctx.get());
  }
  installTlsCallbacks(raw);
  return ctx;
}

// Staples the response: OpenSSL frees what it is given, so each handshake gets a copy.
int TlsContext::onStatus(SSL* ssl, void* self) {
  const std::string& response = static_cast<TlsContext*>(self)->ocspResponse_;
  if (SSL_get_tlsext_status_type(ssl) != TLSEXT_STATUSTYPE_ocsp) return SSL_TLSEXT_ERR_NOACK;
  auto* copy = static_cast<unsigned char*>(OPENSSL_malloc(response.size()));
  if (!copy) return SSL_TLSEXT_ERR_NOACK;
  std::memcpy(copy, response.data(), response.size());
  SSL_set_tlsext_status_ocsp_resp(ssl, copy, static_cast<long>(response.size()));
  return SSL_TLSEXT_ERR_OK;
}

std::shared_ptr<TlsContext> TlsContext::buildClient(const TlsClientOptions& options,
                                                    TlsProblem& problem) {
  std::shared_ptr<TlsContext> ctx = create(TLS_client_method(), problem);
  if (!ctx) return nullptr;
  SSL_CTX* raw = ctx->get();
  SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
  SSL_CTX_set_mode(raw, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_options(raw, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_read_ahead(raw, 1);  // as for servers: fewer reads per handshake
  SSL_CTX_set_verify(raw, options.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  const bool trusted = options.caFile.empty() ? SSL_CTX_set_default_verify_paths(raw) == 1
                                              : SSL_CTX_load_verify_locations(
                                                    raw, options.caFile.c_str(), nullptr) == 1;
  if (!trusted && (options.verify || !options.caFile.empty())) {
    problem = {TlsProblem::Field::Ca, 0, options.caFile + ": " + lastSslError()};
    return nullptr;
  }
  ERR_clear_error();
  if (!options.certificate.empty()) {
    if (SSL_CTX_use_certificate_chain_file(raw, options.certificate.c_str()) != 1) {
      problem = {TlsProblem::Field::Certificate, 0, options.certificate + ": " + lastSslError()};
      return nullptr;
    }
    if (SSL_CTX_use_PrivateKey_file(raw, options.key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(raw) != 1) {
      problem = {TlsProblem::Field::Key, 0, options.key + ": " + lastSslError()};
      return nullptr;
    }
  }
  constexpr unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(raw, kHttp11, sizeof kHttp11);
  installTlsClientCallbacks(raw);
  return ctx;
}

}  // namespace manifold
