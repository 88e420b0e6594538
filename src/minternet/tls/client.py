"""The TLS 1.2 client machine (RFC 5246 §7.3), sans-IO.

Full handshake::

    ClientHello            →
                           ←  ServerHello, Certificate, [ServerKeyExchange], ServerHelloDone
    ClientKeyExchange, ChangeCipherSpec, Finished  →
                           ←  ChangeCipherSpec, Finished

Resumed by session id (§7.3): the server answers ServerHello with the offered id, then its
ChangeCipherSpec and Finished; we answer ours. The server's chain is checked step by step by
:func:`minternet.tls.verify.verify_server_chain`; a failed check ends the handshake with the
alert it names. The ServerKeyExchange signature is checked over
``client_random + server_random + params`` (RFC 8422 §5.4).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ..errors import ConfigError, LocalProtocolError
from ..randomness import RandomSource
from . import extensions as ext
from . import signing, verify
from .alerts import AlertDescription, TlsAlert
from .connection import (
    CCS,
    EphemeralKey,
    Handler,
    Session,
    State,
    TlsConnection,
    TraceHook,
    check_server_chain,
    group_name,
    leaf_public_key,
    refuse_failed_chain,
    shared_secret_origin,
)
from .extensions import ExtensionType, NamedGroup
from .messages import (
    Certificate,
    CertificateRequest,
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
from .record import INITIAL_CLIENT_HELLO_VERSION
from .suites import BY_CODE, SUITES, CipherSuite

# RFC 8446 §4.2.3 code points, strongest first within each family.
DEFAULT_SIGNATURE_SCHEMES = (0x0403, 0x0503, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601)
DOWNGRADE_TLS12 = b"DOWNGRD\x01"
DOWNGRADE_TLS11 = b"DOWNGRD\x00"


@dataclass
class ClientConfig:
    """How our client behaves; ``random`` is required (the simulator's or the OS's)."""

    random: RandomSource
    server_name: str | None = None
    trust: verify.TrustStore | None = None  # None: the chain is not verified
    now: datetime | Callable[[], datetime] | None = None
    suites: tuple[CipherSuite, ...] = SUITES
    groups: tuple[int, ...] = (NamedGroup.x25519, NamedGroup.secp256r1)
    signature_schemes: tuple[int, ...] = DEFAULT_SIGNATURE_SCHEMES
    alpn: tuple[str, ...] = ()
    session: Session | None = None
    extended_master_secret: bool = True
    encrypt_then_mac: bool = True
    keylog: Callable[[str], None] | None = None
    extra_extensions: tuple[ext.Extension, ...] = field(default_factory=tuple)

    def clock(self) -> datetime:
        if self.now is None:
            raise ConfigError("certificate validation needs a clock (ClientConfig.now)")
        return self.now() if callable(self.now) else self.now


class TlsClient(TlsConnection):
    """One client connection. Call :meth:`start`, then feed bytes to ``receive_data``."""

    role: ClassVar[str] = "client"

    def __init__(self, config: ClientConfig, trace: TraceHook | None = None) -> None:
        if not config.suites:
            raise ConfigError("no cipher suites configured")
        if config.trust is not None and config.now is None:
            raise ConfigError("certificate validation needs a clock (ClientConfig.now)")
        super().__init__(config.random, config.keylog, trace)
        self.config = config
        self._hello: ClientHello | None = None
        self._server_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey | None = None
        self._ske: ServerKeyExchange | None = None
        self._cert_requested = False

    # -- flight 1 ------------------------------------------------------------------------
    def start(self) -> None:
        """Send the ClientHello."""
        if self.state is not State.START:
            raise LocalProtocolError("start() called twice")
        cfg = self.config
        n = self.neg
        n.client_random = self.random.random_bytes(32)
        session_id = cfg.session.session_id if cfg.session else b""
        exts: list[ext.Extension] = []
        if cfg.server_name and not _is_ip(cfg.server_name):
            # RFC 6066 §3: a DNS name in ASCII (A-labels), never a literal IP address
            exts.append(ext.server_name(cfg.server_name))
        if any(s.kx == "ECDHE" for s in cfg.suites):
            exts.append(ext.u16_list(ExtensionType.supported_groups, cfg.groups))
            exts.append(ext.ec_point_formats())
        exts.append(ext.u16_list(ExtensionType.signature_algorithms, cfg.signature_schemes))
        if cfg.alpn:
            exts.append(ext.alpn(cfg.alpn))
        if cfg.encrypt_then_mac and any(not s.aead for s in cfg.suites):
            exts.append(ext.Extension(ExtensionType.encrypt_then_mac))
        if cfg.extended_master_secret:
            exts.append(ext.Extension(ExtensionType.extended_master_secret))
        exts.append(ext.renegotiation_info())
        exts.extend(cfg.extra_extensions)
        hello = ClientHello(
            version=0x0303,
            random=n.client_random,
            session_id=session_id,
            cipher_suites=tuple(s.code for s in cfg.suites),
            extensions=tuple(exts),
        )
        self._hello = hello
        n.server_name = cfg.server_name
        self._send_handshake(
            hello,
            None
            if not self.tracing
            else {
                "client_random": n.client_random.hex(),
                "session_id": session_id.hex(),
                "cipher_suites": [s.name for s in cfg.suites],
                "server_name": cfg.server_name,
                "groups": [group_name(g) for g in cfg.groups],
                "extensions": [e.name for e in hello.extensions],
                "record_version": f"0x{INITIAL_CLIENT_HELLO_VERSION:04x}",
            },
        )
        self._set_state(State.WAIT_SERVER_HELLO)

    # -- handlers ------------------------------------------------------------------------
    def _on_server_hello(self, msg: RawHandshake) -> State:
        sh = ServerHello.decode_body(msg.body)
        n = self.neg
        assert self._hello is not None
        if sh.version != 0x0303:
            if sh.version < 0x0303 and sh.random[-8:] == DOWNGRADE_TLS11:
                raise TlsAlert(
                    AlertDescription.illegal_parameter, "downgrade sentinel in ServerHello"
                )
            raise TlsAlert(
                AlertDescription.protocol_version, f"server chose version 0x{sh.version:04x}"
            )
        if sh.cipher_suite not in self._hello.cipher_suites or sh.cipher_suite not in BY_CODE:
            raise TlsAlert(
                AlertDescription.illegal_parameter,
                f"server chose suite 0x{sh.cipher_suite:04x} we did not offer",
            )
        if sh.compression_method != 0:
            raise TlsAlert(AlertDescription.illegal_parameter, "server chose compression")
        offered = {e.type for e in self._hello.extensions}
        for e in sh.extensions:
            if e.type not in offered:
                raise TlsAlert(
                    AlertDescription.unsupported_extension,
                    f"ServerHello carries unoffered extension {e.name}",
                )
        suite = BY_CODE[sh.cipher_suite]
        n.suite = suite
        n.server_random = sh.random
        n.session_id = sh.session_id
        by_type = {e.type: e for e in sh.extensions}
        ri = by_type.get(ExtensionType.renegotiation_info)
        if ri is not None and ext.parse_renegotiation_info(ri.data) != b"":
            raise TlsAlert(
                AlertDescription.handshake_failure,
                "non-empty renegotiation_info on the first handshake",
            )
        n.ems = ExtensionType.extended_master_secret in by_type
        if (
            ExtensionType.extended_master_secret in by_type
            and by_type[ExtensionType.extended_master_secret].data
        ):
            raise TlsAlert(AlertDescription.decode_error, "extended_master_secret with data")
        n.etm = ExtensionType.encrypt_then_mac in by_type and not suite.aead
        alpn_ext = by_type.get(ExtensionType.application_layer_protocol_negotiation)
        if alpn_ext is not None:
            chosen = ext.parse_alpn(alpn_ext.data)
            if len(chosen) != 1 or chosen[0] not in self.config.alpn:
                raise TlsAlert(AlertDescription.illegal_parameter, f"server chose ALPN {chosen}")
            n.alpn = chosen[0]
        tls13 = sh.random[-8:] == DOWNGRADE_TLS12
        self._trace(
            "server_hello",
            {
                "server_random": sh.random.hex(),
                "session_id": sh.session_id.hex(),
                "suite": suite.name,
                "extensions": [e.name for e in sh.extensions],
                "server_supports_tls13": tls13,
            },
        )
        s = self.config.session
        if s is not None and sh.session_id and sh.session_id == s.session_id:
            if s.suite.code != suite.code:
                raise TlsAlert(
                    AlertDescription.illegal_parameter, "resumed session with another suite"
                )
            if s.extended_master_secret != n.ems:  # RFC 7627 §5.3
                raise TlsAlert(
                    AlertDescription.handshake_failure,
                    "resumed session changes extended_master_secret",
                )
            n.resumed = True
            n.master = s.master_secret
            n.kx_name = "resumed"
            n.alpn = n.alpn or s.alpn
            self._trace(
                "resume", {"session_id": s.session_id.hex()}, why="server accepted our session id"
            )
            self._derive_keys()
            return State.WAIT_CHANGE_CIPHER_SPEC
        return State.WAIT_CERTIFICATE

    def _on_certificate(self, msg: RawHandshake) -> State:
        cert = Certificate.decode_body(msg.body)
        n = self.neg
        assert n.suite is not None
        n.peer_chain = cert.chain
        key = leaf_public_key(cert.chain, self.trace_hook)
        if n.suite.auth == "RSA" and not isinstance(key, rsa.RSAPublicKey):
            raise TlsAlert(
                AlertDescription.unsupported_certificate, "suite needs an RSA certificate"
            )
        if n.suite.auth == "ECDSA" and not isinstance(key, ec.EllipticCurvePublicKey):
            raise TlsAlert(
                AlertDescription.unsupported_certificate, "suite needs an ECDSA certificate"
            )
        assert isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey)
        self._server_key = key
        n.verification = check_server_chain(
            cert.chain,
            self.config.server_name,
            self.config.trust,
            self.config.clock,
            # RFC 5246 §7.4.2: the leaf's key signs (ECDHE) or decrypts (RSA)
            "digital_signature" if n.suite.kx == "ECDHE" else "key_encipherment",
            self.trace_hook,
        )
        refuse_failed_chain(n.verification)
        return (
            State.WAIT_SERVER_KEY_EXCHANGE
            if n.suite.kx == "ECDHE"
            else State.WAIT_SERVER_HELLO_DONE
        )

    def _on_server_key_exchange(self, msg: RawHandshake) -> State:
        ske = ServerKeyExchange.decode_body(msg.body)
        n = self.neg
        if ske.named_curve not in self.config.groups:
            raise TlsAlert(
                AlertDescription.illegal_parameter,
                f"server chose group {ske.named_curve} we did not offer",
            )
        if ske.signature_scheme not in self.config.signature_schemes:
            raise TlsAlert(
                AlertDescription.illegal_parameter,
                f"signature scheme 0x{ske.signature_scheme:04x} not offered",
            )
        key = self._server_key
        assert key is not None
        if ske.signature_scheme not in signing.schemes_for_key(key):
            raise TlsAlert(
                AlertDescription.illegal_parameter,
                "signature scheme does not fit the certificate key",
            )
        signed = n.client_random + n.server_random + ske.params()
        if not signing.verify(key, ske.signature_scheme, signed, ske.signature):
            raise TlsAlert(
                AlertDescription.decrypt_error, "ServerKeyExchange signature does not verify"
            )
        n.signature_scheme = ske.signature_scheme
        self._ske = ske
        self._trace(
            "server_key_exchange",
            {
                "group": group_name(ske.named_curve),
                "server_public": ske.public.hex(),
                "signature_scheme": f"0x{ske.signature_scheme:04x}",
                "signature_ok": True,
            },
        )
        return State.WAIT_SERVER_HELLO_DONE

    def _on_certificate_request(self, msg: RawHandshake) -> State:
        CertificateRequest.decode_body(msg.body)
        self._cert_requested = True
        self._trace(
            "certificate_request", {}, why="we have no client certificate: sending an empty one"
        )
        return State.WAIT_SERVER_HELLO_DONE

    def _on_server_hello_done(self, msg: RawHandshake) -> State:
        ServerHelloDone.decode_body(msg.body)
        n = self.neg
        assert n.suite is not None
        if self._cert_requested:
            self._send_handshake(Certificate(()))
        if n.suite.kx == "ECDHE":
            assert self._ske is not None
            eph = EphemeralKey(self._ske.named_curve, self.random.child("ecdhe"))
            pms = eph.exchange(self._ske.public)
            n.kx_name = f"ECDHE {group_name(eph.group)}"
            origin = shared_secret_origin(eph.group)
            self._send_handshake(ClientEcdhPublic(eph.public), {"client_public": eph.public.hex()})
        else:
            pms = (0x0303).to_bytes(2, "big") + self.random.random_bytes(46)
            key = self._server_key
            assert isinstance(key, rsa.RSAPublicKey)  # the suite's auth was checked
            enc = signing.rsa_pkcs1v15_encrypt(key, pms, self.random.child("rsa-pad"))
            n.kx_name = "RSA"
            origin = "48 bytes: client_version 0x0303 + 46 random, RSA-encrypted to the server"
            self._send_handshake(EncryptedPreMasterSecret(enc), {"encrypted_length": len(enc)})
        self._set_master_secret(pms, origin)
        self._send_change_cipher_spec()
        self._send_finished()
        return State.WAIT_CHANGE_CIPHER_SPEC

    def _send_finished(self) -> None:
        vd = self._finished_data(b"client finished")
        self._send_handshake(Finished(vd), {"verify_data": vd.hex()})

    def _on_finished(self, msg: RawHandshake) -> State:
        self._check_finished(msg, b"server finished")
        if self.neg.resumed:
            self._send_change_cipher_spec()
            self._send_finished()
        self._complete()
        return State.ESTABLISHED

    RENEGOTIATION_TRIGGER = HandshakeType.hello_request

    TRANSITIONS: ClassVar[dict[State, dict[int, Handler]]] = {
        State.WAIT_SERVER_HELLO: {HandshakeType.server_hello: _on_server_hello},
        State.WAIT_CERTIFICATE: {HandshakeType.certificate: _on_certificate},
        State.WAIT_SERVER_KEY_EXCHANGE: {
            HandshakeType.server_key_exchange: _on_server_key_exchange
        },
        State.WAIT_SERVER_HELLO_DONE: {
            HandshakeType.certificate_request: _on_certificate_request,
            HandshakeType.server_hello_done: _on_server_hello_done,
        },
        State.WAIT_CHANGE_CIPHER_SPEC: {CCS: TlsConnection._on_change_cipher_spec},
        State.WAIT_FINISHED: {HandshakeType.finished: _on_finished},
    }


def _is_ip(name: str) -> bool:
    parts = name.split(".")
    return (len(parts) == 4 and all(p.isdigit() and int(p) < 256 for p in parts)) or ":" in name
