"""The TLS 1.3 key schedule (RFC 8446 §7.1) on HKDF (RFC 5869).

::

                 0
                 |
       PSK ->  HKDF-Extract = Early Secret
                 |  +--> Derive-Secret(., "ext binder" | "res binder", "")  = binder_key
                 |  +--> Derive-Secret(., "c e traffic", ClientHello)      (0-RTT data)
                 |  +--> Derive-Secret(., "e exp master", ClientHello)     (early exporter)
           Derive-Secret(., "derived", "")
                 |
    (EC)DHE -> HKDF-Extract = Handshake Secret
                 |  +--> Derive-Secret(., "c hs traffic", ClientHello...ServerHello)
                 |  +--> Derive-Secret(., "s hs traffic", ClientHello...ServerHello)
           Derive-Secret(., "derived", "")
                 |
         0 -> HKDF-Extract = Master Secret
                    +--> Derive-Secret(., "c ap traffic", ClientHello...server Finished)
                    +--> Derive-Secret(., "s ap traffic", ClientHello...server Finished)
                    +--> Derive-Secret(., "exp master",   ClientHello...server Finished)
                    +--> Derive-Secret(., "res master",   ClientHello...client Finished)

A traffic secret gives the record key and IV (§7.3), the Finished key (§4.4.4) and the next
generation of itself (KeyUpdate, §7.2). Without a PSK the PSK input is a string of zeros as
long as the hash. HMAC is the standard library's (OpenSSL underneath).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

__all__ = [
    "KeySchedule",
    "TrafficKeys",
    "derive_secret",
    "finished_verify_data",
    "hkdf_expand",
    "hkdf_expand_label",
    "hkdf_extract",
    "next_traffic_secret",
    "resumption_psk",
    "traffic_keys",
]


def _hash_len(hash_name: str) -> int:
    return hashlib.new(hash_name).digest_size


def hkdf_extract(hash_name: str, salt: bytes, ikm: bytes) -> bytes:
    """RFC 5869 §2.2: ``HMAC-Hash(salt, IKM)``; an empty salt is HashLen zeros."""
    return hmac.digest(salt or bytes(_hash_len(hash_name)), ikm, hash_name)


def hkdf_expand(hash_name: str, prk: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 §2.3: ``T(1) | T(2) | …`` cut to ``length`` bytes."""
    out = bytearray()
    t = b""
    i = 1
    while len(out) < length:
        t = hmac.digest(prk, t + info + bytes([i]), hash_name)
        out += t
        i += 1
    return bytes(out[:length])


def hkdf_label(length: int, label: bytes, context: bytes) -> bytes:
    """The ``HkdfLabel`` structure (RFC 8446 §7.1): length, ``"tls13 " + label``, context."""
    full = b"tls13 " + label
    return length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context


def hkdf_expand_label(
    hash_name: str, secret: bytes, label: bytes, context: bytes, length: int
) -> bytes:
    """``HKDF-Expand-Label(Secret, Label, Context, Length)`` (RFC 8446 §7.1)."""
    return hkdf_expand(hash_name, secret, hkdf_label(length, label, context), length)


def derive_secret(hash_name: str, secret: bytes, label: bytes, transcript_hash: bytes) -> bytes:
    """``Derive-Secret(Secret, Label, Messages)`` given ``Transcript-Hash(Messages)``."""
    return hkdf_expand_label(hash_name, secret, label, transcript_hash, _hash_len(hash_name))


@dataclass(frozen=True, slots=True)
class TrafficKeys:
    """The record key and IV of one traffic secret (RFC 8446 §7.3)."""

    key: bytes
    iv: bytes


def traffic_keys(hash_name: str, secret: bytes, key_len: int) -> TrafficKeys:
    """``[sender]_write_key`` and ``[sender]_write_iv`` (RFC 8446 §7.3; the IV is 12 bytes)."""
    return TrafficKeys(
        hkdf_expand_label(hash_name, secret, b"key", b"", key_len),
        hkdf_expand_label(hash_name, secret, b"iv", b"", 12),
    )


def finished_verify_data(hash_name: str, base_key: bytes, transcript_hash: bytes) -> bytes:
    """RFC 8446 §4.4.4: ``HMAC(finished_key, Transcript-Hash)`` with
    ``finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length)``."""
    finished_key = hkdf_expand_label(hash_name, base_key, b"finished", b"", _hash_len(hash_name))
    return hmac.digest(finished_key, transcript_hash, hash_name)


