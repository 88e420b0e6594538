"""The extensions TLS 1.3 adds (RFC 8446 §4.2), each a builder and a strict parser.

- ``supported_versions`` (§4.2.1): a list in ClientHello, one version in ServerHello/HRR.
- ``key_share`` (§4.2.8): a list of (group, key_exchange) in ClientHello, one entry in
  ServerHello, only the selected group in a HelloRetryRequest.
- ``psk_key_exchange_modes`` (§4.2.9), ``pre_shared_key`` (§4.2.11: identities with their
  obfuscated ages, then the binders; the ServerHello names the selected identity),
  ``cookie`` (§4.2.2), ``early_data`` (§4.2.10), ``padding`` (RFC 7685),
  ``record_size_limit`` (RFC 8449).

Parsers raise :class:`~minternet.errors.DecodeError` (decode_error) for bytes that do not
fit the structure, :class:`TlsAlert` illegal_parameter for values that fit but are wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..codec import Reader, Writer
from .alerts import AlertDescription, TlsAlert
from .extensions import Extension, ExtensionType

TLS13 = 0x0304
TLS12 = 0x0303
PSK_DHE_KE = 1
PSK_KE = 0


# -- supported_versions ----------------------------------------------------------------
def supported_versions_offer(versions: tuple[int, ...]) -> Extension:
    w = Writer()
    with w.block(1):
        for v in versions:
            w.u16(v)
    return Extension(ExtensionType.supported_versions, w.getvalue())


def parse_supported_versions_offer(data: bytes) -> list[int]:
    r = Reader(data, "supported_versions")
    out: list[int] = []
    with r.block(r.u8("versions.length"), "versions") as sub:
        if sub.at_end() or sub.remaining() % 2:
            raise sub.error("versions", "empty or odd list")
        while not sub.at_end():
            out.append(sub.u16("version"))
    r.expect_end("supported_versions")
    return out


def supported_versions_selected(version: int) -> Extension:
    return Extension(ExtensionType.supported_versions, version.to_bytes(2, "big"))


def parse_supported_versions_selected(data: bytes) -> int:
    r = Reader(data, "supported_versions")
    v = r.u16("selected_version")
    r.expect_end("supported_versions")
    return v


# -- key_share ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class KeyShareEntry:
    group: int
    key_exchange: bytes

    def write(self, w: Writer) -> None:
        w.u16(self.group)
        w.vector(2, self.key_exchange)


def _entry(r: Reader) -> KeyShareEntry:
    group = r.u16("group")
    kx = r.vector(2, "key_exchange")
    if not kx:
        raise r.error("key_exchange", "empty")
    return KeyShareEntry(group, kx)


def key_share_offer(entries: tuple[KeyShareEntry, ...]) -> Extension:
    w = Writer()
    with w.block(2):
        for e in entries:
            e.write(w)
    return Extension(ExtensionType.key_share, w.getvalue())


def parse_key_share_offer(data: bytes) -> list[KeyShareEntry]:
    """The client's shares; a group offered twice is illegal_parameter (§4.2.8)."""
    r = Reader(data, "key_share")
    out: list[KeyShareEntry] = []
    with r.block(r.u16("client_shares.length"), "client_shares") as sub:
        while not sub.at_end():
            e = _entry(sub)
            if any(o.group == e.group for o in out):
                raise TlsAlert(AlertDescription.illegal_parameter, f"key share {e.group} twice")
            out.append(e)
    r.expect_end("key_share")
    return out


def key_share_server(entry: KeyShareEntry) -> Extension:
    w = Writer()
    entry.write(w)
    return Extension(ExtensionType.key_share, w.getvalue())


def parse_key_share_server(data: bytes) -> KeyShareEntry:
    r = Reader(data, "key_share")
    e = _entry(r)
    r.expect_end("key_share")
    return e


def key_share_retry(group: int) -> Extension:
    return Extension(ExtensionType.key_share, group.to_bytes(2, "big"))


def parse_key_share_retry(data: bytes) -> int:
    r = Reader(data, "key_share")
    g = r.u16("selected_group")
    r.expect_end("key_share")
    return g


# -- psk_key_exchange_modes -----------------------------------------------------------------
def psk_modes(modes: tuple[int, ...]) -> Extension:
    return Extension(ExtensionType.psk_key_exchange_modes, bytes([len(modes), *modes]))


