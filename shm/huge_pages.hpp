// Transparent huge pages for large shared-memory regions. A region of ~100 MB touched at random
// (the tracker's torrent slots and peer tables) spans far more 4 KiB pages than the TLB holds, so
// most lookups start with a page walk; 2 MiB pages cut the translations 512-fold.
//
// The segment is a file in /dev/shm (tmpfs). For such a file the kernel grants huge pages by the
// mount's `huge=` option (`advise`: where the mapping asked with madvise(MADV_HUGEPAGE)), or by
// /sys/kernel/mm/transparent_hugepage/shmem_enabled = force; shmem_enabled = advise only covers
// the kernel's internal mount (memfd, SysV shm, anonymous shared mappings). `deny` forbids all.
// So an operator enables them with `mount -o remount,huge=advise /dev/shm` (README.md, "Huge
// pages").
#pragma once

#include <cstddef>
#include <string>

namespace manifold::shm {

inline constexpr size_t kHugePageBytes = size_t{2} << 20;
// Regions at least this large get 2 MiB-aligned extents and ask for huge pages.
inline constexpr size_t kHugeRegionMin = 2 * kHugePageBytes;

struct HugePageSupport {
  bool allowed = false;  // an madvise(MADV_HUGEPAGE) on a file in `dir` can get huge pages
  std::string why;       // the settings that decided it, for the log
};

// Reads shmem_enabled and the `huge=` option of the tmpfs mounted at `dir` (/proc/self/mounts).
HugePageSupport shmemHugePageSupport(const std::string& dir = "/dev/shm");
// The choice from those two values (pure, for the unit test): `shmemEnabled` is the bracketed word
// of shmem_enabled, `mountHuge` the mount's huge= value ("" when absent, i.e. never).
bool shmemHugePagesAllowed(const std::string& shmemEnabled, const std::string& mountHuge);

// Asks for huge pages on the 2 MiB-aligned whole pages inside [p, p + bytes) of a shared mapping
// whose addresses and file offsets agree modulo 2 MiB. Returns the bytes asked for (0: none, the
// range holds no whole huge page or madvise refused).
size_t adviseHugePages(void* p, size_t bytes);

// Bytes this process maps with huge pages in the mapping that contains p (ShmemPmdMapped,
// FilePmdMapped and AnonHugePages of its /proc/self/smaps entry): what the kernel granted.
size_t hugeMappedBytes(const void* p);

}  // namespace manifold::shm
