#include "protocols/http/tls_keys.hpp"

#include <ctime>

#include "protocols/http/server.hpp"
#include "worker/log.hpp"
#include "worker/tls_context.hpp"
#include "worker/tls_session_cache.hpp"
#include "worker/tls_tickets.hpp"

namespace manifold::http {

namespace {
using config::Millis;
constexpr Millis kWeek{7 * 24 * 3600 * 1000LL};
}  // namespace

void TlsKeys::read(config::SectionReader& in, const std::vector<config::ListenAddress>& listen) {
  bool anyTls = false;
  listenTls.clear();
  for (const config::ListenAddress& address : listen) {
    listenTls.push_back(address.tls);
    anyTls = anyTls || address.tls;
  }
  TlsOptions options;
  options.certificates.clear();
  for (const std::string& file : in.list("tls_certificate", ""))
    options.certificates.push_back(config::absolutePath(file));
  for (const std::string& file : in.list("tls_key", ""))
    options.keys.push_back(config::absolutePath(file));
  std::vector<std::string> protocols = in.list("tls_protocols", "TLSv1.2 TLSv1.3");
  options.ciphers = in.text("tls_ciphers", "");
  options.staplingFile = in.path("tls_stapling_file", "");
  ticketRotation = in.seconds("tls_ticket_key_rotation", Millis(3600 * 1000), Millis(1000), kWeek);
  options.ticketLifetime = 2 * ticketRotation;  // a ticket's key lives one to two rotations
  sessionCache = in.size("tls_session_cache", 1 << 20, 0, 1ull << 30);
  if (sessionCache != 0 && sessionCache < 64 * 1024)
    in.fail("tls_session_cache", "must be 0 (off) or at least 64k");
  http2 = in.flag("http2", true);
  h2c = in.flag("h2c", false);

  if (!anyTls) {
    if (!options.certificates.empty())
      in.fail("tls_certificate", "no listen address has the tls flag (listen = ADDR:PORT tls)");
    return;
  }
  if (options.certificates.empty())
    in.fail("tls_certificate", "required: a listen address has the tls flag");
  if (options.keys.size() != options.certificates.size())
    in.fail("tls_key", "one key file per certificate (" +
                           std::to_string(options.certificates.size()) + " certificate(s), " +
                           std::to_string(options.keys.size()) + " key(s))");
  bool v12 = false, v13 = false;
  for (const std::string& p : protocols) {
    if (p == "TLSv1.2")
      v12 = true;
    else if (p == "TLSv1.3")
      v13 = true;
    else
      in.fail("tls_protocols", "'" + p + "': expected TLSv1.2 and/or TLSv1.3");
  }
  options.minVersion = v12 ? "TLSv1.2" : "TLSv1.3";
  options.maxVersion = v13 ? "TLSv1.3" : "TLSv1.2";

  TlsProblem problem;
  std::vector<std::string> warnings;
  context = TlsContext::build(options, problem, warnings);
  if (!context) {
    switch (problem.field) {
      case TlsProblem::Field::Key:
        in.fail("tls_key", problem.why);
      case TlsProblem::Field::Ciphers:
        in.fail("tls_ciphers", problem.why);
      case TlsProblem::Field::Stapling:
        in.fail("tls_stapling_file", problem.why);
      default:
        in.fail("tls_certificate", problem.why);
    }
  }
  for (const std::string& warning : warnings)
    LOG_WARN("%s:%d: tls_certificate: %s", in.file().c_str(), in.lineOf("tls_certificate"),
             warning.c_str());
}

std::vector<RegionRequest> TlsKeys::regions(const std::string& title) const {
  std::vector<RegionRequest> out;
  out.push_back({title + "/tls-tickets", TicketKeys::layout(), TicketKeys::bytes(),
                 [](void* base, size_t, bool adopted) {
                   if (!adopted) TicketKeys::format(base, static_cast<uint64_t>(::time(nullptr)));
                 },
                 ""});
  if (sessionCache > 0)
    out.push_back({title + "/tls-sessions", TlsSessionCache::layout(),
                   TlsSessionCache::bytesFor(sessionCache),
                   [](void* base, size_t bytes, bool adopted) {
                     if (!adopted) TlsSessionCache::format(base, bytes);
                   },
                   "tls_session_cache"});
  return out;
}

void TlsKeys::describe(Site& site, void* region, void* sessionRegion) const {
  site.tls = context;
  site.listenTls = listenTls;
  site.ticketRotation = ticketRotation;
  site.http2 = http2;
  site.h2c = h2c;
  site.tickets = context && region ? std::make_shared<TicketKeys>(region) : nullptr;
  site.sessions = nullptr;
  if (context && sessionRegion) site.sessions = TlsSessionCache::attach(sessionRegion);
}

}  // namespace manifold::http
