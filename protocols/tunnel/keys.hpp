// Tunnel keys: X25519 key pairs in the base64 text form `wg` uses (32 bytes -> 44 characters),
// key files, and the pre-shared key. Control plane and tools; no I/O beyond reading a file.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace manifold::tunnel {

using Key = std::array<uint8_t, 32>;

// Standard base64 (with padding) of a 32-byte key, as `wg genkey` prints it.
std::string encodeKey(const Key& key);
// False unless `text` (surrounding whitespace allowed) is exactly one base64 32-byte key.
bool decodeKey(std::string_view text, Key& out);
// A fresh private key, clamped as X25519 wants.
Key generatePrivateKey();
Key publicKeyOf(const Key& privateKey);
// Reads a key file (one base64 key, e.g. from `manifold-tunnel genkey`); false with `why`.
bool readKeyFile(const std::string& path, Key& out, std::string& why);

}  // namespace manifold::tunnel
