// How a service serves its http::Site: the site joins the listener of each of the worker's TCP
// sockets it names (a listener shared with other sites of the same address routes by Host), and
// stops accepting with the service. Every service on the HTTP engine (static, tracker, status)
// uses this instead of keeping its own list of listeners.
//
//   http::SiteBinding binding_{*ctx.runtime, site_};
//   void start() override { binding_.start(ctx_.fds); }      // or just the TCP fds
//   void stopAccepting() override { binding_.stop(); }
#pragma once

#include <memory>
#include <span>
#include <vector>

namespace manifold {
class TicketRotator;
class WorkerRuntime;
}  // namespace manifold

namespace manifold::http {

class Listener;
struct Site;

class SiteBinding {
 public:
  // `site` must outlive the binding (listeners keep a pointer to it).
  SiteBinding(WorkerRuntime& runtime, Site& site);
  ~SiteBinding();
  SiteBinding(const SiteBinding&) = delete;
  SiteBinding& operator=(const SiteBinding&) = delete;

  // Adds the site to the listener of each fd (listening TCP sockets of this worker) and starts
  // them accepting; with TLS session tickets, the worker that runs instance tasks rotates their
  // keys. Call once, from Service::start().
  void start(std::span<const int> fds);
  // Graceful stop: those listeners accept no more connections; open ones finish.
  void stop();

 private:
  WorkerRuntime& runtime_;
  Site& site_;
  std::vector<Listener*> listeners_;
  std::unique_ptr<TicketRotator> rotator_;
};

}  // namespace manifold::http
