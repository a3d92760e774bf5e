#include "protocols/tunnel/steering.hpp"

#include <linux/filter.h>
#include <sys/socket.h>

namespace manifold::tunnel {

bool attachLaneSteering(int fd, unsigned workers) {
  sock_filter code[] = {
      {BPF_LD | BPF_B | BPF_ABS, 0, 0, 4},         // A = payload[4], the lane
      {BPF_ALU | BPF_MOD | BPF_K, 0, 0, workers},  // A %= workers
      {BPF_RET | BPF_A, 0, 0, 0},                  // socket index A
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog) == 0;
}

}  // namespace manifold::tunnel
