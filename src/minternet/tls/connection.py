"""What the TLS client and server machines share: events, negotiated parameters, the
record and handshake plumbing, alerts and closing (RFC 5246 §7.2, §7.4).

A machine is sans-IO: :meth:`TlsConnection.receive_data` takes bytes from the peer and
returns events; :meth:`TlsConnection.data_to_send` gives the bytes to write. Every error
from the peer becomes one fatal alert on the wire, a :class:`Closed` event and the CLOSED
state — never an exception for the caller. Each machine keeps its handshake transitions in
one table, ``state → {message type → handler}``; a message missing from the table is an
unexpected_message.

Signatures and RSA encryption come from :mod:`minternet.tls.signing`, certificate-chain
checks from :mod:`minternet.tls.verify`.

Trace (``trace(kind, fields, why)``; :mod:`minternet.apps.tls_stream` puts it on the bus as layer
``"tls"``). Kinds and their main fields:

- ``send`` / ``recv``: ``message`` (handshake type or ``ChangeCipherSpec``), ``length``, and
  the values that message carries (client/server random, suites, chain, public values…);
- ``client_hello`` (server side), ``server_hello``, ``certificate``, ``server_key_exchange``
  (``signature_ok``), ``certificate_request``, ``resume``: what was decoded and decided;
- ``check``: one certificate-validation step (``name``, ``ok``, ``detail``);
- ``pre_master_secret`` (``origin``, ``value``), ``master_secret`` (``value``; ``why`` says
  which PRF form), ``keys`` (every key-block part, lengths, ``keys_present``, protection);
- ``finished`` (``verify_data``, ``ok``), ``established`` (suite, key exchange, resumed…);
- ``alert`` (``direction`` sent/received, ``alert``; ``why`` for ours), ``close_notify``,
  ``state`` (``from``, ``to``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar, Protocol

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, x448, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ..errors import LocalProtocolError
from ..randomness import RandomSource
from .alerts import Alert, AlertDescription, AlertLevel, TlsAlert, alert_for, alert_name
from .cipher import RecordProtection, protection_for
from .extensions import NamedGroup
from .keylog import client_random_line
from .messages import Finished, HandshakeBuffer, HandshakeType, RawHandshake
from .prf import (
    KeyBlock,
    extended_master_secret,
    finished_verify_data,
    key_block,
    master_secret,
)
from .record import INITIAL_CLIENT_HELLO_VERSION, ContentType, RecordLayer
from .suites import CipherSuite
from .verify import (
    TrustStore,
    Verification,
    describe_certificate,
    describe_time,
    verify_server_chain,
)

TLS12 = 0x0303
CCS = -1  # the ChangeCipherSpec "message" in the transition tables

_KEY_BLOCK_WHY = 'key block = PRF(master_secret, "key expansion", server_random + client_random)'
TraceHook = Callable[[str, dict[str, Any], str | None], None]


# -- events -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Session:
    """What resuming a session by its id needs (RFC 5246 §7.3, RFC 7627 §5.3)."""

    session_id: bytes
    master_secret: bytes = field(repr=False)
    suite: CipherSuite
    extended_master_secret: bool
    server_name: str | None = None
    alpn: str | None = None


@dataclass(frozen=True)
class TlsInfo:
    """Everything negotiated, secrets included (re-derivable from what is shown)."""

    version: str
    suite: CipherSuite
    key_exchange: str  # "ECDHE x25519", "RSA"
    signature_scheme: int | None
    server_name: str | None
    alpn: str | None
    resumed: bool
    session_id: bytes
    extended_master_secret: bool
    encrypt_then_mac: bool
    peer_chain: tuple[bytes, ...] = field(repr=False)
    verification: Verification | None = field(repr=False)
    client_random: bytes
    server_random: bytes
    pre_master_secret: bytes | None = field(repr=False)
    master_secret: bytes = field(repr=False)
    keys: KeyBlock = field(repr=False)
    session: Session = field(repr=False)

    def as_dict(self, secrets: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {
            "version": self.version,
            "cipher_suite": self.suite.name,
            "cipher_suite_openssl": self.suite.openssl_name,
            "key_exchange": self.key_exchange,
            "signature_scheme": self.signature_scheme,
            "server_name": self.server_name,
            "alpn": self.alpn,
            "resumed": self.resumed,
            "session_id": self.session_id.hex(),
            "extended_master_secret": self.extended_master_secret,
            "encrypt_then_mac": self.encrypt_then_mac,
            "client_random": self.client_random.hex(),
            "server_random": self.server_random.hex(),
        }
        if secrets:
            d["pre_master_secret"] = (
                self.pre_master_secret.hex() if self.pre_master_secret else None
            )
            d["master_secret"] = self.master_secret.hex()
            d["keys"] = {k: getattr(self.keys, k).hex() for k in self.keys.__slots__}
        return d


@dataclass(frozen=True, slots=True)
class HandshakeComplete:
    info: TlsInfo


@dataclass(frozen=True, slots=True)
class ApplicationData:
    data: bytes


@dataclass(frozen=True, slots=True)
class AlertReceived:
    level: int
    description: int

    def __str__(self) -> str:
        lvl = "fatal" if self.level == AlertLevel.fatal else "warning"
        return f"{lvl} alert {alert_name(self.description)}"


@dataclass(frozen=True, slots=True)
class Closed:
    """The connection is over: cleanly (close_notify) or by an alert (sent or received)."""

    reason: str
    alert: int | None = None
    alert_sent: bool = False
    clean: bool = False


Event = HandshakeComplete | ApplicationData | AlertReceived | Closed


class State(Enum):
    """Handshake states of both sides (RFC 5246 §7.3 message flow)."""

    START = "START"
    WAIT_CLIENT_HELLO = "WAIT_CLIENT_HELLO"
    WAIT_SERVER_HELLO = "WAIT_SERVER_HELLO"
    WAIT_CERTIFICATE = "WAIT_CERTIFICATE"
    WAIT_SERVER_KEY_EXCHANGE = "WAIT_SERVER_KEY_EXCHANGE"
    WAIT_SERVER_HELLO_DONE = "WAIT_SERVER_HELLO_DONE"
    WAIT_CLIENT_KEY_EXCHANGE = "WAIT_CLIENT_KEY_EXCHANGE"
    WAIT_CHANGE_CIPHER_SPEC = "WAIT_CHANGE_CIPHER_SPEC"
    WAIT_FINISHED = "WAIT_FINISHED"
    ESTABLISHED = "ESTABLISHED"
    CLOSING = "CLOSING"  # we sent close_notify, waiting for the peer's
    CLOSED = "CLOSED"


Handler = Callable[[Any, RawHandshake], State]


# -- ECDHE helpers (RFC 8422 §5.4, RFC 7748) ----------------------------------------------
_CURVES: dict[int, ec.EllipticCurve] = {
    NamedGroup.secp256r1: ec.SECP256R1(),
    NamedGroup.secp384r1: ec.SECP384R1(),
}
_ORDERS: dict[int, int] = {
    NamedGroup.secp256r1: 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    NamedGroup.secp384r1: int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
}
# The server's preference. x448 (RFC 7748 §5, RFC 8422 §5.1.1) comes last: a client that
# offers it alone (``openssl s_client -groups X448``) gets it, others keep their curve.
SUPPORTED_GROUPS = (
    NamedGroup.x25519,
    NamedGroup.secp256r1,
    NamedGroup.secp384r1,
    NamedGroup.x448,
)
# Montgomery curves (RFC 7748): private key and public value are this many raw bytes.
_MONTGOMERY: dict[int, int] = {NamedGroup.x25519: 32, NamedGroup.x448: 56}


class EphemeralKey:
    """An ephemeral ECDH key made from the injected random source."""

    def __init__(self, group: int, random: RandomSource) -> None:
        self.group = group
        if group == NamedGroup.x25519:
            self._x: x25519.X25519PrivateKey | x448.X448PrivateKey = (
                x25519.X25519PrivateKey.from_private_bytes(random.random_bytes(32))
            )
            self.public = self._x.public_key().public_bytes_raw()
        elif group == NamedGroup.x448:
            self._x = x448.X448PrivateKey.from_private_bytes(random.random_bytes(56))
            self.public = self._x.public_key().public_bytes_raw()
        elif group in _CURVES:
            n = _ORDERS[group]
            scalar = int.from_bytes(random.random_bytes(64), "big") % (n - 1) + 1
            self._ec = ec.derive_private_key(scalar, _CURVES[group])
            self.public = self._ec.public_key().public_bytes(
                encoding=Encoding.X962, format=PublicFormat.UncompressedPoint
            )
        else:
            raise LocalProtocolError(f"group {group} not supported")

    def exchange(self, peer: bytes) -> bytes:
        """The shared secret with ``peer``'s public value; illegal_parameter if invalid."""
        try:
            size = _MONTGOMERY.get(self.group)
            if size is not None:
                # RFC 8422 §5.11 / RFC 7748 §6: raw little-endian u-coordinates; an all-zero
                # shared secret (a low-order point) is refused by ``cryptography``.
                if len(peer) != size:
                    raise ValueError(f"{group_name(self.group)} public value must be {size} bytes")
                if isinstance(self._x, x448.X448PrivateKey):
                    return self._x.exchange(x448.X448PublicKey.from_public_bytes(peer))
                return self._x.exchange(x25519.X25519PublicKey.from_public_bytes(peer))
            if not peer or peer[0] != 4:
                raise ValueError("not an uncompressed point")
            epub = ec.EllipticCurvePublicKey.from_encoded_point(_CURVES[self.group], peer)
            return self._ec.exchange(ec.ECDH(), epub)
        except ValueError as e:
            raise TlsAlert(
                AlertDescription.illegal_parameter, f"bad ECDH public value: {e}"
            ) from None


