"""The TLS 1.2 server machine (RFC 5246 §7.3), sans-IO.

It picks the first suite of *its* preference list that the client offers and that one of
its credentials can serve (RSA key for ``*_RSA_*`` suites, EC key for ``*_ECDSA_*``),
preferring credentials whose certificate names the SNI host. It only answers extensions the
client offered, echoes an empty renegotiation_info for the extension or the SCSV (RFC 5746
§3.6), resumes sessions by id from a :class:`SessionCache`, and decrypts an RSA pre-master
secret without a padding oracle (§7.4.7.1). Alone it speaks only TLS 1.2 and puts no
downgrade sentinel in its random; beside the 1.3 server (:mod:`minternet.tls.negotiate`)
it does (RFC 8446 §4.1.3).
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from ..errors import ConfigError
from ..randomness import RandomSource
from . import extensions as ext
from . import signing
from .alerts import AlertDescription, TlsAlert
from .connection import (
    CCS,
    SUPPORTED_GROUPS,
    EphemeralKey,
    Handler,
    Session,
    State,
    TlsConnection,
    TraceHook,
    group_name,
    shared_secret_origin,
)
from .extensions import ExtensionType, NamedGroup
from .messages import (
    HANDSHAKE_LENGTH_LIMIT,
    MAX_HANDSHAKE,
    Certificate,
    ClientEcdhPublic,
    ClientHello,
    EncryptedPreMasterSecret,
    Finished,
    HandshakeType,
    RawHandshake,
    ServerHello,
    ServerHelloDone,
    ServerKeyExchange,
)
from .suites import SUITES, TLS_EMPTY_RENEGOTIATION_INFO_SCSV, TLS_FALLBACK_SCSV, CipherSuite

ServerKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class ServerCredentials(Protocol):
    """A certificate chain (leaf first) and the leaf's private key (pki's ``Credentials``)."""

    @property
    def chain(self) -> Sequence[x509.Certificate]: ...

    @property
    def key(self) -> ServerKey: ...


@dataclass(frozen=True)
class KeyAndChain:
    """A plain :class:`ServerCredentials` (e.g. loaded from PEM files)."""

    chain: tuple[x509.Certificate, ...]
    key: ServerKey


class SessionCache:
    """Sessions by id for resumption (RFC 5246 §7.4.1.2), the oldest evicted first."""

    def __init__(self, capacity: int = 1024) -> None:
        self.capacity = capacity
        self._sessions: OrderedDict[bytes, Session] = OrderedDict()

    def get(self, session_id: bytes) -> Session | None:
        return self._sessions.get(session_id)

    def put(self, session: Session) -> None:
        self._sessions[session.session_id] = session
        while len(self._sessions) > self.capacity:
            self._sessions.popitem(last=False)

    def __len__(self) -> int:
        return len(self._sessions)


@dataclass
class ServerConfig:
    """How our server behaves; ``random`` is required (the simulator's or the OS's)."""

    credentials: Sequence[ServerCredentials]
    random: RandomSource
    suites: tuple[CipherSuite, ...] = SUITES
    groups: tuple[int, ...] = SUPPORTED_GROUPS
    alpn: tuple[str, ...] = ()
    session_cache: SessionCache | None = field(default_factory=SessionCache)
    extended_master_secret: bool = True
    encrypt_then_mac: bool = True
    keylog: Callable[[str], None] | None = None
    # the longest handshake message (so ClientHello) we buffer; at most 2^24 - 1 (§7.4)
    max_handshake_message: int = MAX_HANDSHAKE
    # the server's clock (the simulator's or the OS's): dates the TLS 1.3 tickets its 1.3 side
    # issues and enforces their lifetime (RFC 8446 §4.6.1); None: tickets carry no issue time
    now: Callable[[], datetime] | None = None


def _names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        return [n.lower() for n in san.get_values_for_type(x509.DNSName)]
    except x509.ExtensionNotFound:
        return []


def _matches(names: list[str], host: str) -> bool:
    host = host.lower()
    for n in names:
        if n == host:
            return True
        if n.startswith("*.") and "." in host and host.split(".", 1)[1] == n[2:]:
            return True
    return False


@functools.lru_cache(maxsize=256)
def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.DER)


class TlsServer(TlsConnection):
    """One server connection: feed the client's bytes to ``receive_data``."""

    role: ClassVar[str] = "server"

    def __init__(self, config: ServerConfig, trace: TraceHook | None = None) -> None:
        if not config.credentials:
            raise ConfigError("a TLS server needs at least one certificate and key")
        if not 1 <= config.max_handshake_message <= HANDSHAKE_LENGTH_LIMIT:
            raise ConfigError(
                f"max_handshake_message {config.max_handshake_message} is not in"
                f" 1..{HANDSHAKE_LENGTH_LIMIT} (RFC 5246 §7.4: a 24-bit length)"
            )
        super().__init__(config.random, config.keylog, trace)
        self.config = config
        self.hs.limit = config.max_handshake_message
        self.state = State.WAIT_CLIENT_HELLO
        self._cred: ServerCredentials | None = None
        self._eph: EphemeralKey | None = None
        self._client_version = 0x0303
        # RFC 8446 §4.1.3: a server that also speaks TLS 1.3 but answers 1.2 ends its random
        # with "DOWNGRD\x01" (set by :mod:`minternet.tls.negotiate`), so that a 1.3 client
        # whose offer of 1.3 was stripped on the way notices.
        self.downgrade_sentinel = b""

    def _new_server_random(self) -> bytes:
        r = self.random.random_bytes(32)
        return r[: 32 - len(self.downgrade_sentinel)] + self.downgrade_sentinel

    # -- ClientHello → flight 2 -----------------------------------------------------------
    def _on_client_hello(self, msg: RawHandshake) -> State:
        ch = ClientHello.decode_body(msg.body)
        n = self.neg
        cfg = self.config
        if ch.version < 0x0303:
            if TLS_FALLBACK_SCSV in ch.cipher_suites:
                raise TlsAlert(AlertDescription.inappropriate_fallback, "fallback below TLS 1.2")
            raise TlsAlert(
                AlertDescription.protocol_version, f"client offers at most 0x{ch.version:04x}"
            )
        if 0 not in ch.compression_methods:
            raise TlsAlert(
                AlertDescription.illegal_parameter, "client does not offer null compression"
            )
        self._client_version = ch.version
        by_type = {e.type: e for e in ch.extensions}
        sni_ext = by_type.get(ExtensionType.server_name)
        sni = ext.parse_server_name(sni_ext.data) if sni_ext is not None else None
        n.server_name = sni
        groups: list[int] = (
            ext.parse_u16_list(by_type[ExtensionType.supported_groups].data, "supported_groups")
            if ExtensionType.supported_groups in by_type
            else [int(NamedGroup.secp256r1)]  # RFC 8422 §4: absent means the client takes any
        )
        schemes = (
            ext.parse_u16_list(
                by_type[ExtensionType.signature_algorithms].data, "signature_algorithms"
            )
            if ExtensionType.signature_algorithms in by_type
            else None
        )
        pf = by_type.get(ExtensionType.ec_point_formats)
        if pf is not None and 0 not in ext.parse_ec_point_formats(pf.data):
            raise TlsAlert(
                AlertDescription.illegal_parameter, "client does not accept uncompressed points"
            )
        ri = by_type.get(ExtensionType.renegotiation_info)
        if ri is not None and ext.parse_renegotiation_info(ri.data) != b"":
            raise TlsAlert(
                AlertDescription.handshake_failure,
                "non-empty renegotiation_info on the first handshake",
            )
        secure_reneg = ri is not None or TLS_EMPTY_RENEGOTIATION_INFO_SCSV in ch.cipher_suites
        ems_ext = by_type.get(ExtensionType.extended_master_secret)
        if ems_ext is not None and ems_ext.data:
            raise TlsAlert(AlertDescription.decode_error, "extended_master_secret with data")
        n.ems = ems_ext is not None and cfg.extended_master_secret
        client_alpn = (
            ext.parse_alpn(by_type[ExtensionType.application_layer_protocol_negotiation].data)
            if ExtensionType.application_layer_protocol_negotiation in by_type
            else None
        )
        n.client_random = ch.random
        if self.tracing:
            self._trace(
                "client_hello",
                {
                    "client_version": f"0x{ch.version:04x}",
                    "client_random": ch.random.hex(),
                    "session_id": ch.session_id.hex(),
                    "cipher_suites": [f"0x{c:04x}" for c in ch.cipher_suites],
                    "server_name": sni,
                    "extensions": [e.name for e in ch.extensions],
                },
            )
        # ALPN (RFC 7301 §3.2): our first preference the client also offers.
        if client_alpn is not None and cfg.alpn:
            common = [p for p in cfg.alpn if p in client_alpn]
            if not common:
                raise TlsAlert(
                    AlertDescription.no_application_protocol, f"no common ALPN in {client_alpn}"
                )
            n.alpn = common[0]

        # Resumption by session id.
        cache = cfg.session_cache
        cached = cache.get(ch.session_id) if cache is not None and ch.session_id else None
        if cached is not None and cached.extended_master_secret and not n.ems:
            # RFC 7627 §5.3: resuming an extended-master-secret session without the extension
            raise TlsAlert(
                AlertDescription.handshake_failure, "resumption without extended_master_secret"
            )
        if (
            cached is not None
            and cached.suite.code in ch.cipher_suites
            and cached.suite in cfg.suites
            and cached.extended_master_secret == n.ems
            and cached.server_name == sni
        ):
            return self._resume(ch, cached, by_type, secure_reneg)

        suite, cred, group, scheme = self._choose(ch, sni, groups, schemes)
        n.suite = suite
        n.etm = (
            not suite.aead and cfg.encrypt_then_mac and ExtensionType.encrypt_then_mac in by_type
        )
        self._cred = cred
        n.server_random = self._new_server_random()
        n.session_id = self.random.random_bytes(32) if cache is not None else b""
        # RFC 6066 §3: the ServerHello carries an empty server_name only when the server
        # used the name — here, when the certificate it chose covers it. For any other name
        # we answer with our default certificate and say nothing (the client's check of the
        # certificate's names then decides).
        sni_used = sni is not None and _matches(_names(cred.chain[0]), sni)
        sh_exts = self._hello_extensions(by_type, secure_reneg, suite, sni_used)
        self._send_handshake(
            ServerHello(0x0303, n.server_random, n.session_id, suite.code, 0, sh_exts),
            {
                "server_random": n.server_random.hex(),
                "suite": suite.name,
                "session_id": n.session_id.hex(),
                "extensions": [e.name for e in sh_exts],
            },
        )
        chain = tuple(_der(c) for c in cred.chain)
        self._send_handshake(
            Certificate(chain),
            {"chain": [c.subject.rfc4514_string() for c in cred.chain]} if self.tracing else None,
        )
        if suite.kx == "ECDHE":
            assert group is not None and scheme is not None
            self._eph = EphemeralKey(group, self.random.child("ecdhe"))
            unsigned = ServerKeyExchange(group, self._eph.public, scheme, b"")
            data = n.client_random + n.server_random + unsigned.params()
            sig = signing.sign(cred.key, scheme, data, self.random.child("signature"))
            n.signature_scheme = scheme
            n.kx_name = f"ECDHE {group_name(group)}"
            self._send_handshake(
                ServerKeyExchange(group, self._eph.public, scheme, sig),
                {
                    "group": group_name(group),
                    "server_public": self._eph.public.hex(),
                    "signature_scheme": f"0x{scheme:04x}",
                },
            )
        else:
            n.kx_name = "RSA"
        self._send_handshake(ServerHelloDone())
        return State.WAIT_CLIENT_KEY_EXCHANGE

    def _hello_extensions(
        self,
        offered: dict[int, ext.Extension],
        secure_reneg: bool,
        suite: CipherSuite | None,
        sni_used: bool,
    ) -> tuple[ext.Extension, ...]:
        n = self.neg
        out: list[ext.Extension] = []
        if sni_used and not n.resumed:
            out.append(ext.Extension(ExtensionType.server_name))  # RFC 6066 §3: empty
        if secure_reneg:
            out.append(ext.renegotiation_info())
        if n.ems:
            out.append(ext.Extension(ExtensionType.extended_master_secret))
        if n.etm:
            out.append(ext.Extension(ExtensionType.encrypt_then_mac))
        if suite is not None and suite.kx == "ECDHE" and ExtensionType.ec_point_formats in offered:
            out.append(ext.ec_point_formats())
        if n.alpn is not None:
            out.append(ext.alpn([n.alpn]))
        # Only ever what the client offered (the SCSV counts as offering renegotiation_info).
        assert all(e.type in offered or e.type == ExtensionType.renegotiation_info for e in out)
        return tuple(out)

    def _choose(
        self, ch: ClientHello, sni: str | None, groups: list[int], schemes: list[int] | None
    ) -> tuple[CipherSuite, ServerCredentials, int | None, int | None]:
        creds = list(self.config.credentials)
        if sni is not None:
            named = [c for c in creds if _matches(_names(c.chain[0]), sni)]
            creds = named + [c for c in creds if c not in named]
        group = next((g for g in self.config.groups if g in groups), None)
        for suite in self.config.suites:
            if suite.code not in ch.cipher_suites:
                continue
            if suite.kx == "ECDHE" and group is None:
                continue
            for cred in creds:
                key = cred.key
                if suite.auth == "RSA" and not isinstance(key, rsa.RSAPrivateKey):
                    continue
                if suite.auth == "ECDSA" and not isinstance(key, ec.EllipticCurvePrivateKey):
                    continue
                if suite.kx == "RSA":
                    return suite, cred, None, None
                if schemes is None:
                    # RFC 5246 §7.4.1.4.1: no signature_algorithms means {sha1, rsa} for an
                    # RSA key, {sha1, ecdsa} for an EC key — what a legacy client verifies.
                    legacy = signing.legacy_scheme_for_key(key)
                    usable = [] if legacy is None else [legacy]
                else:
                    # The client lists its pairs "in descending order of preference"; we
                    # take the first we can sign with (as OpenSSL does).
                    ours = signing.schemes_for_key(key)
                    usable = [s for s in schemes if s in ours]
                if usable:
                    return suite, cred, group, usable[0]
        offered = ", ".join(f"0x{c:04x}" for c in ch.cipher_suites[:12])
        raise TlsAlert(
            AlertDescription.handshake_failure,
            f"no cipher suite in common (client offered {offered})",
        )

    def _resume(
        self, ch: ClientHello, s: Session, offered: dict[int, ext.Extension], secure_reneg: bool
    ) -> State:
        n = self.neg
        n.resumed = True
        n.suite = s.suite
        n.session_id = s.session_id
        n.master = s.master_secret
        n.kx_name = "resumed"
        n.alpn = n.alpn or s.alpn
        n.etm = (  # RFC 7366 §3.1: as in a full handshake, for the resumed suite
            not s.suite.aead
            and self.config.encrypt_then_mac
            and ExtensionType.encrypt_then_mac in offered
        )
        n.server_random = self._new_server_random()
        sh_exts = self._hello_extensions(offered, secure_reneg, s.suite, False)
        self._send_handshake(
            ServerHello(0x0303, n.server_random, n.session_id, s.suite.code, 0, sh_exts),
            {
                "server_random": n.server_random.hex(),
                "suite": s.suite.name,
                "session_id": n.session_id.hex(),
                "resumed": True,
            },
        )
        self._derive_keys()
        self._send_change_cipher_spec()
        vd = self._finished_data(b"server finished")
        self._send_handshake(Finished(vd), {"verify_data": vd.hex()})
        return State.WAIT_CHANGE_CIPHER_SPEC

    # -- ClientKeyExchange -------------------------------------------------------------
    def _on_client_key_exchange(self, msg: RawHandshake) -> State:
        n = self.neg
        assert n.suite is not None and self._cred is not None
        if n.suite.kx == "ECDHE":
            assert self._eph is not None
            cke = ClientEcdhPublic.decode_body(msg.body)
            pms = self._eph.exchange(cke.public)
            origin = shared_secret_origin(self._eph.group)
        else:
            enc = EncryptedPreMasterSecret.decode_body(msg.body)
            pms, good = self._decrypt_pre_master(enc.encrypted)
            origin = (
                "RSA-decrypted with our private key: client_version + 46 random bytes"
                if good  # only the local trace tells; the peer sees no difference
                else "random: the RSA block was not a 48-byte pre-master secret (§7.4.7.1)"
            )
        self._set_master_secret(pms, origin)
        return State.WAIT_CHANGE_CIPHER_SPEC

    def _decrypt_pre_master(self, encrypted: bytes) -> tuple[bytes, bool]:
        """RFC 5246 §7.4.7.1 without an oracle: a random secret is ready before decrypting,
        and replaces the decrypted one unless that is exactly 48 bytes with the version the
        client offered. ``cryptography`` may return wrong-length bytes (implicit rejection)
        instead of raising, so the length check is part of the defence."""
        assert self._cred is not None
        fallback = self._client_version.to_bytes(2, "big") + self.random.random_bytes(46)
        key = self._cred.key
        assert isinstance(key, rsa.RSAPrivateKey)  # RSA key exchange is only chosen for one
        try:
            pms = key.decrypt(encrypted, padding.PKCS1v15())
        except ValueError:
            pms = b""
        good = len(pms) == 48 and pms[:2] == self._client_version.to_bytes(2, "big")
        return (pms, True) if good else (fallback, False)

    def _on_finished(self, msg: RawHandshake) -> State:
        self._check_finished(msg, b"client finished")
        n = self.neg
        if not n.resumed:
            self._send_change_cipher_spec()
            vd = self._finished_data(b"server finished")
            self._send_handshake(Finished(vd), {"verify_data": vd.hex()})
        self._complete()
        if self.config.session_cache is not None and n.session_id and self.info is not None:
            self.config.session_cache.put(self.info.session)
        return State.ESTABLISHED

    RENEGOTIATION_TRIGGER = HandshakeType.client_hello

    TRANSITIONS: ClassVar[dict[State, dict[int, Handler]]] = {
        State.WAIT_CLIENT_HELLO: {HandshakeType.client_hello: _on_client_hello},
        State.WAIT_CLIENT_KEY_EXCHANGE: {
            HandshakeType.client_key_exchange: _on_client_key_exchange
        },
        State.WAIT_CHANGE_CIPHER_SPEC: {CCS: TlsConnection._on_change_cipher_spec},
        State.WAIT_FINISHED: {HandshakeType.finished: _on_finished},
    }
