#include "master/listeners.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <stdexcept>

namespace manifold {

namespace {

constexpr int kBacklog = 4096;
constexpr int kUdpBuffer = 4 << 20;

int openSocket(const ListenRequest& request) {
  const auto& address = request.address;
  bool tcp = request.transport == Transport::Tcp;
  int fd = ::socket(address.family(),
                    (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket(" + address.text + "): " + strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    int saved = errno;
    ::close(fd);
    throw std::runtime_error("SO_REUSEPORT on " + address.text + ": " + strerror(saved));
  }
  if (address.family() == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (!tcp) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kUdpBuffer, sizeof kUdpBuffer);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kUdpBuffer, sizeof kUdpBuffer);
  }
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address.addr), address.len) != 0) {
    int saved = errno;
    ::close(fd);
    throw std::runtime_error(std::string("bind ") + (tcp ? "tcp " : "udp ") + address.text + ": " +
                             strerror(saved));
  }
  if (tcp && ::listen(fd, kBacklog) != 0) {
    int saved = errno;
    ::close(fd);
    throw std::runtime_error("listen " + address.text + ": " + strerror(saved));
  }
  return fd;
}

}  // namespace

ListenerSet::~ListenerSet() { closeAll(); }

std::string ListenerSet::keyOf(const ListenRequest& request) {
  return std::string(request.transport == Transport::Tcp ? "tcp " : "udp ") + request.address.text;
}

std::vector<std::string> ListenerSet::reconcile(const std::vector<ListenRequest>& wanted,
                                                unsigned workers) {
  // Build the new sockets aside so that a failure leaves the running set untouched.
  std::map<std::string, std::vector<int>> opened;
  std::map<std::string, std::vector<int>> grown;  // extra sockets for kept keys
  try {
    for (const auto& request : wanted) {
      std::string key = keyOf(request);
      auto existing = sockets_.find(key);
      size_t have = existing == sockets_.end() ? 0 : existing->second.size();
      if (existing == sockets_.end()) {
        if (opened.count(key)) continue;
        auto& fds = opened[key];
        for (unsigned i = 0; i < workers; ++i) fds.push_back(openSocket(request));
      } else if (have < workers && !grown.count(key)) {
        auto& fds = grown[key];
        for (size_t i = have; i < workers; ++i) fds.push_back(openSocket(request));
      }
    }
  } catch (...) {
    for (auto* group : {&opened, &grown})
      for (auto& [key, fds] : *group)
        for (int fd : fds) ::close(fd);
    throw;
  }
  std::set<std::string> keep;
  for (const auto& request : wanted) keep.insert(keyOf(request));
  std::vector<std::string> removed;
  for (auto& [key, fds] : sockets_) {
    if (!keep.count(key)) {
      removed.push_back(key);
    } else if (fds.size() > workers) {
      // Fewer workers: the extra sockets' queued connections are lost when closed later.
      for (size_t i = workers; i < fds.size(); ++i) ::close(fds[i]);
      fds.resize(workers);
    }
  }
  // Listen again on sockets suspended for a crash-looping worker: the new generation uses them.
  for (auto& [key, indexes] : suspended_) {
    auto it = sockets_.find(key);
    if (it == sockets_.end()) continue;
    for (unsigned index : indexes)
      if (index < it->second.size()) ::listen(it->second[index], kBacklog);
  }
  suspended_.clear();
  for (auto& [key, fds] : grown) sockets_[key].insert(sockets_[key].end(), fds.begin(), fds.end());
  for (auto& [key, fds] : opened) sockets_[key] = std::move(fds);
  // Removed keys stay open until the old generation is gone; callers close them.
  for (auto& key : removed) {
    retired_[key] = std::move(sockets_[key]);
    sockets_.erase(key);
  }
  return removed;
}

void ListenerSet::suspendIndex(unsigned index) {
  for (auto& [key, fds] : sockets_) {
    if (index >= fds.size() || key.compare(0, 4, "tcp ") != 0) continue;
    auto& indexes = suspended_[key];
    if (std::find(indexes.begin(), indexes.end(), index) != indexes.end()) continue;
    // On a listening TCP socket, SHUT_RD stops listening (queued connections are reset) but
    // keeps the bound address; listen() resumes it. UDP has no equivalent.
    if (::shutdown(fds[index], SHUT_RD) == 0) indexes.push_back(index);
  }
}

void ListenerSet::closeKeys(const std::vector<std::string>& keys) {
  for (const auto& key : keys) {
    auto it = retired_.find(key);
    if (it == retired_.end()) continue;
    for (int fd : it->second) ::close(fd);
    retired_.erase(it);
  }
}

void ListenerSet::closeInChild(const std::vector<int>& keep) const {
  for (auto* group : {&sockets_, &retired_})
    for (auto& [key, fds] : *group)
      for (int fd : fds)
        if (std::find(keep.begin(), keep.end(), fd) == keep.end()) ::close(fd);
}

void ListenerSet::closeAll() {
  for (auto* group : {&sockets_, &retired_})
    for (auto& [key, fds] : *group)
      for (int fd : fds) ::close(fd);
  sockets_.clear();
  retired_.clear();
}

const std::vector<int>& ListenerSet::sockets(const ListenRequest& request) const {
  return sockets_.at(keyOf(request));
}

}  // namespace manifold