def shared_secret_origin(group: int) -> str:
    """Where an ECDHE pre-master secret comes from: X25519/X448 give the shared point's
    u-coordinate (RFC 7748 §6, RFC 8422 §5.11), the NIST curves its x-coordinate (RFC 8422
    §5.10)."""
    if group in _MONTGOMERY:
        return f"ECDHE shared secret ({group_name(group)} u-coordinate, RFC 7748 §6)"
    return f"ECDHE shared secret ({group_name(group)} x-coordinate, RFC 8422 §5.10)"


def group_name(group: int) -> str:
    try:
        return NamedGroup(group).name
    except ValueError:
        return f"group_{group}"


def load_certificate(der: bytes) -> x509.Certificate:
    try:
        cert = x509.load_der_x509_certificate(der)
        cert.subject.rfc4514_string()  # cryptography parses lazily: fail here, not later
        cert.issuer.rfc4514_string()
        return cert
    except ValueError as e:
        raise TlsAlert(
            AlertDescription.bad_certificate, f"certificate does not parse: {e}"
        ) from None


def leaf_public_key(chain: tuple[bytes, ...], trace: TraceHook | None) -> object:
    """The server leaf's public key, the chain's subjects traced (``certificate``); a chain
    that is empty or does not parse gets its alert (RFC 5246 §7.4.2, RFC 8446 §4.4.2.4)."""
    if not chain:
        raise TlsAlert(AlertDescription.decode_error, "server sent an empty certificate chain")
    leaf = load_certificate(chain[0])
    if trace is not None:
        trace(
            "certificate",
            {"chain": [load_certificate(c).subject.rfc4514_string() for c in chain]},
            None,
        )
    try:
        return leaf.public_key()
    except (ValueError, TypeError, UnsupportedAlgorithm) as e:
        raise TlsAlert(AlertDescription.unsupported_certificate, f"certificate key: {e}") from None


