// [dns:NAME] zone transfer keys:
//   allow_transfer = CIDR ...   clients that may AXFR/IXFR any zone of the section (default none:
//                               REFUSED; "none" says so explicitly)
//   notify = ADDR[:PORT] ...    secondaries sent a NOTIFY when a zone's serial changes
#include "protocols/dns/config.hpp"

namespace manifold::dns {

void parseTransfers(config::SectionReader& in, DnsConfig& cfg) {
  std::vector<net::Cidr> allow;
  std::vector<std::string> words = in.list("allow_transfer", "");
  for (const std::string& w : words) {
    if (w == "none" && words.size() == 1) break;
    net::Cidr c;
    if (!net::parseCidr(w, c)) in.fail("allow_transfer", "bad network '" + w + "'");
    allow.push_back(c);
  }
  for (const std::string& w : in.list("notify", "")) {
    NotifyTarget t;
    std::string why;
    if (!parseNotifyTarget(w, t, why)) in.fail("notify", why);
    cfg.notify.push_back(std::move(t));
  }
  cfg.transfers->allow = std::move(allow);
  std::string why;
  if (!cfg.transfers->build(*cfg.db, !cfg.transfers->allow.empty(), why)) in.fail("allow_transfer", why);
}

}  // namespace manifold::dns
