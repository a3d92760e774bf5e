// [dns:NAME] zone transfer keys:
//   allow_transfer = CIDR ...   clients that may AXFR/IXFR any zone of the section (default none:
//                               REFUSED; "none" says so explicitly)
//   notify = ADDR[:PORT] ...    secondaries sent a NOTIFY when a zone's serial changes
#include "protocols/dns/config.hpp"

namespace manifold::dns {

void parseTransfers(config::SectionReader& in, DnsConfig& cfg) {
  std::vector<net::Cidr> allow = in.networks("allow_transfer", "");
  for (const config::ListenAddress& a : in.addresses("notify", 53))
    cfg.notify.push_back(NotifyTarget{a.addr, a.len, a.text});
  cfg.transfers->allow = std::move(allow);
  std::string why;
  if (!cfg.transfers->build(*cfg.db, !cfg.transfers->allow.empty(), why))
    in.fail("allow_transfer", why);
}

}  // namespace manifold::dns
