#include "protocols/tunnel/tun_device.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "worker/log.hpp"

extern char** environ;

namespace manifold::tunnel {

namespace {

std::map<std::string, std::weak_ptr<TunDevice>>& devices() {
  static std::map<std::string, std::weak_ptr<TunDevice>> all;
  return all;
}
std::set<int>& allQueues() {
  static std::set<int> fds;
  return fds;
}
std::set<int>& claimedQueues() {
  static std::set<int> fds;
  return fds;
}

// One queue of the device: TUNSETIFF on a fresh /dev/net/tun fd. Every read and write carries a
// virtio_net_hdr first (IFF_VNET_HDR).
int openQueue(const std::string& name, std::string& error) {
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    error = std::string("/dev/net/tun: ") + std::strerror(errno);
    return -1;
  }
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE | IFF_VNET_HDR;
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  // TCP segmentation offload: the kernel hands over 64 KiB super-packets (gso.hpp splits them).
  unsigned offload = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
  if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETOFFLOAD, offload) < 0) {
    error = "TUNSETIFF " + name + ": " + std::strerror(errno);
    close(fd);
    return -1;
  }
  allQueues().insert(fd);
  return fd;
}

std::vector<std::string> hookEnv(const TunSettings& s) {
  return {"DEVICE=" + s.name, "MTU=" + std::to_string(s.mtu)};
}

}  // namespace

std::string TunSettings::signature() const {
  std::string out = name + "|" + std::to_string(mtu) + "|" + std::to_string(txqueuelen) + "|";
  for (auto& a : addresses) out += a + ",";
  out += "|";
  for (auto& r : routes) out += r + ",";
  return out + "|" + upHook + "|" + downHook;
}

bool runCommand(const std::vector<std::string>& argv, std::string& error,
                const std::vector<std::string>& env) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> envText;
  for (char** e = environ; *e; ++e) envText.emplace_back(*e);
  envText.insert(envText.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : envText) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = 0;
  std::string line;
  for (auto& a : argv) line += (line.empty() ? "" : " ") + a;
  if (posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), envp.data()) != 0) {
    error = "cannot run " + line;
    return false;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  error = line + " failed (status " + std::to_string(status) + ")";
  return false;
}

std::shared_ptr<TunDevice> TunDevice::acquire(const TunSettings& settings, std::string& error) {
  auto& all = devices();
  if (auto it = all.find(settings.name); it != all.end()) {
    if (auto existing = it->second.lock()) {
      if (existing->settings_.signature() == settings.signature()) return existing;
      LOG_NOTICE("tunnel device %s: settings changed, re-creating it", settings.name.c_str());
      existing->destroy();
    }
  }
  std::shared_ptr<TunDevice> device(new TunDevice(settings));
  if (!device->create(error)) return nullptr;
  all[settings.name] = device;
  return device;
}

bool TunDevice::create(std::string& error) {
  owner_ = getpid();
  anchor_ = openQueue(settings_.name, error);
  if (anchor_ < 0) return false;
  // Detached: the anchor keeps the device but the kernel never queues packets on it.
  ifreq ifr{};
  ifr.ifr_flags = IFF_DETACH_QUEUE;
  if (ioctl(anchor_, TUNSETQUEUE, &ifr) < 0) {
    error = "TUNSETQUEUE detach " + settings_.name + ": " + std::strerror(errno);
    return false;
  }
  const std::string& dev = settings_.name;
  if (!runCommand({"ip", "link", "set", "dev", dev, "mtu", std::to_string(settings_.mtu),
                   "txqueuelen", std::to_string(settings_.txqueuelen)},
                  error))
    return false;
  for (auto& address : settings_.addresses)
    if (!runCommand({"ip", "addr", "add", address, "dev", dev}, error)) return false;
  if (!runCommand({"ip", "link", "set", "dev", dev, "up"}, error)) return false;
  for (auto& route : settings_.routes)
    if (!runCommand({"ip", "route", "replace", route, "dev", dev}, error)) return false;
  if (!settings_.upHook.empty() &&
      !runCommand({"/bin/sh", "-c", settings_.upHook, "up", dev}, error, hookEnv(settings_)))
    LOG_ERROR("tunnel device %s: up hook: %s", dev.c_str(), error.c_str());
  LOG_NOTICE("tunnel device %s created (mtu %u)", dev.c_str(), settings_.mtu);
  return true;
}

void TunDevice::destroy() {
  if (destroyed_ || owner_ != getpid()) return;
  destroyed_ = true;
  std::string error;
  if (!settings_.downHook.empty() &&
      !runCommand({"/bin/sh", "-c", settings_.downHook, "down", settings_.name}, error,
                  hookEnv(settings_)))
    LOG_ERROR("tunnel device %s: down hook: %s", settings_.name.c_str(), error.c_str());
  // Queues of draining workers may still hold it: delete the link itself.
  if (!runCommand({"ip", "link", "del", "dev", settings_.name}, error))
    LOG_WARN("tunnel device %s: %s", settings_.name.c_str(), error.c_str());
  closeQueue(anchor_);
  anchor_ = -1;
}

TunDevice::~TunDevice() {
  if (owner_ == getpid()) {
    destroy();
  } else if (anchor_ >= 0) {
    closeQueue(anchor_);
  }
}

std::vector<int> TunDevice::openQueues(unsigned n, std::string& error) {
  std::vector<int> fds;
  for (unsigned i = 0; i < n; ++i) {
    int fd = openQueue(settings_.name, error);
    if (fd < 0) {
      for (int f : fds) closeQueue(f);
      return {};
    }
    fds.push_back(fd);
  }
  return fds;
}

void TunDevice::claim(int fd) { claimedQueues().insert(fd); }

void TunDevice::closeUnclaimed() {
  for (int fd : allQueues())
    if (!claimedQueues().count(fd)) close(fd);
  allQueues() = claimedQueues();
}

void TunDevice::closeQueue(int fd) {
  if (fd < 0) return;
  allQueues().erase(fd);
  close(fd);
}

}  // namespace manifold::tunnel
