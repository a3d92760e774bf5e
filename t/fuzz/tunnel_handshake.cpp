// libFuzzer target: the handshake responder and the initiator's response and cookie handling,
// fed arbitrary bytes with fixed keys. Nothing may crash, and nothing forged may authenticate:
// an input accepted as an initiation must come from the one static key the responder knows.
#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "protocols/tunnel/noise.hpp"
#include "t/fuzz/check.hpp"

using namespace manifold::tunnel;

namespace {
struct Keys {
  Identity responder, initiator;
  PeerKeys initiatorAtResponder, responderAtInitiator;
  HandshakeState pending;
  uint8_t validInitiation[kInitiationSize];
  Keys() {
    if (sodium_init() < 0) __builtin_trap();
    Key a{}, b{};
    for (int i = 0; i < 32; ++i)
      a[i] = static_cast<uint8_t>(i + 1), b[i] = static_cast<uint8_t>(i + 99);
    responder.set(a);
    initiator.set(b);
    initiatorAtResponder.set(responder, initiator.publicKey, {});
    responderAtInitiator.set(initiator, responder.publicKey, {});
    Key eph{};
    eph.fill(7);
    createInitiation(initiator, responderAtInitiator, eph, tai64n(1e9), 0x101, validInitiation,
                     pending);
    addMacs(validInitiation, kInitiationSize, responderAtInitiator.mac1Key, nullptr);
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Keys k;
  // Mutations of a valid initiation reach deeper than random bytes: overlay the input on it.
  uint8_t msg[kInitiationSize];
  std::memcpy(msg, k.validInitiation, sizeof msg);
  std::memcpy(msg, data, std::min(size, sizeof msg));
  Initiation in;
  bool ok = consumeInitiation(
      k.responder, {msg, sizeof msg},
      [&](const Key& pub) -> const PeerKeys* {
        return pub == k.initiator.publicKey ? &k.initiatorAtResponder : nullptr;
      },
      in);
  if (ok) {
    check(in.initiatorStatic == k.initiator.publicKey);
    uint8_t reply[kResponseSize];
    SessionKeys rk, ik;
    Key eph{};
    eph.fill(9);
    if (createResponse(k.initiatorAtResponder, in, eph, 0x202, reply, rk)) {
      // Only the untouched initiation leads to keys the initiator agrees with.
      if (consumeResponse(k.initiator, k.responderAtInitiator, k.pending, {reply, sizeof reply},
                          ik))
        check(ik.send == rk.receive && ik.receive == rk.send);
    }
  }
  mac1Valid({msg, sizeof msg}, k.responder.mac1Key);
  if (size == kResponseSize) {
    SessionKeys keys;
    consumeResponse(k.initiator, k.responderAtInitiator, k.pending, {data, size}, keys);
  }
  if (size == kCookieReplySize) {
    Mac cookie;
    consumeCookieReply(k.responderAtInitiator.cookieKey, {data, size}, Mac{}, cookie);
  }
  return 0;
}