def check_server_chain(
    chain: tuple[bytes, ...],
    host: str | None,
    trust: TrustStore | None,
    clock: Callable[[], datetime],
    key_usage: str,
    trace: TraceHook | None,
) -> Verification | None:
    """The server's chain against ``trust`` (:func:`~minternet.tls.verify.verify_server_chain`),
    each check traced (:func:`refuse_failed_chain` then answers a failure). Without a trust
    store the chain is not verified (and the trace says so)."""
    if trust is None:
        if trace is not None:
            trace(
                "check",
                {"name": "chain", "ok": False, "detail": "not verified (no trust store)"},
                None,
            )
        return None
    now = clock()
    try:
        v = verify_server_chain(list(chain), host, now, trust, required_key_usage=key_usage)
    except (ValueError, TypeError, UnsupportedAlgorithm) as e:
        raise TlsAlert(AlertDescription.bad_certificate, f"certificate: {e}") from None
    if trace is not None:
        for check in v.checks:
            fields: dict[str, object] = {"name": check.name, "ok": check.ok, "detail": check.detail}
            if check.cert is not None:
                fields["cert"] = check.cert
            trace("check", fields, None)
        sent = frozenset(chain)  # membership only
        trace(
            "path",
            {
                "now": describe_time(now),
                "certificates": [
                    {**describe_certificate(c), "sent": c.public_bytes(Encoding.DER) in sent}
                    for c in v.path
                ],
            },
            "the path the checks walked, leaf first (RFC 5280 §6.1)",
        )
    return v


