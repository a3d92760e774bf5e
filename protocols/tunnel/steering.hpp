// Steering a peer's datagrams to the worker that owns its session, with no hand-off between
// workers: every message carries a 32-bit index at offset 4 whose low byte is the owning lane
// (the worker index of whoever allocated it; initiations carry the sender's). A classic BPF
// program attached to the SO_REUSEPORT group (SO_ATTACH_REUSEPORT_CBPF) returns
// `byte[4] % workers`, the position of that worker's socket in the group (the master creates
// them in worker order). The kernel runs it on the UDP payload; a datagram shorter than 8 bytes
// falls back to the kernel's hash (and is dropped as malformed by whoever gets it).
#pragma once

namespace manifold::tunnel {

// Attaches the program to the reuseport group of fd; false (errno set) on failure.
bool attachLaneSteering(int fd, unsigned workers);

}  // namespace manifold::tunnel
