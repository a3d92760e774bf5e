// libFuzzer target: the TLS layer of a connection (worker/tls.hpp) on the server side. The
// input is what a client sends (seeds: recorded ClientHellos), written into a socketpair whose
// other end is a TlsSession on a real context (a certificate made at start-up); the session is
// driven as the connection drives it (handshake until done or failed, then reads until EOF or
// error) and must end cleanly whatever the bytes: no crash, no hang, no read past its buffer.
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "worker/tls.hpp"
#include "worker/tls_context.hpp"

using namespace manifold;

namespace {

// A self-signed P-256 certificate and its key in a temp dir: the context takes files.
std::shared_ptr<TlsContext> makeContext() {
  char dir[] = "/tmp/tls-fuzz-XXXXXX";
  if (!mkdtemp(dir)) abort();
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("fuzz.test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  const std::string certPath = std::string(dir) + "/c.pem", keyPath = std::string(dir) + "/k.pem";
  FILE* f = std::fopen(certPath.c_str(), "w");
  PEM_write_X509(f, cert);
  std::fclose(f);
  f = std::fopen(keyPath.c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(cert);
  EVP_PKEY_free(key);
  TlsOptions options;
  options.certificates = {certPath};
  options.keys = {keyPath};
  TlsProblem problem;
  std::vector<std::string> warnings;
  auto ctx = TlsContext::build(options, problem, warnings);
  if (!ctx) abort();
  ::unlink(certPath.c_str());
  ::unlink(keyPath.c_str());
  ::rmdir(dir);
  return ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::shared_ptr<TlsContext> context = makeContext();
  static TlsEndpoint endpoint = [] {
    TlsEndpoint e;
    e.context = context->get();
    e.offerH2 = true;
    return e;
  }();
  if (size > 64 * 1024) return 0;  // fits the socket buffer: the write below never blocks
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair) < 0) return 0;
  if (size) (void)!::write(pair[0], data, size);
  ::shutdown(pair[0], SHUT_WR);  // the client sends nothing more: every wait ends
  {
    std::unique_ptr<TlsSession> session = TlsSession::accept(endpoint, pair[1]);
    if (session) {
      int state = 0;
      for (int i = 0; i < 64 && state == 0; ++i) state = session->handshake();
      if (state == 1) {
        (void)session->alpn();
        char buffer[4096];
        for (int i = 0; i < 64; ++i) {
          ssize_t n = session->read(buffer, sizeof buffer);
          if (n <= 0 && !(n < 0 && errno == EAGAIN && session->pending())) break;
        }
      }
      session->closeNotify();
    }
  }
  ::close(pair[0]);
  ::close(pair[1]);
  return 0;
}