def refuse_failed_chain(v: Verification | None) -> None:
    """The alert the first failed check of ``v`` names (nothing if it passed or was not
    verified); called after the verification is kept for the caller's report."""
    if v is not None and not v.ok:
        raise TlsAlert(
            AlertDescription(v.alert or AlertDescription.bad_certificate),
            v.reason or "certificate rejected",
        )


# -- the machine ----------------------------------------------------------------------------
class Transcript:
    """The handshake messages so far (RFC 5246 §7.4.9 ``handshake_messages``), hashed as they
    come once the suite has fixed the hash (before that, kept as bytes)."""

    __slots__ = ("_hash", "_hash_name", "data")

    def __init__(self) -> None:
        self.data = bytearray()
        self._hash: hashlib._Hash | None = None
        self._hash_name = ""

    def add(self, raw: bytes) -> None:
        self.data += raw
        if self._hash is not None:
            self._hash.update(raw)

    def digest(self, hash_name: str) -> bytes:
        h = self._hash
        if h is None or self._hash_name != hash_name:
            h = hashlib.sha384() if hash_name == "sha384" else hashlib.sha256()
            h.update(self.data)
            self._hash, self._hash_name = h, hash_name
        return h.copy().digest()


@dataclass
class _Negotiation:
    """What the handshake decides, filled in as it goes."""

    suite: CipherSuite | None = None
    client_random: bytes = b""
    server_random: bytes = b""
    session_id: bytes = b""
    resumed: bool = False
    ems: bool = False
    etm: bool = False
    alpn: str | None = None
    server_name: str | None = None
    kx_name: str = ""
    signature_scheme: int | None = None
    peer_chain: tuple[bytes, ...] = ()
    verification: Verification | None = None
    pre_master: bytes | None = None
    master: bytes = b""
    keys: KeyBlock | None = None
    transcript: Transcript = field(default_factory=lambda: Transcript())


class _RecordReader(Protocol):
    def feed(self, data: bytes) -> None: ...

    def next_record(self) -> tuple[int, bytes] | None: ...


