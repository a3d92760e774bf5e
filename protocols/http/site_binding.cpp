#include "protocols/http/site_binding.hpp"

#include "protocols/http/server.hpp"
#include "worker/runtime.hpp"
#include "worker/tls_tickets.hpp"

namespace manifold::http {

SiteBinding::SiteBinding(WorkerRuntime& runtime, Site& site) : runtime_(runtime), site_(site) {}

SiteBinding::~SiteBinding() = default;

void SiteBinding::start(std::span<const int> fds) {
  for (size_t i = 0; i < fds.size(); ++i) {
    Listener& listener = Listener::forFd(runtime_, fds[i]);
    listener.addSite(&site_, i < site_.listenTls.size() && site_.listenTls[i]);
    listener.start();
    listeners_.push_back(&listener);
  }
  if (site_.tickets && runtime_.runsInstanceTasks()) {
    rotator_ =
        std::make_unique<TicketRotator>(runtime_.loop(), *site_.tickets, site_.ticketRotation,
                                        site_.counters.from(kTlsHandshakesFull));
    rotator_->start();
  }
}

void SiteBinding::stop() {
  for (Listener* listener : listeners_) listener->stop();
  if (rotator_) rotator_->stop();  // the next generation's instance worker takes over
}

}  // namespace manifold::http
