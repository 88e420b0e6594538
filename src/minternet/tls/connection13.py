"""What the TLS 1.3 client and server machines share (RFC 8446): states, the record and
handshake plumbing, the key schedule steps, KeyUpdate, alerts and closing.

Same shape as the 1.2 machines (:mod:`minternet.tls.connection`): sans-IO,
``receive_data(bytes) -> events``, ``data_to_send()``, one transition table per side,
``state → {message type → handler}``, a missing entry being unexpected_message. The events
are the 1.2 ones (:class:`HandshakeComplete` with a :class:`Tls13Info`,
:class:`ApplicationData`, :class:`AlertReceived`, :class:`Closed`) plus
:class:`NewTicket` when the server sends a ticket to resume with, and :class:`EarlyData`
(an :class:`ApplicationData`) for 0-RTT data a server accepted.

Rules of RFC 8446 kept here:

- §5: a ``change_cipher_spec`` record of exactly 0x01 is dropped between the first
  ClientHello and the peer's Finished (middlebox compatibility, §D.4); any other, or one at
  another time, is unexpected_message. A handshake message may not span a key change.
- §6: every alert but close_notify and user_canceled is fatal, whatever its level says;
  after close_notify the peer sends nothing more (we answer with ours).
- §4.6.3: KeyUpdate moves the receiving secret on; with ``update_requested`` we answer
  with our own KeyUpdate (and move ours on) before sending more data.
- Handshake messages of one flight go out together, in as few records as fit.
- §4.2.10: accepted 0-RTT data is read (state WAIT_EOED) under the client early traffic
  secret until EndOfEarlyData, at most max_early_data_size bytes of content
  (unexpected_message beyond).

Trace kinds as in 1.2 (``send``/``recv``/``state``/``alert``/``close_notify``/
``established``) plus ``key_share``, ``secret`` (``name``, ``value``; the key log label in
``why``), ``keys`` (which direction now uses which traffic secret), ``hello_retry``,
``psk``, ``early_data``, ``key_update``, ``downgrade``.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar

from ..errors import LocalProtocolError
from ..randomness import RandomSource
from .alerts import Alert, AlertDescription, TlsAlert
from .connection import (
    AlertReceived,
    ApplicationData,
    Closed,
    HandshakeComplete,
    MachineBase,
    Transcript,
    group_name,
)
from .messages import HandshakeType, RawHandshake
from .messages13 import Finished13, KeyUpdate
from .record import ContentType
from .record13 import Aead13, RecordLayer13
from .schedule import (
    KeySchedule,
    finished_verify_data,
    next_traffic_secret,
    traffic_keys,
)
from .suites13 import Tls13Suite
from .verify import Verification

TLS13 = 0x0304
CCS13 = -1  # the compatibility ChangeCipherSpec in the transition tables
TraceHook = Callable[[str, dict[str, Any], str | None], None]


class State13(Enum):
    """RFC 8446 Appendix A, both sides."""

    START = "START"
    WAIT_SH = "WAIT_SH"
    WAIT_EE = "WAIT_EE"
    WAIT_CERT_CR = "WAIT_CERT_CR"
    WAIT_CERT = "WAIT_CERT"
    WAIT_CV = "WAIT_CV"
    WAIT_FINISHED = "WAIT_FINISHED"
    WAIT_CH = "WAIT_CH"
    WAIT_EOED = "WAIT_EOED"  # server: reading accepted 0-RTT data until EndOfEarlyData
    WAIT_CLIENT_FINISHED = "WAIT_CLIENT_FINISHED"
    CONNECTED = "CONNECTED"
    CLOSING = "CLOSING"  # we sent close_notify, waiting for the peer's
    CLOSED = "CLOSED"


Handler13 = Callable[[Any, RawHandshake], State13]


@dataclass(frozen=True, slots=True)
class Ticket13:
    """A NewSessionTicket as the client keeps it, with the PSK it stands for (§4.6.1)."""

    ticket: bytes
    psk: bytes = field(repr=False)
    suite: Tls13Suite
    age_add: int
    lifetime: int
    received_at: datetime | None
    server_name: str | None = None
    alpn: str | None = None
    max_early_data: int = 0


@dataclass(frozen=True, slots=True)
class EarlyData(ApplicationData):
    """Application data that came as 0-RTT data (RFC 8446 §2.3, §4.2.10), before the
    client's Finished: it carries no guarantee against replay (§8) — an application acts
    on it only where a replay does no harm (RFC 8470)."""


@dataclass(frozen=True, slots=True)
class NewTicket:
    """The server gave us a ticket: pass it as ``ClientConfig13.session`` to resume."""

    ticket: Ticket13


@dataclass(frozen=True)
class Tls13Info:
    """Everything the TLS 1.3 handshake negotiated, secrets included."""

    version: str
    suite: Tls13Suite
    key_exchange: str  # "ECDHE x25519", "PSK + ECDHE x25519"
    group: int
    signature_scheme: int | None
    server_name: str | None
    alpn: str | None
    resumed: bool
    hello_retry: bool
    compatibility_mode: bool
    peer_chain: tuple[bytes, ...] = field(repr=False)
    verification: Verification | None = field(repr=False)
    client_random: bytes
    server_random: bytes
    session_id: bytes
    shared_secret: bytes = field(repr=False)
    schedule: KeySchedule = field(repr=False)
    # 0-RTT (§4.2.10): "not offered", "accepted" or "rejected", and how many bytes came
    # (server) or went (client) as early data.
    early_data: str = "not offered"
    early_data_bytes: int = 0

    def as_dict(self, secrets: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {
            "version": self.version,
            "cipher_suite": self.suite.name,
            "cipher_suite_openssl": self.suite.openssl_name,
            "key_exchange": self.key_exchange,
            "group": self.group,
            "signature_scheme": self.signature_scheme,
            "server_name": self.server_name,
            "alpn": self.alpn,
            "resumed": self.resumed,
            "hello_retry": self.hello_retry,
            "session_id": self.session_id.hex(),
            "client_random": self.client_random.hex(),
            "server_random": self.server_random.hex(),
        }
        if self.early_data != "not offered":
            d["early_data"] = self.early_data
            d["early_data_bytes"] = self.early_data_bytes
        if secrets:
            s = self.schedule
            d["shared_secret"] = self.shared_secret.hex()
            d["secrets"] = {
                "early_secret": s.early_secret.hex(),
                "handshake_secret": s.handshake_secret.hex(),
                "client_handshake_traffic_secret": s.client_handshake_traffic_secret.hex(),
                "server_handshake_traffic_secret": s.server_handshake_traffic_secret.hex(),
                "master_secret": s.master_secret.hex(),
                "client_application_traffic_secret_0": s.client_application_traffic_secret.hex(),
                "server_application_traffic_secret_0": s.server_application_traffic_secret.hex(),
                "exporter_master_secret": s.exporter_master_secret.hex(),
                "resumption_master_secret": s.resumption_master_secret.hex(),
            }
            if s.client_early_traffic_secret:
                d["secrets"]["client_early_traffic_secret"] = s.client_early_traffic_secret.hex()
                d["secrets"]["early_exporter_master_secret"] = s.early_exporter_master_secret.hex()
        return d


Event13 = HandshakeComplete | ApplicationData | EarlyData | AlertReceived | Closed | NewTicket


def keylog_line(label: str, client_random: bytes, secret: bytes) -> str:
    """An NSS key log line with a TLS 1.3 label (``CLIENT_HANDSHAKE_TRAFFIC_SECRET`` …)."""
    return f"{label} {client_random.hex()} {secret.hex()}"


@dataclass
class _Negotiation13:
    suite: Tls13Suite | None = None
    client_random: bytes = b""
    server_random: bytes = b""
    session_id: bytes = b""
    group: int = 0
    shared_secret: bytes = b""
    resumed: bool = False
    hello_retry: bool = False
    alpn: str | None = None
    server_name: str | None = None
    signature_scheme: int | None = None
    peer_chain: tuple[bytes, ...] = ()
    verification: Verification | None = None
    schedule: KeySchedule | None = None
    transcript: Transcript = field(default_factory=lambda: Transcript())
    early_data: str = "not offered"  # → "offered" (client) → "accepted" / "rejected"
    early_data_bytes: int = 0
    max_early_data: int = 0  # what the ticket allows (§4.6.1 max_early_data_size)


class Tls13Connection(MachineBase):
    """Shared machinery of :class:`~minternet.tls.client13.TlsClient13` and
    :class:`~minternet.tls.server13.TlsServer13`."""

    role: ClassVar[str] = "?"
    TRANSITIONS: ClassVar[dict[State13, dict[int, Handler13]]] = {}
    OPEN = State13.CONNECTED
    CLOSED = State13.CLOSED
    CLOSING = State13.CLOSING
    state: State13
    records: RecordLayer13

    def __init__(
        self,
        random: RandomSource,
        keylog: Callable[[str], None] | None = None,
        trace: TraceHook | None = None,
    ) -> None:
        super().__init__(random, keylog, trace, State13.START)
        self.records = RecordLayer13()
        self.neg = _Negotiation13()
        self.info: Tls13Info | None = None
        self._hs_out = bytearray()  # handshake messages of the flight being built
        self._read_secret = b""
        self._write_secret = b""
        self._peer_finished = False  # after it, a CCS is unexpected
        self._ccs_sent = False
        self._key_update_due = False
        self._handoff = False  # stop reading: the caller takes over (a TLS 1.2 answer)

    # -- public API ---------------------------------------------------------------------
    def _reading(self) -> bool:
        return not self._handoff

    def send_application_data(self, data: bytes) -> None:
        if self.state is not State13.CONNECTED:
            raise LocalProtocolError(f"cannot send application data in state {self.state.name}")
        if self._key_update_due:
            self.update_keys(request_peer=False)
        self._out += self.records.encode(ContentType.application_data, data)

    def update_keys(self, request_peer: bool = True) -> None:
        """Send a KeyUpdate (RFC 8446 §4.6.3) and move our sending keys on; with
        ``request_peer`` the peer is asked to move its own on too."""
        if self.state is not State13.CONNECTED:
            raise LocalProtocolError(f"cannot update keys in state {self.state.name}")
        self._key_update_due = False
        self._queue(KeyUpdate(request_peer), {"request_update": request_peer})
        self._flush()
        assert self.neg.suite is not None
        self._write_secret = next_traffic_secret(self.neg.suite.hash_name, self._write_secret)
        self._set_write(self._write_secret, "application (updated)")

    def take_unread(self) -> tuple[bytes, bytes]:
        """After a hand-off: the handshake bytes of the current record not yet parsed,
        and the record bytes not yet read."""
        hs = bytes(self.hs._buf)
        self.hs._buf.clear()
        rec = bytes(self.records._buf)
        self.records._buf.clear()
        return hs, rec

    # -- plumbing -----------------------------------------------------------------------
    def _queue(self, msg: Any, fields: dict[str, Any] | None = None) -> bytes:
        """Add a handshake message to the flight (and to the transcript)."""
        raw: bytes = msg.encode()
        self.neg.transcript.add(raw)
        self._hs_out += raw
        if self.tracing:
            try:
                name = HandshakeType(raw[0]).name
            except ValueError:
                name = f"handshake_{raw[0]}"
            protection = self.records.write_aead.name if self.records.write_aead else "none"
            self._trace(
                "send",
                {"message": name, "length": len(raw), "protection": protection, **(fields or {})},
            )
        return raw

    def _flush(self, initial_hello: bool = False) -> None:
        """The queued handshake messages into records under the current write keys."""
        if self._hs_out:
            self._out += self.records.encode(
                ContentType.handshake, bytes(self._hs_out), initial_hello=initial_hello
            )
            self._hs_out.clear()

    def _send_ccs(self) -> None:
        """The middlebox-compatibility ChangeCipherSpec (RFC 8446 §D.4), sent once."""
        if self._ccs_sent:
            return
        self._flush()
        self._ccs_sent = True
        self._out += self.records.encode(ContentType.change_cipher_spec, b"\x01")
        self._trace("send", {"message": "ChangeCipherSpec"}, why="middlebox compatibility")

    def _write_alert(self, level: int, description: int) -> None:
        self._flush()
        self._out += self.records.encode(ContentType.alert, Alert(level, description).encode())

    def _discard_pending(self) -> None:
        self._hs_out.clear()

    def _on_record(self, ct: int, data: bytes) -> None:
        if ct == ContentType.handshake:
            self.hs.feed(data)
            while (
                self.state is not State13.CLOSED
                and not self._handoff
                and (msg := self.hs.next_message()) is not None
            ):
                self._on_handshake(msg)
        elif ct == ContentType.change_cipher_spec:
            # RFC 8446 §5: one byte 0x01, between the first ClientHello and the peer's
            # Finished; dropped. Anything else is unexpected_message.
            if data != b"\x01":
                raise TlsAlert(AlertDescription.unexpected_message, "ChangeCipherSpec is not 0x01")
            before_first_hello = self.state is State13.START or (
                self.state is State13.WAIT_CH and not self.neg.hello_retry
            )
            if self._peer_finished or before_first_hello:
                raise TlsAlert(
                    AlertDescription.unexpected_message,
                    f"ChangeCipherSpec in state {self.state.name}",
                )
            if self.tracing:
                self._trace("recv", {"message": "ChangeCipherSpec"}, why="ignored (RFC 8446 §5)")
        elif ct == ContentType.alert:
            self._on_alert(Alert.decode(data))
        else:
            if self.hs.pending:
                raise TlsAlert(
                    AlertDescription.unexpected_message, "application data inside a message"
                )
            if self.state is State13.WAIT_EOED:
                self._on_early_data(data)
                return
            if self.state not in (State13.CONNECTED, State13.CLOSING):
                raise TlsAlert(
                    AlertDescription.unexpected_message, f"application data in {self.state.name}"
                )
            if data:
                self._events.append(ApplicationData(data))

    def _on_early_data(self, data: bytes) -> None:
        """0-RTT data the server accepted (§4.2.10): at most the ticket's
        max_early_data_size bytes of it, counting only the content (no type, no padding);
        more is unexpected_message."""
        n = self.neg
        n.early_data_bytes += len(data)
        if n.early_data_bytes > n.max_early_data:
            raise TlsAlert(
                AlertDescription.unexpected_message,
                f"{n.early_data_bytes} bytes of early data, over max_early_data_size "
                f"{n.max_early_data}",
            )
        if data:
            self._events.append(EarlyData(data))

    def _on_alert(self, alert: Alert) -> None:
        ev = AlertReceived(alert.level, alert.description)
        self._trace("alert", {"direction": "received", "alert": str(ev)})
        if alert.description == AlertDescription.close_notify:
            self._on_close_notify()
            return
        self._events.append(ev)
        # RFC 8446 §6: every other alert ends the connection, whatever its level.
        if alert.description == AlertDescription.user_canceled and self.state not in (
            State13.CONNECTED,
            State13.CLOSING,
        ):
            self._close(f"peer sent {ev} during the handshake", alert=alert.description)
            return
        if alert.description != AlertDescription.user_canceled:
            self._close(f"peer sent {ev}", alert=alert.description)

    def _on_handshake(self, msg: RawHandshake) -> None:
        if self.tracing:
            self._trace("recv", {"message": msg.name, "length": len(msg.raw)})
        table = self.TRANSITIONS.get(self.state, {})
        handler = table.get(msg.msg_type)
        if handler is None:
            raise TlsAlert(
                AlertDescription.unexpected_message, f"{msg.name} in state {self.state.name}"
            )
        if msg.msg_type not in (
            HandshakeType.finished,
            HandshakeType.new_session_ticket,
            HandshakeType.key_update,
            HandshakeType.client_hello,
            HandshakeType.server_hello,
        ):
            self.neg.transcript.add(msg.raw)
        self._set_state(handler(self, msg))

    # -- keys -----------------------------------------------------------------------------
    def transcript_hash(self) -> bytes:
        assert self.neg.suite is not None
        return self.neg.transcript.digest(self.neg.suite.hash_name)

    def _aead(self, secret: bytes, suite: Tls13Suite | None = None) -> Aead13:
        suite = suite or self.neg.suite
        assert suite is not None
        return Aead13(suite, traffic_keys(suite.hash_name, secret, suite.key_len))

    def _set_read(self, secret: bytes, what: str) -> None:
        if self.hs.pending:
            # RFC 8446 §5.1: handshake messages MUST NOT span key changes.
            raise TlsAlert(
                AlertDescription.unexpected_message, "handshake message spans a key change"
            )
        self._read_secret = secret
        self.records.set_read(self._aead(secret))
        self._trace_keys("read", what, secret)

    def _set_write(self, secret: bytes, what: str, suite: Tls13Suite | None = None) -> None:
        """Flush what is queued under the old keys, then write under ``secret`` (of
        ``suite``: the PSK's for 0-RTT data, before the ServerHello chose one)."""
        self._flush()
        self._write_secret = secret
        self.records.set_write(self._aead(secret, suite))
        self._trace_keys("write", what, secret, suite)

    def _trace_keys(
        self, direction: str, what: str, secret: bytes, suite: Tls13Suite | None = None
    ) -> None:
        if not self.tracing:
            return
        suite = suite or self.neg.suite
        assert suite is not None
        k = traffic_keys(suite.hash_name, secret, suite.key_len)
        self._trace(
            "keys",
            {
                "direction": direction,
                "epoch": what,
                "key": k.key.hex(),
                "iv": k.iv.hex(),
                "aead": suite.aead,
            },
            why='key = HKDF-Expand-Label(secret, "key", "", key_length); '
            'iv = HKDF-Expand-Label(secret, "iv", "", 12)',
        )

    def _log_secret(self, label: str, name: str, secret: bytes, why: str) -> None:
        if self.tracing:
            self._trace("secret", {"name": name, "value": secret.hex(), "keylog": label}, why=why)
        if self.keylog is not None:
            self.keylog(keylog_line(label, self.neg.client_random, secret))

    def _early_keys(self, schedule: KeySchedule, client_hello_hash: bytes) -> bytes:
        """The 0-RTT secrets from the hash of the ClientHello (RFC 8446 §7.1), logged
        for Wireshark; the client early traffic secret."""
        schedule.early(client_hello_hash)
        self._log_secret(
            "CLIENT_EARLY_TRAFFIC_SECRET",
            "client_early_traffic_secret",
            schedule.client_early_traffic_secret,
            'Derive-Secret(early_secret, "c e traffic", ClientHello)',
        )
        self._log_secret(
            "EARLY_EXPORTER_SECRET",
            "early_exporter_master_secret",
            schedule.early_exporter_master_secret,
            'Derive-Secret(early_secret, "e exp master", ClientHello)',
        )
        return schedule.client_early_traffic_secret

    def _handshake_keys(self, shared: bytes) -> KeySchedule:
        """Handshake Secret and both handshake traffic secrets from the hash up to
        ServerHello (RFC 8446 §7.1)."""
        s = self.neg.schedule
        assert s is not None
        self.neg.shared_secret = shared
        s.handshake(shared, self.transcript_hash())
        if self.tracing:
            self._trace(
                "secret",
                {"name": "early_secret", "value": s.early_secret.hex()},
                why="HKDF-Extract(0, PSK or zeros)",
            )
            self._trace(
                "secret",
                {"name": "handshake_secret", "value": s.handshake_secret.hex()},
                why='HKDF-Extract(Derive-Secret(early, "derived", ""), (EC)DHE shared secret)',
            )
        self._log_secret(
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            "client_handshake_traffic_secret",
            s.client_handshake_traffic_secret,
            'Derive-Secret(handshake_secret, "c hs traffic", ClientHello..ServerHello)',
        )
        self._log_secret(
            "SERVER_HANDSHAKE_TRAFFIC_SECRET",
            "server_handshake_traffic_secret",
            s.server_handshake_traffic_secret,
            'Derive-Secret(handshake_secret, "s hs traffic", ClientHello..ServerHello)',
        )
        return s

    def _application_keys(self) -> None:
        """Master Secret's traffic secrets from the hash up to the server's Finished."""
        s = self.neg.schedule
        assert s is not None
        s.application(self.transcript_hash())
        if self.tracing:
            self._trace(
                "secret",
                {"name": "master_secret", "value": s.master_secret.hex()},
                why='HKDF-Extract(Derive-Secret(handshake_secret, "derived", ""), zeros)',
            )
        self._log_secret(
            "CLIENT_TRAFFIC_SECRET_0",
            "client_application_traffic_secret_0",
            s.client_application_traffic_secret,
            'Derive-Secret(master_secret, "c ap traffic", ClientHello..server Finished)',
        )
        self._log_secret(
            "SERVER_TRAFFIC_SECRET_0",
            "server_application_traffic_secret_0",
            s.server_application_traffic_secret,
            'Derive-Secret(master_secret, "s ap traffic", ClientHello..server Finished)',
        )
        self._log_secret(
            "EXPORTER_SECRET",
            "exporter_master_secret",
            s.exporter_master_secret,
            'Derive-Secret(master_secret, "exp master", ClientHello..server Finished)',
        )

    def _finished(self, base_key: bytes) -> bytes:
        assert self.neg.suite is not None
        return finished_verify_data(self.neg.suite.hash_name, base_key, self.transcript_hash())

    def _check_finished(self, msg: RawHandshake, base_key: bytes) -> None:
        """The peer's Finished against the transcript so far; decrypt_error if it is wrong
        (RFC 8446 §4.4.4). Then it joins the transcript."""
        assert self.neg.suite is not None
        fin = Finished13.decode_body(msg.body, self.neg.suite.hash_len)
        if not hmac.compare_digest(fin.verify_data, self._finished(base_key)):
            raise TlsAlert(AlertDescription.decrypt_error, "Finished does not match the transcript")
        self.neg.transcript.add(msg.raw)
        self._peer_finished = True
        self._trace("finished", {"verify_data": fin.verify_data.hex(), "ok": True})

    def _on_key_update(self, msg: RawHandshake) -> State13:
        ku = KeyUpdate.decode_body(msg.body)
        assert self.neg.suite is not None
        self._read_secret = next_traffic_secret(self.neg.suite.hash_name, self._read_secret)
        self._set_read(self._read_secret, "application (updated by peer)")
        self._trace("key_update", {"direction": "received", "request_update": ku.request_update})
        if ku.request_update and self.state is State13.CONNECTED:
            # §4.6.3: answer before sending more application data.
            self.update_keys(request_peer=False)
        return self.state

    def _complete(self) -> None:
        n = self.neg
        assert n.suite is not None and n.schedule is not None
        kx = f"ECDHE {group_name(n.group)}"
        self.info = Tls13Info(
            version="TLSv1.3",
            suite=n.suite,
            key_exchange=f"PSK + {kx}" if n.resumed else kx,
            group=n.group,
            signature_scheme=n.signature_scheme,
            server_name=n.server_name,
            alpn=n.alpn,
            resumed=n.resumed,
            hello_retry=n.hello_retry,
            compatibility_mode=bool(n.session_id),
            peer_chain=n.peer_chain,
            verification=n.verification,
            client_random=n.client_random,
            server_random=n.server_random,
            session_id=n.session_id,
            shared_secret=n.shared_secret,
            schedule=n.schedule,
            early_data=n.early_data,
            early_data_bytes=n.early_data_bytes,
        )
        self._trace(
            "established",
            {
                "version": "TLSv1.3",
                "suite": n.suite.name,
                "key_exchange": self.info.key_exchange,
                "resumed": n.resumed,
                "hello_retry": n.hello_retry,
                "alpn": n.alpn,
                **({"early_data": n.early_data} if n.early_data != "not offered" else {}),
            },
        )
        self._events.append(HandshakeComplete(self.info))  # type: ignore[arg-type]
