"""The TLS 1.3 server machine (RFC 8446 §2, Appendix A.2), sans-IO.

It takes the first suite of *its* list that the client offers, the first group of its list
that the client supports; if the client sent no share for that group it answers a
HelloRetryRequest (§4.1.4) naming it, once. It resumes from a ticket when the client offers
one with ``psk_dhe_ke`` (§4.2.9) whose binder checks out (decrypt_error if not), otherwise
authenticates with a certificate chosen by SNI and by what the client can verify
(RSA-PSS, ECDSA on the key's own curve, Ed25519 — §4.4.3). Its whole encrypted flight
(EncryptedExtensions … Finished) goes out in one record when it fits. After the client's
Finished it sends ``tickets`` NewSessionTickets; their content is sealed by a
:class:`TicketSealer` (AES-256-GCM under a key drawn from the server's random source by
default), so the server keeps no per-ticket state.

0-RTT (§2.3, §4.2.10): tickets say ``max_early_data_size`` when ``max_early_data`` is set.
Early data is accepted only if the server has an anti-replay store
(:class:`~minternet.tls.antireplay.ClientHelloRecorder`, §8.2 + §8.3) and a clock, the ticket
allows early data, its PSK is the client's first identity, the suite and the ALPN are the
ticket's, there was no HelloRetryRequest, and the store admits the hello (fresh ticket age,
not seen before). Then EncryptedExtensions carries ``early_data`` and the client's early
records are read (as :class:`~minternet.tls.connection13.EarlyData` events, at most
max_early_data_size bytes) under the client early traffic secret until EndOfEarlyData.
Otherwise the early records, which do not decrypt under the handshake keys, are skipped up
to that size (§4.2.10) and the handshake goes on in 1-RTT.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..codec import Reader, Writer
from ..errors import ConfigError, DecodeError
from ..randomness import RandomSource
from . import extensions as ext
from . import extensions13 as ext13
from . import signing
from .alerts import AlertDescription, TlsAlert
from .antireplay import ClientHelloRecorder
from .connection import EphemeralKey, Transcript, group_name
from .connection13 import (
    CCS13,
    TLS13,
    Handler13,
    State13,
    Tls13Connection,
    TraceHook,
)
from .extensions import Extension, ExtensionType, NamedGroup
from .messages import ClientHello, HandshakeType, RawHandshake, ServerHello
from .messages13 import (
    HELLO_RETRY_REQUEST_RANDOM,
    SERVER_CV_CONTEXT,
    Certificate13,
    CertificateEntry,
    CertificateVerify,
    EncryptedExtensions,
    EndOfEarlyData,
    Finished13,
    NewSessionTicket13,
    certificate_verify_input,
    message_hash,
)
from .schedule import KeySchedule, resumption_psk
from .server import _der, _matches, _names
from .suites13 import TLS13_BY_CODE, TLS13_SUITES, Tls13Suite

TLS12 = 0x0303
KEY_SHARE_GROUPS = (
    NamedGroup.x25519,
    NamedGroup.secp256r1,
    NamedGroup.secp384r1,
    NamedGroup.x448,
)  # the groups EphemeralKey implements
# x448 last: a client that offers it alone gets it, others keep their first choice.
DEFAULT_SERVER_GROUPS13 = KEY_SHARE_GROUPS
_EE_ORDER = (
    ExtensionType.supported_groups,
    ExtensionType.record_size_limit,
    ExtensionType.server_name,
    ExtensionType.application_layer_protocol_negotiation,
    ExtensionType.early_data,
)


class Credentials13(Protocol):
    """A certificate chain (leaf first) and the leaf's private key (RSA, EC or Ed25519)."""

    @property
    def chain(self) -> Sequence[x509.Certificate]: ...

    @property
    def key(self) -> signing.PrivateKey: ...


class TicketSealer(Protocol):
    """Makes a ticket (or a HelloRetryRequest cookie) of our own state, and reads it back;
    ``open`` gives None for anything we did not make."""

    def seal(self, plaintext: bytes) -> bytes: ...

    def open(self, sealed: bytes) -> bytes | None: ...


