"""The TLS 1.2 pseudorandom function and what it derives (RFC 5246 §5, §6.3, §8.1; RFC 7627).

``PRF(secret, label, seed) = P_<hash>(secret, label + seed)`` with
``P_hash(secret, seed) = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + …`` and
``A(i) = HMAC(secret, A(i-1))``. The suite's PRF hash is SHA-256, or SHA-384 for the
``_SHA384`` suites. HMAC is the standard library's (OpenSSL underneath).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass


def p_hash(hash_name: str, secret: bytes, seed: bytes, length: int) -> bytes:
    """RFC 5246 §5 ``P_hash`` expanded to ``length`` bytes."""
    out = bytearray()
    a = seed
    while len(out) < length:
        a = hmac.digest(secret, a, hash_name)
        out += hmac.digest(secret, a + seed, hash_name)
    return bytes(out[:length])


def prf(hash_name: str, secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
    """RFC 5246 §5 ``PRF(secret, label, seed)``."""
    return p_hash(hash_name, secret, label + seed, length)


def master_secret(
    hash_name: str, pre_master: bytes, client_random: bytes, server_random: bytes
) -> bytes:
    """RFC 5246 §8.1: the 48-byte master secret from the pre-master secret and both randoms."""
    return prf(hash_name, pre_master, b"master secret", client_random + server_random, 48)


def extended_master_secret(hash_name: str, pre_master: bytes, session_hash: bytes) -> bytes:
    """RFC 7627 §4: the master secret bound to the hash of the handshake so far."""
    return prf(hash_name, pre_master, b"extended master secret", session_hash, 48)


def finished_verify_data(
    hash_name: str, master: bytes, label: bytes, transcript_hash: bytes
) -> bytes:
    """RFC 5246 §7.4.9: ``PRF(master_secret, finished_label, Hash(handshake_messages))[0..11]``."""
    return prf(hash_name, master, label, transcript_hash, 12)


@dataclass(frozen=True, slots=True)
class KeyBlock:
    """RFC 5246 §6.3: the key block cut into its six parts (absent parts are empty)."""

    client_write_mac_key: bytes
    server_write_mac_key: bytes
    client_write_key: bytes
    server_write_key: bytes
    client_write_iv: bytes
    server_write_iv: bytes


def key_block(
    hash_name: str,
    master: bytes,
    client_random: bytes,
    server_random: bytes,
    mac_key_len: int,
    key_len: int,
    iv_len: int,
) -> KeyBlock:
    """RFC 5246 §6.3: ``PRF(master, "key expansion", server_random + client_random)``."""
    n = 2 * (mac_key_len + key_len + iv_len)
    block = prf(hash_name, master, b"key expansion", server_random + client_random, n)
    parts = []
    pos = 0
    for size in (mac_key_len, mac_key_len, key_len, key_len, iv_len, iv_len):
        parts.append(block[pos : pos + size])
        pos += size
    return KeyBlock(*parts)
