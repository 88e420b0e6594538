"""The TLS 1.3 client machine (RFC 8446 §2, Appendix A.1), sans-IO.

Full handshake, one round trip::

    ClientHello (key_share, supported_versions, [pre_shared_key])  →
        ←  ServerHello (key_share)  {EncryptedExtensions, Certificate, CertificateVerify,
                                     Finished}        — {…}: under handshake traffic keys
    {Finished}                                         →
        ←  [NewSessionTicket]    — under application traffic keys from here on

If the server wants a key share for another group it answers a HelloRetryRequest (§4.1.4):
we send a second ClientHello with that share (and its cookie, if any), and the first
ClientHello is replaced in the transcript by its hash. With a ticket (§4.6.1) we offer a PSK
(psk_dhe_ke: still a fresh ECDHE, §4.2.9) bound to this ClientHello by its binder
(§4.2.11.2); a server that takes it sends no Certificate or CertificateVerify.

0-RTT (§2.3, §4.2.10): ``early_data`` is application data to send as early as possible.
With a ticket that allows early data (max_early_data_size > 0, the ALPN we offer includes
the ticket's), the first hello says ``early_data`` and up to max_early_data_size bytes of it
follow at once under the client early traffic secret (after the compatibility CCS, §D.4).
If the server's EncryptedExtensions says ``early_data`` it took them: we end them with
EndOfEarlyData (§4.5) before our Finished. If not (or after a HelloRetryRequest) they were
dropped, and we send them again under the application keys after our Finished, as we do
with what did not fit — so the bytes arrive once, in order, either way (but 0-RTT bytes can
be replayed by an attacker: send early only what may be, RFC 8446 §8, RFC 8470).

A ServerHello without supported_versions chooses TLS 1.2 or older: if we offered 1.2 the
caller (:mod:`minternet.tls.negotiate`) carries on with the 1.2 machine, after checking the
downgrade sentinel (§4.1.3) here: a 1.3-capable server that answers 1.2 ends its random with
``DOWNGRD\\x01`` — seeing it means someone removed our 1.3 offer, illegal_parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import ClassVar

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ..errors import ConfigError, LocalProtocolError
from ..randomness import RandomSource
from . import extensions as ext
from . import extensions13 as ext13
from . import signing, verify
from .alerts import AlertDescription, TlsAlert
from .client import DEFAULT_SIGNATURE_SCHEMES, _is_ip
from .connection import (
    EphemeralKey,
    Transcript,
    check_server_chain,
    group_name,
    leaf_public_key,
    refuse_failed_chain,
)
from .connection13 import (
    CCS13,
    TLS13,
    Handler13,
    NewTicket,
    State13,
    Ticket13,
    Tls13Connection,
    TraceHook,
)
from .extensions import Extension, ExtensionType, NamedGroup
from .messages import ClientHello, HandshakeType, RawHandshake, ServerHello
from .messages13 import (
    DOWNGRADE_TLS11,
    DOWNGRADE_TLS12,
    HELLO_RETRY_REQUEST_RANDOM,
    SERVER_CV_CONTEXT,
    Certificate13,
    CertificateRequest13,
    CertificateVerify,
    EncryptedExtensions,
    EndOfEarlyData,
    Finished13,
    NewSessionTicket13,
    certificate_verify_input,
    message_hash,
)
from .record import ContentType
from .schedule import KeySchedule, resumption_psk
from .suites13 import TLS13_BY_CODE, TLS13_SUITES, Tls13Suite

TLS12 = 0x0303
# The 1.2 list plus ed25519 (RFC 8446 §4.2.3), which 1.3 clients offer as browsers do.
DEFAULT_SIGNATURE_SCHEMES_13 = (*DEFAULT_SIGNATURE_SCHEMES, 0x0807)
# Groups whose key shares we can make (RFC 8446 §4.2.7), in our order of preference.
DEFAULT_GROUPS13 = (
    NamedGroup.x25519,
    NamedGroup.secp256r1,
    NamedGroup.secp384r1,
    NamedGroup.x448,
)
# The order our ClientHello lists its extensions in (the order browsers use; it only has
# to put pre_shared_key last, §4.2.11). Types not listed go just before padding.
EXTENSION_ORDER = (
    ExtensionType.server_name,
    ExtensionType.renegotiation_info,
    ExtensionType.supported_groups,
    ExtensionType.ec_point_formats,
    ExtensionType.session_ticket,
    ExtensionType.application_layer_protocol_negotiation,
    ExtensionType.extended_master_secret,
    ExtensionType.encrypt_then_mac,
    ExtensionType.key_share,
    ExtensionType.early_data,
    ExtensionType.supported_versions,
    ExtensionType.signature_algorithms,
    ExtensionType.cookie,
    ExtensionType.psk_key_exchange_modes,
    ExtensionType.record_size_limit,
)
# What a ServerHello / HelloRetryRequest may carry (§4.2 table), and what never comes in
# EncryptedExtensions.
_SH_ALLOWED = {
    ExtensionType.supported_versions,
    ExtensionType.key_share,
    ExtensionType.pre_shared_key,
}
_HRR_ALLOWED = {ExtensionType.supported_versions, ExtensionType.key_share, ExtensionType.cookie}
_NOT_IN_EE = {
    ExtensionType.supported_versions,
    ExtensionType.key_share,
    ExtensionType.pre_shared_key,
    ExtensionType.psk_key_exchange_modes,
    ExtensionType.cookie,
    ExtensionType.signature_algorithms,
    ExtensionType.padding,
}


@dataclass
class ClientConfig13:
    """How our TLS 1.3 client behaves; ``random`` is required."""

    random: RandomSource
    server_name: str | None = None
    trust: verify.TrustStore | None = None  # None: the chain is not verified
    now: datetime | Callable[[], datetime] | None = None
    suites: tuple[Tls13Suite, ...] = TLS13_SUITES
    groups: tuple[int, ...] = DEFAULT_GROUPS13  # supported_groups, our preference first
    key_share_groups: tuple[int, ...] | None = None  # shares in the first hello: groups[:1]
    signature_schemes: tuple[int, ...] = DEFAULT_SIGNATURE_SCHEMES_13
    alpn: tuple[str, ...] = ()
    session: Ticket13 | None = None
    compatibility_mode: bool = True  # a legacy_session_id and the dummy CCS (§D.4)
    record_size_limit: int | None = None  # RFC 8449, offered if set
    pad_hello: bool = True  # RFC 7685 padding of 256..511-byte hellos
    keylog: Callable[[str], None] | None = None
    # Extensions to add (or to replace ours of the same type), e.g. the 1.2 ones when 1.2
    # is offered too; they take their place in EXTENSION_ORDER.
    extra_extensions: tuple[Extension, ...] = field(default_factory=tuple)
    offer_tls12: bool = False  # supported_versions lists 1.2 too (negotiate does the rest)
    extra_cipher_suites: tuple[int, ...] = ()  # after ours: the 1.2 suites when 1.2 is offered
    # Application data to send first: as 0-RTT data if ``session`` allows it (§4.2.10),
    # else (and whatever the server declined) right after our Finished.
    early_data: bytes = b""

    def clock(self) -> datetime:
        if self.now is None:
            raise ConfigError("certificate validation needs a clock (ClientConfig13.now)")
        return self.now() if callable(self.now) else self.now


class TlsClient13(Tls13Connection):
    """One TLS 1.3 client connection. Call :meth:`start`, then feed bytes."""

    role: ClassVar[str] = "client"

    def __init__(self, config: ClientConfig13, trace: TraceHook | None = None) -> None:
        if not config.suites:
            raise ConfigError("no TLS 1.3 cipher suites configured")
        if not config.groups:
            raise ConfigError("no key-share groups configured")
        if config.trust is not None and config.now is None:
            raise ConfigError("certificate validation needs a clock (ClientConfig13.now)")
        super().__init__(config.random, config.keylog, trace)
        self.config = config
        self._shares: dict[int, EphemeralKey] = {}
        self._hello: ClientHello | None = None
        self._hello_raw = b""
        self._cookie: bytes | None = None
        self._psk_offered: Ticket13 | None = None
        self._psk_schedules: dict[int, KeySchedule] = {}  # hash length -> schedule
        self._server_key: signing.PublicKey | None = None
        self._cert_requested: CertificateRequest13 | None = None
        self._offered: set[int] = set()
        self.tickets: list[Ticket13] = []
        self._early_sent = b""  # sent as 0-RTT data, waiting for the server's verdict
        # Set when the server chose TLS 1.2: the ServerHello, for the 1.2 machine.
        self.fallback_server_hello: RawHandshake | None = None

    # -- flight 1 ------------------------------------------------------------------------
    def start(self) -> None:
        if self.state is not State13.START:
            raise LocalProtocolError("start() called twice")
        cfg = self.config
        n = self.neg
        n.client_random = self.random.random_bytes(32)
        n.session_id = self.random.random_bytes(32) if cfg.compatibility_mode else b""
        n.server_name = cfg.server_name
        share_groups = cfg.key_share_groups or cfg.groups[:1]
        for g in share_groups:
            self._shares[g] = EphemeralKey(g, self.random.child(f"keyshare-{group_name(g)}"))
            self._trace(
                "key_share",
                {"group": group_name(g), "public": self._shares[g].public.hex()},
                why="our ephemeral key pair for this group; the private half never leaves",
            )
        self._send_hello(initial=True)
        self._set_state(State13.WAIT_SH)

    def _hello_extensions(self) -> list[Extension]:
        cfg = self.config
        exts: dict[int, Extension] = {}
        if cfg.server_name and not _is_ip(cfg.server_name):
            exts[ExtensionType.server_name] = ext.server_name(cfg.server_name)
        exts[ExtensionType.supported_groups] = ext.u16_list(
            ExtensionType.supported_groups, cfg.groups
        )
        if cfg.alpn:
            exts[ExtensionType.application_layer_protocol_negotiation] = ext.alpn(cfg.alpn)
        exts[ExtensionType.key_share] = ext13.key_share_offer(
            tuple(ext13.KeyShareEntry(g, k.public) for g, k in self._shares.items())
        )
        versions = (TLS13, TLS12) if cfg.offer_tls12 else (TLS13,)
        exts[ExtensionType.supported_versions] = ext13.supported_versions_offer(versions)
        exts[ExtensionType.signature_algorithms] = ext.u16_list(
            ExtensionType.signature_algorithms, cfg.signature_schemes
        )
        if self._cookie is not None:
            exts[ExtensionType.cookie] = ext13.cookie(self._cookie)
        exts[ExtensionType.psk_key_exchange_modes] = ext13.psk_modes((ext13.PSK_DHE_KE,))
        if cfg.record_size_limit is not None:
            exts[ExtensionType.record_size_limit] = ext13.record_size_limit(cfg.record_size_limit)
        for e in cfg.extra_extensions:
            if e.type == ExtensionType.early_data and self.neg.hello_retry:
                continue  # §4.2.10: never early_data in a second ClientHello
            exts[e.type] = e
        rank: dict[int, int] = {t: i for i, t in enumerate(EXTENSION_ORDER)}
        return sorted(exts.values(), key=lambda e: rank.get(e.type, len(rank)))

    def _offers_early_data(self, ticket: Ticket13 | None) -> bool:
        """Whether this first hello offers 0-RTT (RFC 8446 §4.2.10): the ticket allows it,
        we have data, and our ALPN offer includes the ticket's protocol (the server accepts
        early data only for the same one)."""
        cfg = self.config
        return (
            ticket is not None
            and not self.neg.hello_retry
            and bool(cfg.early_data)
            and ticket.max_early_data > 0
            and (ticket.alpn is None or ticket.alpn in cfg.alpn)
        )

    def _usable_ticket(self) -> Ticket13 | None:
        t = self.config.session
        if t is None:
            return None
        if not any(s.hash_name == t.suite.hash_name for s in self.config.suites):
            return None
        return t

    def _send_hello(self, initial: bool) -> None:
        cfg = self.config
        n = self.neg
        exts = self._hello_extensions()
        ticket = self._usable_ticket()
        psk_ext: Extension | None = None
        if ticket is not None:
            age_ms = 0
            if ticket.received_at is not None and cfg.now is not None:
                age_ms = max(0, int((cfg.clock() - ticket.received_at).total_seconds() * 1000))
            placeholder = ext13.OfferedPsks(
                (ext13.PskIdentity(ticket.ticket, (age_ms + ticket.age_add) % (1 << 32)),),
                (bytes(ticket.suite.hash_len),),
            )
            psk_ext = ext13.pre_shared_key_offer(placeholder)
        early = initial and self._offers_early_data(ticket)
        if early and all(e.type != ExtensionType.early_data for e in exts):
            exts.append(Extension(ExtensionType.early_data))
            rank: dict[int, int] = {t: i for i, t in enumerate(EXTENSION_ORDER)}
            exts.sort(key=lambda e: rank.get(e.type, len(rank)))
        if cfg.pad_hello:
            probe = self._encode_hello(exts + ([psk_ext] if psk_ext else []))
            pad = ext13.hello_padding_length(len(probe))
            if pad is not None:
                exts.append(ext13.padding(pad))
        if psk_ext is not None and ticket is not None:
            placeholder = ext13.parse_pre_shared_key_offer(psk_ext.data)
            unbound = self._encode_hello([*exts, psk_ext])
            truncated = unbound[: len(unbound) - len(placeholder.binders_bytes())]
            schedule = KeySchedule(ticket.suite.hash_name, ticket.psk)
            self._psk_schedules = {ticket.suite.hash_len: schedule}
            t = Transcript()
            t.add(bytes(n.transcript.data))
            t.add(truncated)
            binder = schedule.binder(t.digest(ticket.suite.hash_name))
            psk_ext = ext13.pre_shared_key_offer(replace(placeholder, binders=(binder,)))
            exts.append(psk_ext)
            self._psk_offered = ticket
            self._trace(
                "psk",
                {"identity_length": len(ticket.ticket), "binder": binder.hex()},
                why="offering the ticket's PSK; the binder is a Finished-style HMAC over this "
                "ClientHello up to the binders, keyed from the PSK (§4.2.11.2)",
            )
        hello = ClientHello(
            version=TLS12,
            random=n.client_random,
            session_id=n.session_id,
            cipher_suites=self._suite_codes(),
            extensions=tuple(exts),
        )
        self._hello = hello
        self._offered = {e.type for e in hello.extensions}
        self._hello_raw = self._queue(
            hello,
            None
            if not self.tracing
            else {
                "client_random": n.client_random.hex(),
                "session_id": n.session_id.hex(),
                "cipher_suites": [s.name for s in cfg.suites],
                "groups": [group_name(g) for g in cfg.groups],
                "key_shares": [group_name(g) for g in self._shares],
                "extensions": [e.name for e in hello.extensions],
                "retry": not initial,
            },
        )
        self._flush(initial_hello=initial)
        if early and ticket is not None:
            self._send_early_data(ticket)

    def _send_early_data(self, ticket: Ticket13) -> None:
        """Up to max_early_data_size bytes of application data under the client early
        traffic secret (the ticket's suite), right after the first ClientHello (§2.3)."""
        n = self.neg
        schedule = self._psk_schedules[ticket.suite.hash_len]
        secret = self._early_keys(schedule, n.transcript.digest(ticket.suite.hash_name))
        if self.config.compatibility_mode:
            self._send_ccs()  # §D.4: with early data, right after the first ClientHello
        self._set_write(secret, "early data (0-RTT)", ticket.suite)
        self._early_sent = self.config.early_data[: ticket.max_early_data]
        n.early_data = "offered"
        n.early_data_bytes = len(self._early_sent)
        self._out += self.records.encode(ContentType.application_data, self._early_sent)
        self._trace(
            "early_data",
            {"bytes": len(self._early_sent), "max_early_data_size": ticket.max_early_data},
            why="0-RTT: sent before the server answered, under client_early_traffic_secret",
        )

    def _suite_codes(self) -> tuple[int, ...]:
        return tuple(s.code for s in self.config.suites) + self.config.extra_cipher_suites

    def _encode_hello(self, exts: list[Extension]) -> bytes:
        n = self.neg
        return ClientHello(
            TLS12, n.client_random, n.session_id, self._suite_codes(), b"\x00", tuple(exts)
        ).encode()

    # -- ServerHello / HelloRetryRequest ---------------------------------------------------
    def _on_server_hello(self, msg: RawHandshake) -> State13:
        sh = ServerHello.decode_body(msg.body)
        n = self.neg
        by_type = {e.type: e for e in sh.extensions}
        sv = by_type.get(ExtensionType.supported_versions)
        if sv is None:
            return self._on_older_server_hello(sh, msg)
        version = ext13.parse_supported_versions_selected(sv.data)
        if version != TLS13:
            raise TlsAlert(
                AlertDescription.illegal_parameter,
                f"supported_versions selects 0x{version:04x}, not TLS 1.3",
            )
        if sh.session_id != n.session_id:
            raise TlsAlert(
                AlertDescription.illegal_parameter, "legacy_session_id_echo is not our session id"
            )
        suite = TLS13_BY_CODE.get(sh.cipher_suite)
        if suite is None or suite not in self.config.suites:
            raise TlsAlert(
                AlertDescription.illegal_parameter,
                f"server chose suite 0x{sh.cipher_suite:04x} we did not offer",
            )
        if sh.compression_method != 0:
            raise TlsAlert(AlertDescription.illegal_parameter, "server chose compression")
        if sh.random == HELLO_RETRY_REQUEST_RANDOM:
            return self._on_hello_retry(sh, suite, msg)
        if n.hello_retry and n.suite is not None and suite is not n.suite:
            raise TlsAlert(
                AlertDescription.illegal_parameter, "ServerHello suite differs from the retry's"
            )
        for e in sh.extensions:
            if e.type not in self._offered:
                raise TlsAlert(
                    AlertDescription.unsupported_extension,
                    f"ServerHello carries unoffered {e.name}",
                )
            if e.type not in _SH_ALLOWED:
                raise TlsAlert(AlertDescription.illegal_parameter, f"{e.name} in ServerHello")
        n.suite = suite
        n.server_random = sh.random
        psk_ext = by_type.get(ExtensionType.pre_shared_key)
        if psk_ext is not None:
            index = ext13.parse_pre_shared_key_selected(psk_ext.data)
            ticket = self._psk_offered
            if index != 0 or ticket is None:
                raise TlsAlert(AlertDescription.illegal_parameter, f"server selected PSK #{index}")
            if ticket.suite.hash_name != suite.hash_name:
                raise TlsAlert(
                    AlertDescription.illegal_parameter, "resumed with a suite of another hash"
                )
            n.resumed = True
            n.alpn = ticket.alpn
            n.schedule = self._psk_schedules[ticket.suite.hash_len]
        else:
            n.schedule = KeySchedule(suite.hash_name)
        ks = by_type.get(ExtensionType.key_share)
        if ks is None:
            raise TlsAlert(
                AlertDescription.missing_extension, "ServerHello without key_share (psk_dhe_ke)"
            )
        entry = ext13.parse_key_share_server(ks.data)
        key = self._shares.get(entry.group)
        if key is None:
            raise TlsAlert(
                AlertDescription.illegal_parameter,
                f"server key share for {group_name(entry.group)}, which we did not share",
            )
        n.group = entry.group
        shared = key.exchange(entry.key_exchange)
        self._trace(
            "server_hello",
            {
                "server_random": sh.random.hex(),
                "suite": suite.name,
                "group": group_name(entry.group),
                "server_public": entry.key_exchange.hex(),
                "resumed": n.resumed,
                "extensions": [e.name for e in sh.extensions],
            },
        )
        self._trace("key_share", {"group": group_name(entry.group), "shared_secret": shared.hex()})
        n.transcript.add(msg.raw)
        s = self._handshake_keys(shared)
        self._set_read(s.server_handshake_traffic_secret, "handshake")
        return State13.WAIT_EE

    def _on_older_server_hello(self, sh: ServerHello, msg: RawHandshake) -> State13:
        """The server chose TLS 1.2 or older (no supported_versions)."""
        tail = sh.random[-8:]
        if tail in (DOWNGRADE_TLS12, DOWNGRADE_TLS11):
            self._trace(
                "downgrade",
                {"server_random": sh.random.hex(), "sentinel": tail.decode("latin-1")},
                why="a TLS 1.3 server answered with an older version: the hello was tampered",
            )
            raise TlsAlert(
                AlertDescription.illegal_parameter,
                "downgrade sentinel in the ServerHello random (RFC 8446 §4.1.3)",
            )
        if not self.config.offer_tls12 or sh.version != TLS12 or self.neg.hello_retry:
            raise TlsAlert(
                AlertDescription.protocol_version,
                f"server chose version 0x{sh.version:04x}; we speak TLS 1.3 here",
            )
        self.fallback_server_hello = msg
        self._handoff = True
        return State13.WAIT_SH

    def _on_hello_retry(self, hrr: ServerHello, suite: Tls13Suite, msg: RawHandshake) -> State13:
        n = self.neg
        if n.hello_retry:
            raise TlsAlert(AlertDescription.unexpected_message, "a second HelloRetryRequest")
        for e in hrr.extensions:
            if e.type not in _HRR_ALLOWED:
                raise TlsAlert(
                    AlertDescription.unsupported_extension
                    if e.type not in self._offered
                    else AlertDescription.illegal_parameter,
                    f"{e.name} in HelloRetryRequest",
                )
        by_type = {e.type: e for e in hrr.extensions}
        ks = by_type.get(ExtensionType.key_share)
        ck = by_type.get(ExtensionType.cookie)
        if ks is None and ck is None:
            raise TlsAlert(
                AlertDescription.illegal_parameter, "HelloRetryRequest that changes nothing"
            )
        group = None
        if ks is not None:
            group = ext13.parse_key_share_retry(ks.data)
            if group not in self.config.groups or group in self._shares:
                raise TlsAlert(
                    AlertDescription.illegal_parameter,
                    f"HelloRetryRequest asks for {group_name(group)}",
                )
        n.hello_retry = True
        n.suite = suite
        # §4.4.1: ClientHello1 becomes message_hash(Hash(ClientHello1)) in the transcript.
        t = Transcript()
        t.add(message_hash(suite.hash_name, self._hello_raw))
        t.add(msg.raw)
        n.transcript = t
        if ck is not None:
            self._cookie = ext13.parse_cookie(ck.data)
        if group is not None:
            self._shares = {
                group: EphemeralKey(group, self.random.child(f"keyshare-{group_name(group)}"))
            }
        self._trace(
            "hello_retry",
            {
                "suite": suite.name,
                "group": group_name(group) if group is not None else None,
                "cookie": self._cookie.hex() if self._cookie else None,
            },
            why="the server wants a key share we did not send: one more round trip",
        )
        if self.config.compatibility_mode:
            self._send_ccs()
        if self.records.write_aead is not None:
            # §4.2.10: a HelloRetryRequest declines early data; the next hello is in clear.
            self.records.set_write(None)
            n.early_data = "rejected"
        if self._psk_offered is not None and self._psk_offered.suite.hash_name != suite.hash_name:
            self._psk_offered = None
            self.config = replace(self.config, session=None)
        self._send_hello(initial=False)
        return State13.WAIT_SH

    # -- encrypted flight from the server ----------------------------------------------------
    def _on_encrypted_extensions(self, msg: RawHandshake) -> State13:
        ee = EncryptedExtensions.decode_body(msg.body)
        n = self.neg
        for e in ee.extensions:
            if e.type in _NOT_IN_EE:
                raise TlsAlert(
                    AlertDescription.illegal_parameter, f"{e.name} in EncryptedExtensions"
                )
            if e.type not in self._offered:
                raise TlsAlert(
                    AlertDescription.unsupported_extension,
                    f"EncryptedExtensions carries unoffered {e.name}",
                )
        by_type = {e.type: e for e in ee.extensions}
        alpn_ext = by_type.get(ExtensionType.application_layer_protocol_negotiation)
        if alpn_ext is not None:
            chosen = ext.parse_alpn(alpn_ext.data)
            if len(chosen) != 1 or chosen[0] not in self.config.alpn:
                raise TlsAlert(AlertDescription.illegal_parameter, f"server chose ALPN {chosen}")
            n.alpn = chosen[0]
        rsl = by_type.get(ExtensionType.record_size_limit)
        if rsl is not None:
            ext13.parse_record_size_limit(rsl.data)
        if n.early_data == "offered":
            n.early_data = "rejected"
        if ExtensionType.early_data in by_type:
            if by_type[ExtensionType.early_data].data:
                raise TlsAlert(AlertDescription.decode_error, "early_data in EE is not empty")
            ticket = self._psk_offered
            if not n.resumed or n.hello_retry or ticket is None or not self._early_sent:
                raise TlsAlert(
                    AlertDescription.illegal_parameter, "early_data accepted that we did not send"
                )
            if n.alpn != ticket.alpn:
                raise TlsAlert(
                    AlertDescription.illegal_parameter,
                    f"early data accepted with ALPN {n.alpn}, not the ticket's {ticket.alpn}",
                )
            n.early_data = "accepted"
        self._trace("encrypted_extensions", {"extensions": [e.name for e in ee.extensions]})
        return State13.WAIT_FINISHED if n.resumed else State13.WAIT_CERT_CR

    def _on_certificate_request(self, msg: RawHandshake) -> State13:
        self._cert_requested = CertificateRequest13.decode_body(msg.body)
        self._trace("certificate_request", {}, why="we have no client certificate: empty answer")
        return State13.WAIT_CERT

    def _on_certificate(self, msg: RawHandshake) -> State13:
        cert = Certificate13.decode_body(msg.body)
        n = self.neg
        if cert.context:
            raise TlsAlert(
                AlertDescription.illegal_parameter, "server Certificate with a request context"
            )
        n.peer_chain = cert.chain
        key = leaf_public_key(cert.chain, self.trace_hook)
        if not isinstance(
            key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
        ):
            raise TlsAlert(
                AlertDescription.unsupported_certificate, f"{type(key).__name__} certificate key"
            )
        self._server_key = key
        n.verification = check_server_chain(
            cert.chain,
            self.config.server_name,
            self.config.trust,
            self.config.clock,
            "digital_signature",  # RFC 8446 §4.4.2.2: the key signs CertificateVerify
            self.trace_hook,
        )
        refuse_failed_chain(n.verification)
        return State13.WAIT_CV

    def _on_certificate_verify(self, msg: RawHandshake) -> State13:
        # The transcript already holds this message: the signature covers what came before.
        n = self.neg
        cv = CertificateVerify.decode_body(msg.body)
        key = self._server_key
        assert key is not None and n.suite is not None
        check_scheme_13(cv.signature_scheme, key, self.config.signature_schemes)
        before = Transcript()
        before.add(bytes(n.transcript.data[: len(n.transcript.data) - len(msg.raw)]))
        signed = certificate_verify_input(SERVER_CV_CONTEXT, before.digest(n.suite.hash_name))
        if not signing.verify(key, cv.signature_scheme, signed, cv.signature):
            raise TlsAlert(
                AlertDescription.decrypt_error, "CertificateVerify signature does not verify"
            )
        n.signature_scheme = cv.signature_scheme
        self._trace(
            "certificate_verify",
            {"signature_scheme": f"0x{cv.signature_scheme:04x}", "signature_ok": True},
            why="the server proves it holds the certificate's key: it signed the transcript",
        )
        return State13.WAIT_FINISHED

    def _on_finished(self, msg: RawHandshake) -> State13:
        n = self.neg
        s = n.schedule
        assert s is not None
        self._check_finished(msg, s.server_handshake_traffic_secret)
        self._application_keys()
        self._set_read(s.server_application_traffic_secret, "application")
        if n.session_id:
            self._send_ccs()
        if n.early_data == "accepted":
            self._queue(EndOfEarlyData())  # §4.5: the last message under the early keys
        self._set_write(s.client_handshake_traffic_secret, "handshake")
        if self._cert_requested is not None:
            self._queue(Certificate13(self._cert_requested.context, ()))
        vd = self._finished(s.client_handshake_traffic_secret)
        self._queue(Finished13(vd), {"verify_data": vd.hex()})
        s.resumption(self.transcript_hash())
        self._set_write(s.client_application_traffic_secret, "application")
        self._complete()
        # What was not sent as 0-RTT, or was sent but declined, goes now (§4.2.10).
        rest = self.config.early_data[len(self._early_sent) if n.early_data == "accepted" else 0 :]
        if rest:
            self._out += self.records.encode(ContentType.application_data, rest)
        return State13.CONNECTED

    # -- after the handshake ---------------------------------------------------------------
    def _on_new_session_ticket(self, msg: RawHandshake) -> State13:
        nst = NewSessionTicket13.decode_body(msg.body)
        n = self.neg
        s = n.schedule
        assert s is not None and n.suite is not None
        if nst.lifetime > 604800:
            raise TlsAlert(AlertDescription.illegal_parameter, "ticket lifetime over 7 days")
        max_early = 0
        for e in nst.extensions:
            if e.type == ExtensionType.early_data:
                max_early = ext13.parse_early_data_max(e.data)
        now = self.config.clock() if self.config.now is not None else None
        ticket = Ticket13(
            ticket=nst.ticket,
            psk=resumption_psk(n.suite.hash_name, s.resumption_master_secret, nst.nonce),
            suite=n.suite,
            age_add=nst.age_add,
            lifetime=nst.lifetime,
            received_at=now,
            server_name=n.server_name,
            alpn=n.alpn,
            max_early_data=max_early,
        )
        self.tickets.append(ticket)
        self._trace(
            "new_session_ticket",
            {"lifetime": nst.lifetime, "ticket_length": len(nst.ticket), "nonce": nst.nonce.hex()},
            why='PSK = HKDF-Expand-Label(resumption_master_secret, "resumption", nonce)',
        )
        self._events.append(NewTicket(ticket))
        return self.state

    TRANSITIONS: ClassVar[dict[State13, dict[int, Handler13]]] = {
        State13.WAIT_SH: {HandshakeType.server_hello: _on_server_hello},
        State13.WAIT_EE: {HandshakeType.encrypted_extensions: _on_encrypted_extensions},
        State13.WAIT_CERT_CR: {
            HandshakeType.certificate_request: _on_certificate_request,
            HandshakeType.certificate: _on_certificate,
        },
        State13.WAIT_CERT: {HandshakeType.certificate: _on_certificate},
        State13.WAIT_CV: {HandshakeType.certificate_verify: _on_certificate_verify},
        State13.WAIT_FINISHED: {HandshakeType.finished: _on_finished},
        State13.CONNECTED: {
            HandshakeType.new_session_ticket: _on_new_session_ticket,
            HandshakeType.key_update: Tls13Connection._on_key_update,
        },
        State13.CLOSING: {
            HandshakeType.new_session_ticket: _on_new_session_ticket,
            HandshakeType.key_update: Tls13Connection._on_key_update,
        },
    }


def check_scheme_13(scheme: int, key: signing.PublicKey, offered: tuple[int, ...]) -> None:
    """RFC 8446 §4.4.3: the scheme must be one offered, fit the key, and be a 1.3 scheme —
    RSA only with PSS, ECDSA only on the curve the scheme names."""
    if scheme not in offered:
        raise TlsAlert(
            AlertDescription.illegal_parameter, f"signature scheme 0x{scheme:04x} not offered"
        )
    usable = signing.schemes_for_key(key)
    if isinstance(key, rsa.RSAPublicKey):
        usable = [s for s in usable if s >> 8 == 0x08]  # rsa_pss_rsae_*
    elif isinstance(key, ec.EllipticCurvePublicKey):
        usable = usable[:1]  # the scheme named after the key's curve
    if scheme not in usable:
        raise TlsAlert(
            AlertDescription.illegal_parameter,
            f"signature scheme 0x{scheme:04x} does not fit the certificate key in TLS 1.3",
        )


__all__ = ["CCS13", "ClientConfig13", "TlsClient13", "check_scheme_13"]