class AeadSealer:
    """AES-256-GCM under a server key: ``nonce(12) || ciphertext || tag``."""

    def __init__(self, key: bytes, random: RandomSource) -> None:
        if len(key) != 32:
            raise ConfigError("a ticket key is 32 bytes")
        self._aead = AESGCM(key)
        self._random = random

    def seal(self, plaintext: bytes) -> bytes:
        nonce = self._random.random_bytes(12)
        return nonce + self._aead.encrypt(nonce, plaintext, b"minternet ticket")

    def open(self, sealed: bytes) -> bytes | None:
        if len(sealed) < 12 + 16:
            return None
        try:
            return self._aead.decrypt(sealed[:12], sealed[12:], b"minternet ticket")
        except InvalidTag:
            return None


@dataclass
class ServerConfig13:
    """How our TLS 1.3 server behaves."""

    credentials: Sequence[Credentials13]
    random: RandomSource
    suites: tuple[Tls13Suite, ...] = TLS13_SUITES
    groups: tuple[int, ...] = DEFAULT_SERVER_GROUPS13
    alpn: tuple[str, ...] = ()
    keylog: Callable[[str], None] | None = None
    now: Callable[[], datetime] | None = None  # ticket issue times and expiry
    tickets: int = 1  # NewSessionTickets after each full handshake
    ticket_lifetime: int = 7200  # seconds (§4.6.1: at most 7 days)
    ticket_sealer: TicketSealer | None = None  # default: AeadSealer with a random key
    max_early_data: int = 0  # max_early_data_size in our tickets (0: no early_data extension)
    # 0-RTT is accepted only with this store (RFC 8446 §8.2) and a clock (``now``); without
    # them early data a ticket allowed is skipped (§4.2.10).
    anti_replay: ClientHelloRecorder | None = None
    advertise_groups: bool = False  # list our groups in EncryptedExtensions (§4.2.7)
    hrr_cookie: bool = False  # send a cookie with a HelloRetryRequest (§4.2.2)
    extra_encrypted_extensions: tuple[Extension, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.ticket_sealer is None:
            key = self.random.child("ticket-key").random_bytes(32)
            self.ticket_sealer = AeadSealer(key, self.random.child("ticket-nonce"))


@dataclass(frozen=True, slots=True)
class _TicketState:
    """What a ticket holds (sealed): enough to resume without server state."""

    suite: int
    psk: bytes
    age_add: int
    issued_ms: int
    lifetime: int
    server_name: str
    alpn: str
    max_early_data: int = 0

    def encode(self) -> bytes:
        w = Writer()
        w.u8(2)
        w.u16(self.suite)
        w.vector(1, self.psk)
        w.u32(self.age_add)
        w.u64(self.issued_ms)
        w.u32(self.lifetime)
        w.vector(1, self.server_name.encode())
        w.vector(1, self.alpn.encode())
        w.u32(self.max_early_data)
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes) -> _TicketState | None:
        try:
            r = Reader(data, "ticket")
            if r.u8("version") != 2:
                return None
            st = cls(
                r.u16("suite"),
                r.vector(1, "psk"),
                r.u32("age_add"),
                r.u64("issued"),
                r.u32("lifetime"),
                r.vector(1, "server_name").decode("ascii", "replace"),
                r.vector(1, "alpn").decode("latin-1"),
                r.u32("max_early_data"),
            )
            r.expect_end("ticket")
            return st
        except DecodeError:
            return None


def _ms(t: datetime) -> int:
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return int(t.timestamp() * 1000)


