// manifold-swarm-bench: the tracker's swarm store alone (no sockets, no kernel) under the churn
// profile of manifold-tracker-load (issue 16): 90% announces of new peers (127.0.0.1, random
// port, a third seeders, a quarter event=started, numwant 50) and 10% scrapes of 1-4 hashes,
// torrent index N*u^3. Requests are prefetched as UdpEndpoint and the UDP handler do (torrent
// slot 4 requests ahead, the peer table's lines 2 ahead). It prints the CPU
// nanoseconds per request: the tracker's own cost, which a UDP benchmark on a busy 2-core
// machine hides in the kernel's and the noise.
//
//   manifold-swarm-bench [--seconds 5] [--warmup 2000000] [--torrents 10000] [--memory-mb 256]
//       [--numwant 50] [--huge 0|1]
//
// --huge 1 asks for 2 MiB pages on the store (madvise(MADV_HUGEPAGE) on a private mapping, which
// /sys/kernel/mm/transparent_hugepage/enabled = madvise grants): the TLB effect of the daemon's
// huge-page request on its shm region, without the /dev/shm mount setting that one needs.
//
// Last line: "requests N ns/request F announce-peers F torrents N peers N"
#include <sys/mman.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>

#include "protocols/tracker/swarm_store.hpp"
#include "shm/huge_pages.hpp"

using namespace manifold::tracker;

namespace {

double cpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct Request {
  uint8_t hashes[4][20];
  unsigned count;  // 0: announce of hashes[0]; else a scrape of `count` hashes
  uint8_t key[18];
  bool seeder;
  Event event;
  uint64_t random;
  uint64_t hash;  // of hashes[0], computed at the first prefetch as the UDP handler does
};

class Workload {
 public:
  explicit Workload(unsigned torrents) : torrents_(torrents) {}
  void next(Request& r) {
    const bool scrape = rng_() % 10 == 0;
    r.count = scrape ? 1 + rng_() % 4 : 0;
    for (unsigned i = 0; i < (scrape ? r.count : 1); ++i) infoHash(pick(), r.hashes[i]);
    const uint64_t x = rng_();
    const uint16_t port = static_cast<uint16_t>(1 + x % 65535);
    const uint8_t key[6] = {
        127, 0, 0, 1, static_cast<uint8_t>(port >> 8), static_cast<uint8_t>(port)};
    std::memcpy(r.key, key, 6);
    r.seeder = (x >> 32) % 3 == 0;
    r.event = (x >> 40) % 4 == 0 ? Event::Started : Event::None;
  }

 private:
  unsigned pick() {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng_);
    return std::min(torrents_ - 1, static_cast<unsigned>(torrents_ * u * u * u));
  }
  static void infoHash(unsigned index, uint8_t* out) {
    uint64_t x = index * 0x9e3779b97f4a7c15ull + 0x6d616e69666f6c64ull;
    for (int i = 0; i < 20; i += 8) {
      x ^= x >> 31;
      x *= 0xbf58476d1ce4e5b9ull;
      std::memcpy(out + i, &x, i + 8 <= 20 ? 8 : 4);
    }
  }
  unsigned torrents_;
  std::mt19937_64 rng_{42};
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: manifold-swarm-bench [--seconds S] [--warmup N] [--torrents N] "
               "[--memory-mb N] [--numwant N] [--huge 0|1]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 5;
  unsigned long warmup = 2000000;
  unsigned torrents = 10000;
  size_t memoryMb = 256;
  uint32_t numWant = 50;
  bool huge = false;
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc) usage();
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--seconds")
      seconds = std::stod(v);
    else if (a == "--warmup")
      warmup = std::stoul(v);
    else if (a == "--torrents")
      torrents = std::max(1, std::stoi(v));
    else if (a == "--numwant")
      numWant = static_cast<uint32_t>(std::min(200, std::max(0, std::stoi(v))));
    else if (a == "--huge")
      huge = v == "1";
    else if (a == "--memory-mb")
      memoryMb = std::max(8, std::stoi(v));
    else
      usage();
  }
  const size_t bytes = memoryMb << 20;
  void* base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                    (huge ? MAP_PRIVATE : MAP_SHARED) | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) return 1;
  if (huge) manifold::shm::adviseHugePages(base, bytes);
  // The tracker's own defaults: max_torrents = memory / 512, 256 shards.
  SwarmStore::format(base, bytes, StoreGeometry::forBudget(bytes, bytes / 512, 256));
  SwarmStore store(base);
  Workload work(torrents);
  constexpr unsigned kAhead = 4;
  Request ring[kAhead + 1];
  for (unsigned i = 0; i < kAhead; ++i) work.next(ring[i]);
  uint8_t peers[200 * 18];
  uint64_t random = 0x9e3779b97f4a7c15ull, returned = 0, announces = 0, requests = 0;
  for (Request& r : ring) r.random = random;
  double start = 0, measured = 0;
  for (unsigned long n = 0;; ++n) {
    if (n == warmup) start = cpuSeconds(), returned = announces = requests = 0;
    if (n > warmup && (n & 1023) == 0 && (measured = cpuSeconds() - start) >= seconds) break;
    Request& r = ring[n % (kAhead + 1)];
    Request& ahead = ring[(n + kAhead) % (kAhead + 1)];
    work.next(ahead);
    ahead.hash = store.hashOf(ahead.hashes[0]);
    store.prefetch(ahead.hash);
    Request& near = ring[(n + 2) % (kAhead + 1)];
    random = random * 6364136223846793005ull + 1442695040888963407ull;
    near.random = random;
    if (!near.count) store.prefetchPeers(near.hashes[0], near.hash, kV4, near.key, near.random);
    ++requests;
    if (r.count) {
      for (unsigned i = 0; i < r.count; ++i) store.scrape(r.hashes[i]);
      continue;
    }
    AnnounceInput in;
    in.infoHash = r.hashes[0];
    in.peerKey = r.key;
    in.hash = r.hash;
    in.event = r.event;
    in.seeder = r.seeder;
    in.numWant = numWant;
    in.now = 1000 + static_cast<uint32_t>(n / 200000);  // about 200k requests a second
    in.peerTimeout = 3720;
    returned += store.announce(in, peers, r.random).peers;
    ++announces;
  }
  const CleanTotals t = store.clean(1000 + static_cast<uint32_t>(warmup / 200000), 3720, 86400);
  if (huge)  // the last line stays the figures
    std::printf("huge pages: %zu of %zu MiB\n", manifold::shm::hugeMappedBytes(base) >> 20,
                memoryMb);
  std::printf("requests %llu ns/request %.1f announce-peers %.1f torrents %llu peers %llu\n",
              static_cast<unsigned long long>(requests), measured / requests * 1e9,
              announces ? double(returned) / announces : 0.0,
              static_cast<unsigned long long>(t.torrents),
              static_cast<unsigned long long>(t.peers));
  return 0;
}
