// libFuzzer target: the TLS layer of an outbound connection (worker/tls.hpp, TlsSession::connect,
// as worker/connector.hpp drives it for the proxy's TLS backends). The input is what a server
// sends (seeds: recorded server flights of TLS 1.3 and 1.2 handshakes), written into a
// socketpair whose other end is a client session on a real client context (verify on, a name
// to check, ALPN http/1.1); the session is driven as the connector and connection drive it
// (handshake until done or failed, then reads until EOF or error) and must end cleanly
// whatever the bytes: no crash, no hang, no certificate accepted that was not verified.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>

#include "worker/tls.hpp"
#include "worker/tls_context.hpp"

using namespace manifold;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::shared_ptr<TlsContext> context = [] {
    TlsProblem problem;
    auto ctx = TlsContext::buildClient(TlsClientOptions{}, problem);
    if (!ctx) abort();
    return ctx;
  }();
  static TlsEndpoint endpoint = [] {
    TlsEndpoint e;
    e.context = context->get();
    e.serverName = "fuzz.test";
    return e;
  }();
  if (size > 64 * 1024) return 0;  // fits the socket buffer: the write below never blocks
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair) < 0) return 0;
  if (size) (void)!::write(pair[0], data, size);
  ::shutdown(pair[0], SHUT_WR);  // the server sends nothing more: every wait ends
  {
    std::unique_ptr<TlsSession> session = TlsSession::connect(endpoint, pair[1]);
    if (session) {
      int state = 0;
      for (int i = 0; i < 64 && state == 0; ++i) state = session->handshake();
      // No trusted CA signs fuzz input: a completed handshake would mean verification failed
      // open. (A resumed session cannot occur: none is ever stored from a verified server.)
      if (state == 1) abort();
      (void)session->verifyError();
      session->closeNotify();
    }
  }
  ::close(pair[0]);
  ::close(pair[1]);
  return 0;
}
