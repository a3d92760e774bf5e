#!/usr/bin/env python3
"""Independent implementation of the tunnel key schedule (protocols/tunnel/PROTOCOL.md) with
Python's hashlib/hmac and the `cryptography` package, printing the known answers that
t/unit/tunnel_noise_test.cpp checks. Not run by the tests: rerun it only to re-derive them."""
import hashlib, hmac, struct
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization

def H(*parts): return hashlib.sha256(b"".join(parts)).digest()
def HM(k, d): return hmac.new(k, d, hashlib.sha256).digest()
def kdf(c, x, n):
    prk = HM(c, x); out = []; prev = b""
    for i in range(n):
        prev = HM(prk, prev + bytes([i + 1])); out.append(prev)
    return out
def pub(priv):
    return X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
def dh(priv, p):
    return X25519PrivateKey.from_private_bytes(priv).exchange(X25519PublicKey.from_public_bytes(p))
def seal(k, n, pt, ad): return ChaCha20Poly1305(k).encrypt(b"\0" * 4 + struct.pack("<Q", n), pt, ad)

si = bytes(range(1, 33)); sr = bytes(range(33, 65)); ei = bytes(range(65, 97))
er = bytes(range(97, 129)); psk = bytes([0x42] * 32)
ts = bytes.fromhex("400000006553f1000000002a"); sidx = 0x11223301; ridx = 0x55667702
Si, Sr, Ei, Er = pub(si), pub(sr), pub(ei), pub(er)

C = H(b"Noise_IKpsk2_25519_ChaChaPoly_SHA256"); Hh = H(C, b"Manifold tunnel v1"); Hh = H(Hh, Sr)
msg = bytes([1, 0, 0, 0]) + struct.pack("<I", sidx) + Ei
C = kdf(C, Ei, 1)[0]; Hh = H(Hh, Ei)
C, k = kdf(C, dh(ei, Sr), 2); st = seal(k, 0, Si, Hh); msg += st; Hh = H(Hh, st)
C, k = kdf(C, dh(si, Sr), 2); tt = seal(k, 0, ts + struct.pack("<I", sidx), Hh); msg += tt
Hh = H(Hh, tt)
print("initiation", msg.hex())
resp = bytes([2, 0, 0, 0]) + struct.pack("<I", sidx) + struct.pack("<I", ridx) + Er
C = kdf(C, Er, 1)[0]; Hh = H(Hh, Er)
C = kdf(C, dh(er, Ei), 1)[0]; C = kdf(C, dh(er, Si), 1)[0]
C, tau, k = kdf(C, psk, 3); Hh = H(Hh, tau); e = seal(k, 0, b"", Hh); resp += e
print("response", resp.hex())
t1, t2 = kdf(C, b"", 2)
print("initiator_send", t1.hex()); print("initiator_receive", t2.hex())
