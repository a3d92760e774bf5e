// Fuzz target: manifold::config::load() on arbitrary file contents.
// Every rejection must be a ConfigError; anything else escaping (or a sanitizer report) is a bug,
// in the config layer or in a protocol's section parser.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "master/config.hpp"
#include "protocols/service.hpp"

namespace {

// One in-memory file per fuzzing process, rewritten for each input: nothing left in /tmp.
int configFd() {
  static int fd = [] {
    int f = memfd_create("manifold-fuzz-config", MFD_CLOEXEC);
    if (f < 0) std::abort();
    return f;
  }();
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fd = configFd();
  if (ftruncate(fd, 0) != 0) std::abort();
  size_t done = 0;
  while (done < size) {
    ssize_t n = pwrite(fd, data + done, size - done, static_cast<off_t>(done));
    if (n <= 0) std::abort();
    done += static_cast<size_t>(n);
  }
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  try {
    auto cfg = manifold::config::load(path);
    for (const auto& service : cfg->services) (void)service->listeners();
  } catch (const manifold::config::ConfigError&) {
  }
  return 0;
}
