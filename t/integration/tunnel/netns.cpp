#include "t/integration/tunnel/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>
#include <thread>

namespace manifold::testing {

namespace {
int sequence = 0;
}

Netns::Netns(const std::string& tag)
    : name_("mft" + std::to_string(getpid()) + "x" + std::to_string(sequence++) + tag) {
  run("ip netns add " + name_);
  exec("ip link set lo up");
}

Netns::~Netns() { run("ip netns del " + name_ + " 2>/dev/null"); }

std::string Netns::exec(const std::string& command, int* rc) const {
  return run("ip netns exec " + name_ + " " + command, rc);
}

void Netns::inside(const std::function<void()>& fn) const {
  std::thread t([&] {
    int fd = open(("/var/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
      if (fd >= 0) close(fd);
      return;
    }
    close(fd);
    fn();
  });
  t.join();
}

void linkNamespaces(const Netns& a, const std::string& aDev, const std::string& aAddr,
                    const Netns& b, const std::string& bDev, const std::string& bAddr) {
  // Created under temporary names in a, then moved and renamed, so host names never collide.
  std::string tmpA = "va" + std::to_string(getpid() % 100000) + std::to_string(sequence);
  std::string tmpB = "vb" + std::to_string(getpid() % 100000) + std::to_string(sequence++);
  a.exec("ip link add " + tmpA + " type veth peer name " + tmpB);
  a.exec("ip link set " + tmpB + " netns " + b.name());
  a.exec("ip link set " + tmpA + " name " + aDev);
  b.exec("ip link set " + tmpB + " name " + bDev);
  a.exec("ip addr add " + aAddr + " dev " + aDev);
  b.exec("ip addr add " + bAddr + " dev " + bDev);
  a.exec("ip link set " + aDev + " up");
  b.exec("ip link set " + bDev + " up");
}

TunnelKeys makeTunnelKeys(const std::string& dir, const std::string& name) {
  TunnelKeys k;
  k.privatePath = dir + "/" + name + ".key";
  run(binPath("manifold-tunnel") + " genkey > " + k.privatePath);
  k.publicKey = run(binPath("manifold-tunnel") + " pubkey < " + k.privatePath);
  while (!k.publicKey.empty() && k.publicKey.back() == '\n') k.publicKey.pop_back();
  return k;
}

int64_t serviceCounter(const Instance& m, const std::string& service, const std::string& name) {
  std::istringstream text(run(binPath("manifold-shm") + " -n " + m.shmName() + " stats"));
  std::string line;
  bool inService = false;
  while (std::getline(text, line)) {
    if (line.rfind("  " + service + " (", 0) == 0) {
      inService = true;
      continue;
    }
    if (!inService) continue;
    if (line.rfind("    ", 0) != 0) break;
    std::istringstream words(line);
    std::string word, last;
    words >> word;
    if (word != name) continue;
    while (words >> word) last = word;
    return std::stoll(last);
  }
  return -1;
}

std::string regionText(const Instance& m, const std::string& region) {
  return run(binPath("manifold-shm") + " -n " + m.shmName() + " " + region);
}

int pingCount(const Netns& ns, const std::string& target, int count, double interval,
              const std::string& extra) {
  char cmd[256];
  std::snprintf(cmd, sizeof cmd, "ping -q -n -c %d -i %.3f -W 1 %s %s", count, interval,
                extra.c_str(), target.c_str());
  std::string out = ns.exec(cmd);
  size_t at = out.find(" received");
  if (at == std::string::npos) return 0;
  size_t start = out.rfind(", ", at);
  return std::stoi(out.substr(start + 2, at - start - 2));
}

}  // namespace manifold::testing
