#include "protocols/dns/tcp_session.hpp"

#include <sys/socket.h>

#include "protocols/dns/counters.hpp"
#include "protocols/dns/service.hpp"
#include "protocols/dns/wire.hpp"
#include "worker/runtime.hpp"

namespace manifold::dns {

TcpHandler::TcpHandler(DnsService& s, ConnectionQuota& quota, Connection& conn)
    : service_(s), slot_(quota) {
  slot_.onEvict([](void* c) { static_cast<Connection*>(c)->close(); }, &conn);
  slot_.setIdle(conn.runtime().loopTime());
}

void TcpHandler::messageStarted(Connection& conn) {
  if (partial_) return;
  partial_ = true;
  slot_.setBusy();
  conn.setDeadline(service_.config().tcpMessageTimeout);
}

void TcpHandler::messageDone(Connection& conn) {
  if (!partial_) return;
  partial_ = false;
  conn.setIdleTimeout(service_.config().tcpIdle);
}

void TcpHandler::betweenMessages(Connection& conn) {
  messageDone(conn);
  // An answer still leaving (a zone transfer) is work in progress, not idleness.
  if (conn.outputPending())
    slot_.setBusy();
  else
    slot_.setIdle(conn.runtime().loopTime());
}

void TcpHandler::onDrained(Connection& conn) {
  if (!partial_) betweenMessages(conn);
}

void TcpHandler::onReadable(Connection& conn) {
  // RFC 1035 4.2.2 / RFC 7766: each message is preceded by its 2-byte length.
  for (;;) {
    std::string_view in = conn.pendingInput();
    if (in.size() < 2) {
      if (in.empty())
        betweenMessages(conn);
      else
        messageStarted(conn);
      return;
    }
    size_t len = get16(reinterpret_cast<const uint8_t*>(in.data()));
    if (len == 0) {
      conn.closeAfterFlush();
      return;
    }
    if (in.size() < 2 + len) {
      messageStarted(conn);
      return;
    }
    messageDone(conn);
    uint8_t* buf = service_.tcpBuffer();
    service_.counters().inc(kQueriesTcp);
    const auto* msg = reinterpret_cast<const uint8_t*>(in.data()) + 2;
    const ZoneTransfer* stream = nullptr;
    size_t n = service_.handle(msg, len, reinterpret_cast<const sockaddr*>(&conn.peer()), buf + 2,
                               65535, false, &stream);
    conn.consume(2 + len);
    if (n) {
      put16(buf, static_cast<uint16_t>(n));
      conn.output().append(reinterpret_cast<const char*>(buf), n + 2);
      // The rest of a zone transfer: file ranges in the send queue, sent as the client reads;
      // later queries on this connection are answered after it.
      TsigState& tsig = service_.tsig();
      if (!service_.ixfrRest().empty())
        queueMessages(conn, service_.ixfrRest(), get16(msg), tsig);
      else if (stream && tsig.key)
        queueSignedTransferRest(conn, service_.transfers(), *stream, get16(msg), *tsig.key,
                                tsig.mac, tsig.time);
      else if (stream)
        queueTransferRest(conn, service_.transfers(), *stream, get16(msg));
    } else {
      conn.closeAfterFlush();  // a message we do not answer: nothing sensible follows
      return;
    }
  }
}

}  // namespace manifold::dns