class MachineBase:
    """What every TLS machine (1.2 and 1.3) does the same way: the record loop of
    ``receive_data``, the bytes to send, the events taken, the trace hook, state changes
    traced, close_notify, closing on the transport's EOF. Each version names its own OPEN
    (application data flows), CLOSED and CLOSING states and handles each record."""

    OPEN: ClassVar[Enum]
    CLOSED: ClassVar[Enum]
    CLOSING: ClassVar[Enum]
    state: Any
    records: _RecordReader
    closed: Closed | None
    trace_hook: TraceHook | None
    tracing: bool
    _out: bytearray
    _events: list[Any]

    def __init__(
        self,
        random: RandomSource,
        keylog: Callable[[str], None] | None,
        trace: TraceHook | None,
        start: Enum,
    ) -> None:
        self.random = random
        self.keylog = keylog
        self.trace_hook = trace
        self.tracing = trace is not None
        self.state = start
        self.hs = HandshakeBuffer()
        self.closed = None
        self._out = bytearray()
        self._events = []
        self._close_notify_sent = False

    def receive_data(self, data: bytes) -> list[Any]:
        """Bytes from the peer → events (``b""`` is nothing; EOF is :meth:`receive_eof`)."""
        if self.state is self.CLOSED or not data:
            return []
        self.records.feed(data)
        try:
            while self.closed is None and self._reading():
                rec = self.records.next_record()
                if rec is None:
                    break
                self._on_record(*rec)
        except Exception as e:
            self._fail(e)
        return self._take_events()

    def _on_close_notify(self) -> None:
        """The peer's close_notify: answered with ours unless we sent it first, and the
        connection is closed cleanly (RFC 5246 §7.2.1, RFC 8446 §6.1)."""
        if self.state is not self.CLOSING:
            self._send_alert(AlertLevel.warning, AlertDescription.close_notify)
            self._trace("close_notify", {"direction": "answered"})
        self._close("close_notify", clean=True)

    def _reading(self) -> bool:
        """Whether to go on reading records (1.3 stops when 1.2 takes over)."""
        return True

    def _on_record(self, ct: int, data: bytes) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Send close_notify (RFC 5246 §7.2.1, RFC 8446 §6.1); the peer's answer completes
        the close."""
        if self.state in (self.CLOSED, self.CLOSING):
            return
        self._send_alert(AlertLevel.warning, AlertDescription.close_notify)
        self._trace("close_notify", {"direction": "sent"})
        if self.state is self.OPEN:
            self.state = self.CLOSING
        else:
            self._close("closed by us during the handshake", clean=False)

    @property
    def established(self) -> bool:
        return self.state is self.OPEN

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    def receive_eof(self) -> list[Any]:
        """The transport ended (TCP FIN). Without close_notify first, that is a truncation."""
        if self.state is self.CLOSED:
            return []
        if self.state is self.CLOSING:
            self._close("peer closed the transport after our close_notify", clean=True)
        else:
            self._close("transport closed without close_notify", clean=False)
        return self._take_events()

    def _send_alert(self, level: int, description: int) -> None:
        """One alert record — unless we already sent close_notify, after which nothing more
        goes out (RFC 5246 §7.2.1, RFC 8446 §6.1: "the sender will not send any more messages
        on this connection"), not even the fatal alert for what the peer sends meanwhile."""
        if self._close_notify_sent:
            return
        self._write_alert(level, description)
        if description == AlertDescription.close_notify:
            self._close_notify_sent = True

    def _write_alert(self, level: int, description: int) -> None:
        """The alert into a record under the current write protection (per version)."""
        raise NotImplementedError

    def _discard_pending(self) -> None:
        """Before a fatal alert: drop output queued but not yet put into records."""

    def _fail(self, exc: BaseException) -> None:
        """A local or peer error ends the connection with the alert it maps to."""
        desc = alert_for(exc)
        reason = exc.reason if isinstance(exc, TlsAlert) else str(exc)
        if desc is AlertDescription.internal_error:
            reason = f"{type(exc).__name__}: {exc}"
        self._discard_pending()
        if self._close_notify_sent:  # nothing after our close_notify (see _send_alert)
            self._trace("alert", {"direction": "withheld", "alert": alert_name(desc)}, why=reason)
            self._close(reason)
            return
        self._trace("alert", {"direction": "sent", "alert": alert_name(desc)}, why=reason)
        self._send_alert(AlertLevel.fatal, desc)
        self._close(reason, alert=int(desc), alert_sent=True)

    def _take_events(self) -> list[Any]:
        ev = self._events
        self._events = []
        return ev

    def _trace(self, kind: str, fields: dict[str, Any], why: str | None = None) -> None:
        if self.trace_hook is not None:
            self.trace_hook(kind, fields, why)

    def _set_state(self, new: Any) -> None:
        if new is not self.state:
            if self.tracing:
                self._trace("state", {"from": self.state.name, "to": new.name})
            self.state = new

    def _close(
        self, reason: str, alert: int | None = None, alert_sent: bool = False, clean: bool = False
    ) -> None:
        self.closed = Closed(reason, alert, alert_sent, clean)
        self._events.append(self.closed)
        self._set_state(self.CLOSED)


class TlsConnection(MachineBase):
    """Shared machinery; :class:`~minternet.tls.client.TlsClient` and
    :class:`~minternet.tls.server.TlsServer` add their transition tables."""

    role: ClassVar[str] = "?"
    TRANSITIONS: ClassVar[dict[State, dict[int, Handler]]] = {}
    OPEN = State.ESTABLISHED
    CLOSED = State.CLOSED
    CLOSING = State.CLOSING
    state: State
    records: RecordLayer

    def __init__(
        self,
        random: RandomSource,
        keylog: Callable[[str], None] | None = None,
        trace: TraceHook | None = None,
    ) -> None:
        super().__init__(random, keylog, trace, State.START)
        self.records = RecordLayer()
        self.neg = _Negotiation()
        self.info: TlsInfo | None = None
        self._pending_read: RecordProtection | None = None
        self._pending_write: RecordProtection | None = None

    # -- public API ---------------------------------------------------------------------
    def send_application_data(self, data: bytes) -> None:
        if self.state is not State.ESTABLISHED:
            raise LocalProtocolError(f"cannot send application data in state {self.state.name}")
        self._out += self.records.encode(ContentType.application_data, data)

    # -- plumbing -----------------------------------------------------------------------
    def _send_handshake(self, msg: Any, fields: dict[str, Any] | None = None) -> None:
        raw: bytes = msg.encode()
        self.neg.transcript.add(raw)
        # Without renegotiation every ClientHello is an initial one: its record says {3, 1}.
        version = INITIAL_CLIENT_HELLO_VERSION if raw[0] == HandshakeType.client_hello else TLS12
        self._out += self.records.encode(ContentType.handshake, raw, version)
        if self.tracing:
            name = HandshakeType(raw[0]).name
            self._trace("send", {"message": name, "length": len(raw), **(fields or {})})

    def _write_alert(self, level: int, description: int) -> None:
        self._out += self.records.encode(ContentType.alert, Alert(level, description).encode())

    def _send_change_cipher_spec(self) -> None:
        self._out += self.records.encode(ContentType.change_cipher_spec, b"\x01")
        assert self._pending_write is not None
        self.records.change_write(self._pending_write)
        self._trace("send", {"message": "ChangeCipherSpec", "protection": self._pending_write.name})
        self._pending_write = None

    def _on_record(self, ct: int, data: bytes) -> None:
        if ct == ContentType.handshake:
            self.hs.feed(data)
            while self.state is not State.CLOSED and (msg := self.hs.next_message()) is not None:
                self._on_handshake(msg)
        elif ct == ContentType.change_cipher_spec:
            if len(data) != 1:
                # RFC 5246 §7.1: the protocol is one message of one byte, and records may
                # coalesce messages of one type (§6.2.1) — so a longer record holds a second
                # ChangeCipherSpec where none may come: unexpected_message. OpenSSL
                # (SSL_R_BAD_CHANGE_CIPHER_SPEC) and RFC 8446 §5 answer the same.
                raise TlsAlert(
                    AlertDescription.unexpected_message,
                    f"ChangeCipherSpec record of {len(data)} bytes",
                )
            if data != b"\x01":
                # One byte out of the enum's range: RFC 5246 §7.2.2 decode_error ("some field
                # was out of the specified range"); OpenSSL says unexpected_message here too.
                raise TlsAlert(AlertDescription.decode_error, "ChangeCipherSpec is not 0x01")
            if self.hs.pending:
                raise TlsAlert(
                    AlertDescription.unexpected_message,
                    "ChangeCipherSpec inside a handshake message",
                )
            self._dispatch(CCS, None)
        elif ct == ContentType.alert:
            self._on_alert(Alert.decode(data))
        else:
            if self.state not in (State.ESTABLISHED, State.CLOSING):
                raise TlsAlert(
                    AlertDescription.unexpected_message, f"application data in {self.state.name}"
                )
            if data:
                self._events.append(ApplicationData(data))

    def _on_alert(self, alert: Alert) -> None:
        ev = AlertReceived(alert.level, alert.description)
        self._trace("alert", {"direction": "received", "alert": str(ev)})
        if alert.description == AlertDescription.close_notify:
            self._on_close_notify()
            return
        self._events.append(ev)
        if alert.level == AlertLevel.fatal:
            self._close(f"peer sent {ev}", alert=alert.description)
        elif (
            self.state not in (State.ESTABLISHED, State.CLOSING)
            and alert.description != AlertDescription.no_renegotiation
        ):
            # A warning in mid-handshake (before the ClientHello included) that we will not
            # carry on after. RFC 5246 §7.2: a party that "decides not to proceed with the
            # connection ... SHOULD send a fatal alert to terminate the connection" — so not a
            # silent close. (OpenSSL ignores such warnings and waits, up to a count.)
            raise TlsAlert(
                AlertDescription.handshake_failure,
                f"peer sent {ev} during the handshake",
            )

    def _on_handshake(self, msg: RawHandshake) -> None:
        if self.tracing:
            self._trace("recv", {"message": msg.name, "length": len(msg.raw)})
        self._dispatch(msg.msg_type, msg)

    def _dispatch(self, key: int, msg: RawHandshake | None) -> None:
        table = self.TRANSITIONS.get(self.state, {})
        handler = table.get(key)
        if handler is None:
            what = "ChangeCipherSpec" if key == CCS else (msg.name if msg else str(key))
            if (
                key == HandshakeType.hello_request
                and self.role == "client"
                and self.state is not State.ESTABLISHED
            ):
                return  # RFC 5246 §7.4.1.1: ignored while negotiating; never in the transcript
            if self.state is State.ESTABLISHED and key != CCS:
                self._on_renegotiation_attempt(key)
                return
            raise TlsAlert(
                AlertDescription.unexpected_message, f"{what} in state {self.state.name}"
            )
        if msg is not None and key != HandshakeType.finished:
            self.neg.transcript.add(msg.raw)
        self._set_state(handler(self, msg))  # type: ignore[arg-type]

    # The message by which the peer asks to renegotiate (the client's HelloRequest to a
    # client, a new ClientHello to a server); set by each side.
    RENEGOTIATION_TRIGGER: ClassVar[int | None] = None

    def _on_renegotiation_attempt(self, key: int) -> None:
        if key == self.RENEGOTIATION_TRIGGER:
            # RFC 5746 §4.2/§4.4: a side that does not renegotiate answers the request with
            # a warning no_renegotiation alert and carries on.
            self._send_alert(AlertLevel.warning, AlertDescription.no_renegotiation)
            self._trace(
                "alert",
                {"direction": "sent", "alert": "no_renegotiation"},
                why="renegotiation is not supported",
            )
            return
        raise TlsAlert(
            AlertDescription.unexpected_message, f"handshake message {key} after the handshake"
        )

    # -- key schedule -------------------------------------------------------------------
    def transcript_hash(self) -> bytes:
        assert self.neg.suite is not None
        return self.neg.transcript.digest(self.neg.suite.prf_hash)

    def _set_master_secret(self, pms: bytes, origin: str) -> None:
        """Both sides alike: the master secret from the pre-master secret — RFC 7627's
        session hash when extended_master_secret was agreed, else RFC 5246 §8.1's randoms —
        traced with where the pre-master secret came from, then the keys."""
        n = self.neg
        assert n.suite is not None
        n.pre_master = pms
        if n.ems:
            n.master = extended_master_secret(n.suite.prf_hash, pms, self.transcript_hash())
            how = 'PRF(pre_master, "extended master secret", Hash(handshake so far))'
        else:
            n.master = master_secret(n.suite.prf_hash, pms, n.client_random, n.server_random)
            how = 'PRF(pre_master, "master secret", client_random + server_random)'
        self._trace("pre_master_secret", {"origin": origin, "value": pms.hex()})
        self._trace("master_secret", {"value": n.master.hex(), "extended": n.ems}, why=how)
        self._derive_keys()

    def _derive_keys(self) -> None:
        """RFC 5246 §6.3: cut the key block and prepare both pending protections."""
        n = self.neg
        suite = n.suite
        assert suite is not None
        kb = key_block(
            suite.prf_hash,
            n.master,
            n.client_random,
            n.server_random,
            suite.mac_len,
            suite.key_len,
            suite.fixed_iv_len,
        )
        n.keys = kb
        client_p = protection_for(
            suite,
            kb.client_write_key,
            kb.client_write_iv,
            kb.client_write_mac_key,
            self.random.child("cbc-iv-client"),
            n.etm,
        )
        server_p = protection_for(
            suite,
            kb.server_write_key,
            kb.server_write_iv,
            kb.server_write_mac_key,
            self.random.child("cbc-iv-server"),
            n.etm,
        )
        if self.role == "client":
            self._pending_write, self._pending_read = client_p, server_p
        else:
            self._pending_write, self._pending_read = server_p, client_p
        if self.tracing:
            self._trace(
                "keys",
                {
                    "master_secret": n.master.hex(),
                    "mac_key_length": suite.mac_len,
                    "key_length": suite.key_len,
                    "iv_length": suite.fixed_iv_len,
                    "client_write_key": kb.client_write_key.hex(),
                    "server_write_key": kb.server_write_key.hex(),
                    "client_write_iv": kb.client_write_iv.hex(),
                    "server_write_iv": kb.server_write_iv.hex(),
                    "client_write_mac_key": kb.client_write_mac_key.hex(),
                    "server_write_mac_key": kb.server_write_mac_key.hex(),
                    "protection": client_p.name,
                    "keys_present": [k for k in kb.__slots__ if getattr(kb, k)],
                },
                why=_KEY_BLOCK_WHY,
            )
        if self.keylog is not None:
            self.keylog(client_random_line(n.client_random, n.master))

    def _finished_data(self, label: bytes) -> bytes:
        assert self.neg.suite is not None
        return finished_verify_data(
            self.neg.suite.prf_hash, self.neg.master, label, self.transcript_hash()
        )

    def _on_change_cipher_spec(self, _msg: RawHandshake | None) -> State:
        if self._pending_read is None:
            raise TlsAlert(AlertDescription.unexpected_message, "ChangeCipherSpec before keys")
        self.records.change_read(self._pending_read)
        self._trace("recv", {"message": "ChangeCipherSpec", "protection": self._pending_read.name})
        self._pending_read = None
        return State.WAIT_FINISHED

    def _check_finished(self, msg: RawHandshake, label: bytes) -> None:
        fin = Finished.decode_body(msg.body)
        expected = self._finished_data(label)
        if not hmac.compare_digest(fin.verify_data, expected):
            raise TlsAlert(
                AlertDescription.decrypt_error, "Finished verify_data does not match the transcript"
            )
        self.neg.transcript.add(msg.raw)
        self._trace("finished", {"verify_data": fin.verify_data.hex(), "ok": True})

    def _complete(self) -> None:
        n = self.neg
        assert n.suite is not None and n.keys is not None
        session = Session(n.session_id, n.master, n.suite, n.ems, n.server_name, n.alpn)
        self.info = TlsInfo(
            version="TLSv1.2",
            suite=n.suite,
            key_exchange=n.kx_name,
            signature_scheme=n.signature_scheme,
            server_name=n.server_name,
            alpn=n.alpn,
            resumed=n.resumed,
            session_id=n.session_id,
            extended_master_secret=n.ems,
            encrypt_then_mac=n.etm,
            peer_chain=n.peer_chain,
            verification=n.verification,
            client_random=n.client_random,
            server_random=n.server_random,
            pre_master_secret=n.pre_master,
            master_secret=n.master,
            keys=n.keys,
            session=session,
        )
        self._trace(
            "established",
            {
                "suite": n.suite.name,
                "key_exchange": n.kx_name,
                "resumed": n.resumed,
                "alpn": n.alpn,
                "extended_master_secret": n.ems,
            },
        )
        self._events.append(HandshakeComplete(self.info))
