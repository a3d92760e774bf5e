// A DNS-over-TCP session (RFC 1035 4.2.2, RFC 7766): each message is preceded by its 2-byte
// length; several queries per connection, answered in order. Between messages the connection
// has tcp_idle_timeout and may be closed to make room for a new one at tcp_max_connections
// (connection_quota.hpp); once a message has begun it must arrive whole within
// tcp_message_timeout. A zone transfer's messages after the first leave through the
// connection's send queue (transfer.hpp).
#pragma once

#include "worker/connection.hpp"
#include "worker/connection_quota.hpp"

namespace manifold::dns {

class DnsService;

class TcpHandler : public ConnectionHandler {
 public:
  TcpHandler(DnsService& s, ConnectionQuota& quota, Connection& conn);
  void onReadable(Connection& conn) override;
  void onDrained(Connection& conn) override;
  bool busy() const override { return partial_; }

 private:
  DnsService& service_;
  ConnectionQuota::Slot slot_;  // counts against tcp_max_connections while open
  bool partial_ = false;

  void messageStarted(Connection& conn);
  void messageDone(Connection& conn);
  void betweenMessages(Connection& conn);
};

}  // namespace manifold::dns
