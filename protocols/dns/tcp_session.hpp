// A DNS-over-TCP session (RFC 1035 4.2.2, RFC 7766): each message is preceded by its 2-byte
// length; several queries per connection, answered in order; the idle timeout is the
// connection's (set by the acceptor). A zone transfer's messages after the first leave through
// the connection's send queue (transfer.hpp).
#pragma once

#include "worker/connection.hpp"
#include "worker/connection_quota.hpp"

namespace manifold::dns {

class DnsService;

class TcpHandler : public ConnectionHandler {
 public:
  TcpHandler(DnsService& s, ConnectionQuota& quota) : service_(s), slot_(quota) {}
  void onReadable(Connection& conn) override;
  bool busy() const override { return partial_; }

 private:
  DnsService& service_;
  ConnectionQuota::Slot slot_;  // counts against tcp_max_connections while open
  bool partial_ = false;
};

}  // namespace manifold::dns