class TlsServer13(Tls13Connection):
    """One TLS 1.3 server connection: feed the client's bytes to ``receive_data``."""

    role: ClassVar[str] = "server"

    def __init__(self, config: ServerConfig13, trace: TraceHook | None = None) -> None:
        if not config.credentials:
            raise ConfigError("a TLS server needs at least one certificate and key")
        if not config.suites:
            raise ConfigError("no TLS 1.3 cipher suites configured")
        super().__init__(config.random, config.keylog, trace)
        self.config = config
        self.state = State13.WAIT_CH
        self._first_hello: ClientHello | None = None
        self._retry_group: int | None = None
        self._cookie_sent: bytes | None = None
        self._cred: Credentials13 | None = None
        self._tickets_sent = 0
        self._early_data_offered = False
        # The resumed ticket, and the identity and binder it came with (for 0-RTT).
        self._resumed: tuple[_TicketState, ext13.PskIdentity, bytes] | None = None

    # -- ClientHello → ServerHello … Finished --------------------------------------------------
    def _on_client_hello(self, msg: RawHandshake) -> State13:
        ch = ClientHello.decode_body(msg.body)
        return self.accept_client_hello(ch, msg)

    def accept_client_hello(self, ch: ClientHello, msg: RawHandshake) -> State13:
        """Answer a ClientHello that offers TLS 1.3 (also called by the version negotiator,
        which has already parsed it)."""
        n = self.neg
        cfg = self.config
        retry = self._first_hello is not None
        if ch.compression_methods != b"\x00":
            raise TlsAlert(
                AlertDescription.illegal_parameter, "TLS 1.3 needs exactly null compression"
            )
        by_type = {e.type: e for e in ch.extensions}
        if (
            ExtensionType.pre_shared_key in by_type
            and ch.extensions[-1].type != ExtensionType.pre_shared_key
        ):
            raise TlsAlert(
                AlertDescription.illegal_parameter, "pre_shared_key is not the last extension"
            )
        sv = by_type.get(ExtensionType.supported_versions)
        versions = ext13.parse_supported_versions_offer(sv.data) if sv else []
        if TLS13 not in versions:
            raise TlsAlert(AlertDescription.protocol_version, "the client does not offer TLS 1.3")
        sni_ext = by_type.get(ExtensionType.server_name)
        sni = ext.parse_server_name(sni_ext.data) if sni_ext is not None else None
        if ExtensionType.psk_key_exchange_modes in by_type:  # malformed is decode_error
            ext13.parse_psk_modes(by_type[ExtensionType.psk_key_exchange_modes].data)
        if retry:
            first = self._first_hello
            assert first is not None
            if ch.random != first.random or ch.session_id != first.session_id:
                raise TlsAlert(
                    AlertDescription.illegal_parameter, "second ClientHello changes random/id"
                )
            if ExtensionType.early_data in by_type:
                raise TlsAlert(
                    AlertDescription.illegal_parameter, "early_data in the second ClientHello"
                )
            if self._cookie_sent is not None:
                ck = by_type.get(ExtensionType.cookie)
                if ck is None or ext13.parse_cookie(ck.data) != self._cookie_sent:
                    raise TlsAlert(AlertDescription.illegal_parameter, "cookie missing or changed")
        n.client_random = ch.random
        n.session_id = ch.session_id
        n.server_name = sni
        if self.tracing:
            self._trace(
                "client_hello",
                {
                    "client_random": ch.random.hex(),
                    "session_id": ch.session_id.hex(),
                    "cipher_suites": [f"0x{c:04x}" for c in ch.cipher_suites],
                    "versions": [f"0x{v:04x}" for v in versions],
                    "server_name": sni,
                    "extensions": [e.name for e in ch.extensions],
                    "retry": retry,
                },
            )
        # Suite: our preference among the client's.
        suite = next((s for s in cfg.suites if s.code in ch.cipher_suites), None)
        if suite is None:
            raise TlsAlert(AlertDescription.handshake_failure, "no TLS 1.3 cipher suite in common")
        if retry and suite is not n.suite:
            raise TlsAlert(AlertDescription.illegal_parameter, "second ClientHello changes suites")
        n.suite = suite
        # Groups and shares (§4.2.7, §4.2.8).
        if ExtensionType.supported_groups not in by_type:
            raise TlsAlert(AlertDescription.missing_extension, "no supported_groups")
        if ExtensionType.key_share not in by_type:
            raise TlsAlert(AlertDescription.missing_extension, "no key_share")
        client_groups = ext.parse_u16_list(
            by_type[ExtensionType.supported_groups].data, "supported_groups"
        )
        shares = ext13.parse_key_share_offer(by_type[ExtensionType.key_share].data)
        for sh in shares:
            if sh.group not in client_groups:
                raise TlsAlert(
                    AlertDescription.illegal_parameter,
                    f"key share for {group_name(sh.group)}, which is not in supported_groups",
                )
        if retry and (len(shares) != 1 or shares[0].group != self._retry_group):
            raise TlsAlert(
                AlertDescription.illegal_parameter,
                "second ClientHello without the one key share we asked for",
            )
        group = next((g for g in cfg.groups if g in client_groups and g in KEY_SHARE_GROUPS), None)
        if group is None:
            raise TlsAlert(
                AlertDescription.handshake_failure,
                "no key-share group in common (client: "
                + ", ".join(group_name(g) for g in client_groups)
                + ")",
            )
        share = next((s for s in shares if s.group == group), None)
        if share is None:
            if retry:
                raise TlsAlert(AlertDescription.illegal_parameter, "no usable key share")
            return self._hello_retry(ch, msg, suite, group)
        n.transcript.add(msg.raw)
        # Resumption (§4.2.11) or a certificate.
        psk = self._choose_psk(ch, by_type, suite, sni, msg.raw)
        cred = scheme = None
        if psk is None:
            if ExtensionType.signature_algorithms not in by_type:
                raise TlsAlert(AlertDescription.missing_extension, "no signature_algorithms")
            schemes = ext.parse_u16_list(
                by_type[ExtensionType.signature_algorithms].data, "signature_algorithms"
            )
            cred, scheme = self._choose_credentials(sni, schemes)
        # ALPN (RFC 7301 §3.2)
        alpn_ext = by_type.get(ExtensionType.application_layer_protocol_negotiation)
        if alpn_ext is not None and cfg.alpn:
            offered = ext.parse_alpn(alpn_ext.data)
            common = [p for p in cfg.alpn if p in offered]
            if not common:
                raise TlsAlert(
                    AlertDescription.no_application_protocol, f"no common ALPN in {offered}"
                )
            n.alpn = common[0]
        early = self._accept_early_data(suite, psk) if self._early_data_offered else None
        # ServerHello
        n.group = group
        eph = EphemeralKey(group, self.random.child(f"keyshare-{group_name(group)}"))
        shared = eph.exchange(share.key_exchange)
        n.server_random = self.random.random_bytes(32)
        sh_exts: list[Extension] = []
        if psk is not None:
            sh_exts.append(ext13.pre_shared_key_selected(psk[0]))
        sh_exts.append(ext13.key_share_server(ext13.KeyShareEntry(group, eph.public)))
        sh_exts.append(ext13.supported_versions_selected(TLS13))
        self._queue(
            ServerHello(TLS12, n.server_random, ch.session_id, suite.code, 0, tuple(sh_exts)),
            None
            if not self.tracing
            else {
                "server_random": n.server_random.hex(),
                "suite": suite.name,
                "group": group_name(group),
                "server_public": eph.public.hex(),
                "resumed": psk is not None,
            },
        )
        self._trace("key_share", {"group": group_name(group), "shared_secret": shared.hex()})
        self._flush()
        if ch.session_id:
            self._send_ccs()
        s = self._handshake_keys(shared)
        self._set_write(s.server_handshake_traffic_secret, "handshake")
        if early is not None:
            self._set_read(early, "early data (0-RTT)")
        else:
            self._set_read(s.client_handshake_traffic_secret, "handshake")
            if self._early_data_offered and not retry:
                # §4.2.10: we decline 0-RTT, so the client's early records will not decrypt.
                self.records.skip_budget = max(self.config.max_early_data, 0) + 256 * 16
        # EncryptedExtensions
        ee: dict[int, Extension] = {}
        if cfg.advertise_groups:
            ee[ExtensionType.supported_groups] = ext.u16_list(
                ExtensionType.supported_groups, cfg.groups
            )
        if ExtensionType.record_size_limit in by_type:
            ext13.parse_record_size_limit(by_type[ExtensionType.record_size_limit].data)
            ee[ExtensionType.record_size_limit] = ext13.record_size_limit(ext13_limit())
        if sni is not None:  # resumed too: RFC 6066's rule against it is TLS 1.2's (as NSS)
            ee[ExtensionType.server_name] = Extension(ExtensionType.server_name)
        if n.alpn is not None:
            ee[ExtensionType.application_layer_protocol_negotiation] = ext.alpn([n.alpn])
        if early is not None:
            ee[ExtensionType.early_data] = Extension(ExtensionType.early_data)
        for e in cfg.extra_encrypted_extensions:
            ee[e.type] = e
        rank: dict[int, int] = {t: i for i, t in enumerate(_EE_ORDER)}
        ee_list = sorted(ee.values(), key=lambda e: rank.get(e.type, len(rank)))
        self._queue(EncryptedExtensions(tuple(ee_list)), {"extensions": [e.name for e in ee_list]})
        if cred is not None and scheme is not None:
            self._cred = cred
            chain = tuple(CertificateEntry(_der(c)) for c in cred.chain)
            self._queue(
                Certificate13(b"", chain),
                {"chain": [c.subject.rfc4514_string() for c in cred.chain]}
                if self.tracing
                else None,
            )
            signed = certificate_verify_input(SERVER_CV_CONTEXT, self.transcript_hash())
            sig = signing.sign(cred.key, scheme, signed, self.random.child("signature"))
            n.signature_scheme = scheme
            self._queue(CertificateVerify(scheme, sig), {"signature_scheme": f"0x{scheme:04x}"})
        vd = self._finished(s.server_handshake_traffic_secret)
        self._queue(Finished13(vd), {"verify_data": vd.hex()})
        self._flush()
        self._application_keys()
        self._set_write(s.server_application_traffic_secret, "application")
        return State13.WAIT_EOED if early is not None else State13.WAIT_CLIENT_FINISHED

    def _accept_early_data(self, suite: Tls13Suite, psk: tuple[int, bytes] | None) -> bytes | None:
        """Whether to read the client's 0-RTT data (RFC 8446 §4.2.10, §8): the client
        early traffic secret if so (logged, the transcript holding just this ClientHello),
        None to decline. Every refusal is traced with its reason."""
        n = self.neg
        cfg = self.config
        st, ident, binder = self._resumed if self._resumed is not None else (None, None, b"")
        reason: str | None = None
        if psk is None or st is None or ident is None:
            reason = "no PSK accepted"
        elif n.hello_retry:
            reason = "after a HelloRetryRequest"  # §4.1.2: the second hello has none
        elif psk[0] != 0:
            reason = "the PSK is not the client's first identity"
        elif not st.max_early_data or not cfg.max_early_data:
            reason = "the ticket does not allow early data"
        elif st.suite != suite.code:
            reason = "the cipher suite is not the ticket's"
        elif (n.alpn or "") != st.alpn:
            reason = "the ALPN protocol is not the ticket's"
        elif cfg.anti_replay is None or cfg.now is None:
            reason = "no anti-replay store (RFC 8446 §8)"
        elif not st.issued_ms:
            reason = "the ticket has no issue time to check its age against"
        else:
            client_age = (ident.obfuscated_ticket_age - st.age_add) % (1 << 32)
            reason = cfg.anti_replay.admit(binder, st.issued_ms, client_age, _ms(cfg.now()))
        if reason is not None:
            n.early_data = "rejected"
            self._trace("early_data", {"accepted": False}, why=f"0-RTT declined: {reason}")
            return None
        assert st is not None and n.schedule is not None
        n.early_data = "accepted"
        n.max_early_data = st.max_early_data
        self._trace(
            "early_data",
            {"accepted": True, "max_early_data_size": st.max_early_data},
            why="0-RTT accepted: fresh ticket age, a ClientHello not seen before (§8.2, §8.3)",
        )
        return self._early_keys(n.schedule, self.transcript_hash())

    def _on_end_of_early_data(self, msg: RawHandshake) -> State13:
        """§4.5: the end of the 0-RTT data; the client's handshake keys from here on."""
        EndOfEarlyData.decode_body(msg.body)
        s = self.neg.schedule
        assert s is not None
        self._trace("end_of_early_data", {"early_data_bytes": self.neg.early_data_bytes})
        self._set_read(s.client_handshake_traffic_secret, "handshake")
        return State13.WAIT_CLIENT_FINISHED

    def _hello_retry(
        self, ch: ClientHello, msg: RawHandshake, suite: Tls13Suite, group: int
    ) -> State13:
        n = self.neg
        n.hello_retry = True
        self._first_hello = ch
        self._retry_group = group
        self._early_data_offered = False
        if any(e.type == ExtensionType.early_data for e in ch.extensions):
            # §4.2.10: the client's 0-RTT records (application_data records before its
            # second hello) are skipped, up to max_early_data_size.
            self.records.skip_budget = max(self.config.max_early_data, 0) + 256 * 16
            n.early_data = "rejected"
            self._trace("early_data", {"accepted": False}, why="0-RTT declined: HelloRetryRequest")
        t = Transcript()
        t.add(message_hash(suite.hash_name, msg.raw))
        n.transcript = t
        exts: list[Extension] = [ext13.key_share_retry(group)]
        if self.config.hrr_cookie:
            assert self.config.ticket_sealer is not None
            self._cookie_sent = self.config.ticket_sealer.seal(
                bytes(t.data) + group.to_bytes(2, "big")
            )
            exts.append(ext13.cookie(self._cookie_sent))
        exts.append(ext13.supported_versions_selected(TLS13))
        self._queue(
            ServerHello(
                TLS12, HELLO_RETRY_REQUEST_RANDOM, ch.session_id, suite.code, 0, tuple(exts)
            ),
            {"hello_retry_request": True, "group": group_name(group), "suite": suite.name},
        )
        self._trace(
            "hello_retry",
            {"group": group_name(group)},
            why="the client sent no key share for the group we prefer: asking for one",
        )
        self._flush()
        if ch.session_id:
            self._send_ccs()
        return State13.WAIT_CH

    def _choose_psk(
        self,
        ch: ClientHello,
        by_type: dict[int, Extension],
        suite: Tls13Suite,
        sni: str | None,
        raw: bytes,
    ) -> tuple[int, bytes] | None:
        """The index and PSK of the first offered ticket we can resume, its binder checked."""
        psk_ext = by_type.get(ExtensionType.pre_shared_key)
        ed = ExtensionType.early_data in by_type
        if psk_ext is None:
            return None
        if ExtensionType.psk_key_exchange_modes not in by_type:
            raise TlsAlert(
                AlertDescription.missing_extension, "pre_shared_key without psk_key_exchange_modes"
            )
        modes = ext13.parse_psk_modes(by_type[ExtensionType.psk_key_exchange_modes].data)
        offer = ext13.parse_pre_shared_key_offer(psk_ext.data)
        if ext13.PSK_DHE_KE not in modes:
            return None
        sealer = self.config.ticket_sealer
        assert sealer is not None
        now = self.config.now() if self.config.now is not None else None
        for i, ident in enumerate(offer.identities):
            plain = sealer.open(ident.identity)
            st = _TicketState.decode(plain) if plain is not None else None
            if st is None:
                continue
            tsuite = TLS13_BY_CODE.get(st.suite)
            if tsuite is None or tsuite.hash_name != suite.hash_name:
                continue
            if st.server_name != (sni or ""):
                continue
            if now is not None and st.issued_ms and _ms(now) - st.issued_ms > st.lifetime * 1000:
                continue
            schedule = KeySchedule(suite.hash_name, st.psk)
            truncated = raw[: len(raw) - len(offer.binders_bytes())]
            t = Transcript()
            t.add(bytes(self.neg.transcript.data[: len(self.neg.transcript.data) - len(raw)]))
            t.add(truncated)
            expected = schedule.binder(t.digest(suite.hash_name))
            if not hmac.compare_digest(expected, offer.binders[i]):
                raise TlsAlert(AlertDescription.decrypt_error, "PSK binder does not verify")
            self._resumed = (st, ident, offer.binders[i])
            self.neg.schedule = schedule
            self.neg.resumed = True
            self._early_data_offered = ed
            if st.alpn:
                self.neg.alpn = st.alpn
            self._trace(
                "psk",
                {"selected_identity": i, "binder_ok": True},
                why="resuming from our ticket: PSK from the earlier connection + fresh ECDHE",
            )
            return i, st.psk
        self.neg.schedule = KeySchedule(suite.hash_name)
        self._early_data_offered = ed
        return None

    def _choose_credentials(self, sni: str | None, schemes: list[int]) -> tuple[Credentials13, int]:
        if self.neg.schedule is None:
            assert self.neg.suite is not None
            self.neg.schedule = KeySchedule(self.neg.suite.hash_name)
        creds = list(self.config.credentials)
        if sni is not None:
            named = [c for c in creds if _matches(_names(c.chain[0]), sni)]
            creds = named + [c for c in creds if c not in named]
        for cred in creds:
            usable = schemes_13(cred.key)
            for s in schemes:
                if s in usable:
                    return cred, s
        raise TlsAlert(
            AlertDescription.handshake_failure,
            "no certificate we have can sign with a scheme the client accepts",
        )

    # -- the client's Finished, then tickets ---------------------------------------------
    def _on_finished(self, msg: RawHandshake) -> State13:
        n = self.neg
        s = n.schedule
        assert s is not None
        self._check_finished(msg, s.client_handshake_traffic_secret)
        self._set_read(s.client_application_traffic_secret, "application")
        s.resumption(self.transcript_hash())
        self._complete()
        for _ in range(self.config.tickets):
            self.send_ticket()
        return State13.CONNECTED

    def send_ticket(self) -> None:
        """One NewSessionTicket (§4.6.1); the client may resume with it."""
        n = self.neg
        s = n.schedule
        assert s is not None and n.suite is not None
        cfg = self.config
        nonce = self._tickets_sent.to_bytes(2, "big")
        self._tickets_sent += 1
        age_add = int.from_bytes(self.random.child("ticket").random_bytes(4), "big")
        psk = resumption_psk(n.suite.hash_name, s.resumption_master_secret, nonce)
        issued = _ms(cfg.now()) if cfg.now is not None else 0
        state = _TicketState(
            n.suite.code,
            psk,
            age_add,
            issued,
            cfg.ticket_lifetime,
            n.server_name or "",
            n.alpn or "",
            cfg.max_early_data,
        )
        assert cfg.ticket_sealer is not None
        ticket = cfg.ticket_sealer.seal(state.encode())
        exts = (ext13.early_data_max(cfg.max_early_data),) if cfg.max_early_data else ()
        self._queue(
            NewSessionTicket13(cfg.ticket_lifetime, age_add, nonce, ticket, exts),
            {"lifetime": cfg.ticket_lifetime, "ticket_length": len(ticket)},
        )
        self._flush()

    TRANSITIONS: ClassVar[dict[State13, dict[int, Handler13]]] = {
        State13.WAIT_CH: {HandshakeType.client_hello: _on_client_hello},
        State13.WAIT_EOED: {HandshakeType.end_of_early_data: _on_end_of_early_data},
        State13.WAIT_CLIENT_FINISHED: {HandshakeType.finished: _on_finished},
        State13.CONNECTED: {HandshakeType.key_update: Tls13Connection._on_key_update},
        State13.CLOSING: {HandshakeType.key_update: Tls13Connection._on_key_update},
    }


def ext13_limit() -> int:
    """Our record_size_limit (RFC 8449 §4): a full TLS 1.3 record's inner plaintext."""
    return (1 << 14) + 1


def schemes_13(key: signing.PrivateKey) -> list[int]:
    """The SignatureSchemes a key may use in a TLS 1.3 CertificateVerify (§4.4.3)."""
    usable = signing.schemes_for_key(key)
    if isinstance(key, rsa.RSAPrivateKey):
        return [s for s in usable if s >> 8 == 0x08]
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return usable[:1]
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return usable
    return []


__all__: list[Any] = [
    "CCS13",
    "AeadSealer",
    "Credentials13",
    "ServerConfig13",
    "TicketSealer",
    "TlsServer13",
    "schemes_13",
]