def next_traffic_secret(hash_name: str, secret: bytes) -> bytes:
    """RFC 8446 §7.2: ``application_traffic_secret_N+1`` after a KeyUpdate."""
    return hkdf_expand_label(hash_name, secret, b"traffic upd", b"", _hash_len(hash_name))


def resumption_psk(hash_name: str, resumption_master: bytes, ticket_nonce: bytes) -> bytes:
    """RFC 8446 §4.6.1: the PSK a NewSessionTicket stands for."""
    return hkdf_expand_label(
        hash_name, resumption_master, b"resumption", ticket_nonce, _hash_len(hash_name)
    )


@dataclass
class KeySchedule:
    """One connection's walk down the schedule, keeping every secret for the trace and key
    log. Call :meth:`handshake` with the (EC)DHE secret and the hash up to ServerHello, then
    :meth:`application` with the hash up to the server's Finished, then :meth:`resumption`
    with the hash up to the client's Finished."""

    hash_name: str
    psk: bytes | None = None
    early_secret: bytes = field(init=False, repr=False)
    binder_key: bytes = field(init=False, repr=False, default=b"")
    client_early_traffic_secret: bytes = field(init=False, repr=False, default=b"")
    early_exporter_master_secret: bytes = field(init=False, repr=False, default=b"")
    handshake_secret: bytes = field(init=False, repr=False, default=b"")
    client_handshake_traffic_secret: bytes = field(init=False, repr=False, default=b"")
    server_handshake_traffic_secret: bytes = field(init=False, repr=False, default=b"")
    master_secret: bytes = field(init=False, repr=False, default=b"")
    client_application_traffic_secret: bytes = field(init=False, repr=False, default=b"")
    server_application_traffic_secret: bytes = field(init=False, repr=False, default=b"")
    exporter_master_secret: bytes = field(init=False, repr=False, default=b"")
    resumption_master_secret: bytes = field(init=False, repr=False, default=b"")

    def __post_init__(self) -> None:
        n = _hash_len(self.hash_name)
        self.early_secret = hkdf_extract(self.hash_name, bytes(n), self.psk or bytes(n))
        if self.psk is not None:
            empty = hashlib.new(self.hash_name).digest()
            self.binder_key = derive_secret(self.hash_name, self.early_secret, b"res binder", empty)

    @property
    def hash_len(self) -> int:
        return _hash_len(self.hash_name)

    def _derived(self, secret: bytes) -> bytes:
        empty = hashlib.new(self.hash_name).digest()
        return derive_secret(self.hash_name, secret, b"derived", empty)

    def binder(self, truncated_hello_hash: bytes) -> bytes:
        """RFC 8446 §4.2.11.2: the PSK binder over the ClientHello up to the binders."""
        return finished_verify_data(self.hash_name, self.binder_key, truncated_hello_hash)

    def early(self, client_hello_hash: bytes) -> None:
        """The 0-RTT secrets (§7.1) from the hash of the ClientHello that offered the PSK:
        ``client_early_traffic_secret`` protects early data and EndOfEarlyData (§4.5)."""
        h = self.hash_name
        self.client_early_traffic_secret = derive_secret(
            h, self.early_secret, b"c e traffic", client_hello_hash
        )
        self.early_exporter_master_secret = derive_secret(
            h, self.early_secret, b"e exp master", client_hello_hash
        )

    def handshake(self, shared_secret: bytes, hello_hash: bytes) -> None:
        h = self.hash_name
        self.handshake_secret = hkdf_extract(h, self._derived(self.early_secret), shared_secret)
        self.client_handshake_traffic_secret = derive_secret(
            h, self.handshake_secret, b"c hs traffic", hello_hash
        )
        self.server_handshake_traffic_secret = derive_secret(
            h, self.handshake_secret, b"s hs traffic", hello_hash
        )
        self.master_secret = hkdf_extract(
            h, self._derived(self.handshake_secret), bytes(self.hash_len)
        )

    def application(self, server_finished_hash: bytes) -> None:
        h = self.hash_name
        self.client_application_traffic_secret = derive_secret(
            h, self.master_secret, b"c ap traffic", server_finished_hash
        )
        self.server_application_traffic_secret = derive_secret(
            h, self.master_secret, b"s ap traffic", server_finished_hash
        )
        self.exporter_master_secret = derive_secret(
            h, self.master_secret, b"exp master", server_finished_hash
        )

    def resumption(self, client_finished_hash: bytes) -> None:
        self.resumption_master_secret = derive_secret(
            self.hash_name, self.master_secret, b"res master", client_finished_hash
        )
