#include "protocols/http/site_binding.hpp"

#include "protocols/http/server.hpp"

namespace manifold::http {

void SiteBinding::start(std::span<const int> fds) {
  for (int fd : fds) {
    Listener& listener = Listener::forFd(runtime_, fd);
    listener.addSite(&site_);
    listener.start();
    listeners_.push_back(&listener);
  }
}

void SiteBinding::stop() {
  for (Listener* listener : listeners_) listener->stop();
}

}  // namespace manifold::http
