// The protocol registry: each protocol adds itself with MANIFOLD_PROTOCOL in its own folder.
#include <algorithm>
#include <map>

#include "protocols/service.hpp"

namespace manifold {
namespace {
// Function-local static: registrars run during static initialisation in any order.
std::map<std::string, ProtocolParser, std::less<>>& registry() {
  static std::map<std::string, ProtocolParser, std::less<>> protocols;
  return protocols;
}
}  // namespace

std::vector<ListenRequest> listenRequests(const std::vector<config::ListenAddress>& addresses,
                                          int line, bool udp, bool tcp) {
  std::vector<ListenRequest> out;
  for (const auto& address : addresses) {
    int at = address.line > 0 ? address.line : line;  // a list may span repeated keys
    if (udp) out.push_back({address, Transport::Udp, at});
    if (tcp) out.push_back({address, Transport::Tcp, at});
  }
  return out;
}

ProtocolRegistrar::ProtocolRegistrar(const char* name, ProtocolParser parse) {
  registry()[name] = parse;
}

ProtocolParser findProtocol(std::string_view name) {
  auto it = registry().find(name);
  return it == registry().end() ? nullptr : it->second;
}

std::vector<std::string> protocolNames() {
  std::vector<std::string> names;
  for (auto& [name, parse] : registry()) names.push_back(name);
  return names;
}

}  // namespace manifold