def parse_psk_modes(data: bytes) -> list[int]:
    r = Reader(data, "psk_key_exchange_modes")
    modes = list(r.vector(1, "ke_modes"))
    r.expect_end("psk_key_exchange_modes")
    if not modes:
        raise r.error("ke_modes", "empty")
    return modes


# -- pre_shared_key -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PskIdentity:
    identity: bytes
    obfuscated_ticket_age: int


@dataclass(frozen=True, slots=True)
class OfferedPsks:
    identities: tuple[PskIdentity, ...]
    binders: tuple[bytes, ...]

    def encode(self) -> bytes:
        w = Writer()
        with w.block(2):
            for i in self.identities:
                w.vector(2, i.identity)
                w.u32(i.obfuscated_ticket_age)
        w.raw(self.binders_bytes())
        return w.getvalue()

    def binders_bytes(self) -> bytes:
        w = Writer()
        with w.block(2):
            for b in self.binders:
                w.vector(1, b)
        return w.getvalue()


def pre_shared_key_offer(offer: OfferedPsks) -> Extension:
    return Extension(ExtensionType.pre_shared_key, offer.encode())


def parse_pre_shared_key_offer(data: bytes) -> OfferedPsks:
    r = Reader(data, "pre_shared_key")
    ids: list[PskIdentity] = []
    with r.block(r.u16("identities.length"), "identities") as sub:
        while not sub.at_end():
            ident = sub.vector(2, "identity")
            if not ident:
                raise sub.error("identity", "empty")
            ids.append(PskIdentity(ident, sub.u32("obfuscated_ticket_age")))
    binders: list[bytes] = []
    with r.block(r.u16("binders.length"), "binders") as sub:
        while not sub.at_end():
            b = sub.vector(1, "binder")
            if len(b) < 32:
                raise sub.error("binder", "shorter than 32 bytes")
            binders.append(b)
    r.expect_end("pre_shared_key")
    if not ids or len(ids) != len(binders):
        raise TlsAlert(
            AlertDescription.illegal_parameter, "pre_shared_key: identities and binders differ"
        )
    return OfferedPsks(tuple(ids), tuple(binders))


def pre_shared_key_selected(index: int) -> Extension:
    return Extension(ExtensionType.pre_shared_key, index.to_bytes(2, "big"))


def parse_pre_shared_key_selected(data: bytes) -> int:
    r = Reader(data, "pre_shared_key")
    i = r.u16("selected_identity")
    r.expect_end("pre_shared_key")
    return i


# -- cookie, early_data, padding, record_size_limit ---------------------------------------
def cookie(value: bytes) -> Extension:
    w = Writer()
    w.vector(2, value)
    return Extension(ExtensionType.cookie, w.getvalue())


def parse_cookie(data: bytes) -> bytes:
    r = Reader(data, "cookie")
    c = r.vector(2, "cookie")
    r.expect_end("cookie")
    if not c:
        raise r.error("cookie", "empty")
    return c


def early_data_max(size: int) -> Extension:
    """The NewSessionTicket form: ``max_early_data_size`` (§4.2.10)."""
    return Extension(ExtensionType.early_data, size.to_bytes(4, "big"))


def parse_early_data_max(data: bytes) -> int:
    r = Reader(data, "early_data")
    n = r.u32("max_early_data_size")
    r.expect_end("early_data")
    return n


def padding(length: int) -> Extension:
    return Extension(ExtensionType.padding, bytes(length))


def hello_padding_length(unpadded_message_length: int) -> int | None:
    """RFC 7685 as browsers apply it: a ClientHello message of 256..511 bytes is padded to
    512 (some middleboxes mishandle those lengths); the extension costs 4 bytes itself and
    carries at least one. None when no padding is needed."""
    if not 256 <= unpadded_message_length < 512:
        return None
    return max(512 - unpadded_message_length, 5) - 4


def record_size_limit(limit: int) -> Extension:
    return Extension(ExtensionType.record_size_limit, limit.to_bytes(2, "big"))


def parse_record_size_limit(data: bytes) -> int:
    r = Reader(data, "record_size_limit")
    n = r.u16("record_size_limit")
    r.expect_end("record_size_limit")
    if n < 64:
        raise TlsAlert(AlertDescription.illegal_parameter, f"record_size_limit {n} < 64")
    return n
