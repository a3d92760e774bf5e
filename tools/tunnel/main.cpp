// manifold-tunnel: key tools for [tunnel:NAME] sections, in the form `wg` uses.
//
//   manifold-tunnel genkey            prints a new private key (base64)
//   manifold-tunnel pubkey < private  prints the public key of the private key on stdin
//   manifold-tunnel genpsk            prints a new pre-shared key (base64)
#include <sodium.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <string>

#include "protocols/tunnel/keys.hpp"

using namespace manifold::tunnel;

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "genkey" || cmd == "genpsk") {
    Key key;
    if (cmd == "genkey") {
      key = generatePrivateKey();
    } else {
      randombytes_buf(key.data(), key.size());
    }
    std::printf("%s\n", encodeKey(key).c_str());
    return 0;
  }
  if (cmd == "pubkey") {
    std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    Key key;
    if (!decodeKey(text, key)) {
      std::fprintf(stderr, "manifold-tunnel: stdin is not one base64 32-byte key\n");
      return 1;
    }
    std::printf("%s\n", encodeKey(publicKeyOf(key)).c_str());
    return 0;
  }
  std::fprintf(stderr, "usage: manifold-tunnel genkey | pubkey < private | genpsk\n");
  return 2;
}
