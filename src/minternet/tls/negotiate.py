"""TLS 1.2 and 1.3 side by side: which version a connection speaks (RFC 8446 §4.2.1,
§4.1.3, Appendix D).

- :class:`NegotiatingClient` sends one ClientHello that offers both: the 1.3 key share,
  supported_versions ``[0x0304, 0x0303]`` and the 1.3 suites first, then the 1.2 suites and
  extensions. If the ServerHello selects 1.3 the 1.3 machine carries on; if it is a 1.2
  ServerHello the 1.2 machine takes over from that hello (after the 1.3 machine checked the
  downgrade sentinel: a 1.3-capable server's 1.2 random ends in ``DOWNGRD\\x01``).
- :class:`NegotiatingServer` reads the first ClientHello, then hands everything to the
  1.3 machine if the client offers 1.3, else to the 1.2 machine — which, since we could
  have spoken 1.3, ends its random with the sentinel.

Both expose the same surface as a single machine (``receive_data``, ``data_to_send``,
``send_application_data``, ``close``, ``established``, ``info``, ``closed``, ``neg``), so
:class:`~minternet.apps.tls_stream.TlsStream` runs on either. ``versions`` is a tuple of
``"1.2"``/``"1.3"``; with one version the plain machine is used.
"""

from __future__ import annotations

import weakref
from dataclasses import replace
from typing import Any, Protocol

from ..errors import ConfigError
from . import extensions as ext
from .antireplay import ClientHelloRecorder
from .client import ClientConfig, TlsClient
from .client13 import DEFAULT_GROUPS13, ClientConfig13, TlsClient13
from .connection import Closed, State, TraceHook
from .connection13 import TLS13, Ticket13, Tls13Info
from .extensions import ExtensionType
from .extensions13 import parse_supported_versions_offer
from .messages import ClientHello
from .messages13 import DOWNGRADE_TLS12
from .server import ServerConfig, TlsServer
from .server13 import KEY_SHARE_GROUPS, ServerConfig13, TlsServer13
from .suites13 import TLS13_SUITES, Tls13Suite

VERSIONS = ("1.3", "1.2")


class TlsMachine(Protocol):
    """What a TLS connection machine offers its driver (1.2, 1.3 or negotiating)."""

    @property
    def established(self) -> bool: ...

    @property
    def closed(self) -> Closed | None: ...

    @property
    def info(self) -> Any: ...

    def receive_data(self, data: bytes) -> list[Any]: ...

    def receive_eof(self) -> list[Any]: ...

    def data_to_send(self) -> bytes: ...

    def send_application_data(self, data: bytes) -> None: ...

    def close(self) -> None: ...


def parse_versions(text: str | None) -> tuple[str, ...]:
    """``"1.2"``, ``"1.3"`` or ``None``/``"both"`` (1.3 preferred) → a versions tuple."""
    if text is None or text == "both":
        return VERSIONS
    if text in VERSIONS:
        return (text,)
    raise ConfigError(f"--tls {text!r}: give 1.2, 1.3 or both")


def client_config_13(
    cfg: ClientConfig, suites13: tuple[Tls13Suite, ...] = TLS13_SUITES
) -> ClientConfig13:
    """The 1.3 side of a 1.2 client configuration."""
    # The 1.2 list first (x25519 shared), then what else we can share, as browsers offer.
    groups = tuple(g for g in cfg.groups if g in KEY_SHARE_GROUPS)
    groups += tuple(g for g in DEFAULT_GROUPS13 if g not in groups)
    return ClientConfig13(
        random=cfg.random,
        server_name=cfg.server_name,
        trust=cfg.trust,
        now=cfg.now,
        suites=suites13,
        groups=groups,
        # ed25519 too (RFC 8446 §4.2.3), if the 1.2 list did not name it
        signature_schemes=(
            *cfg.signature_schemes,
            *(s for s in (0x0807,) if s not in cfg.signature_schemes),
        ),
        alpn=cfg.alpn,
        keylog=cfg.keylog,
    )


_SERVER13: dict[int, ServerConfig13] = {}


def server_config_13(cfg: ServerConfig) -> ServerConfig13:
    """The 1.3 side of a 1.2 server configuration — one per configuration, so that its
    ticket key (and so resumption) lasts as long as the configuration."""
    found = _SERVER13.get(id(cfg))
    if found is None:
        found = _SERVER13[id(cfg)] = _make_server_config_13(cfg)
        weakref.finalize(cfg, _SERVER13.pop, id(cfg), None)
    return found


def zero_rtt_config_13(cfg: ServerConfig, max_early_data: int) -> ServerConfig13:
    """The 1.3 side of ``cfg`` (same ticket key) accepting 0-RTT: tickets allow
    ``max_early_data`` bytes, a fresh :class:`ClientHelloRecorder` guards against replay
    (RFC 8446 §8.2, §8.3); ``cfg.now`` (required) dates tickets and checks their age."""
    if cfg.now is None:
        raise ConfigError("0-RTT needs the server's clock (ServerConfig.now)")
    return replace(
        server_config_13(cfg), max_early_data=max_early_data, anti_replay=ClientHelloRecorder()
    )


def _make_server_config_13(cfg: ServerConfig) -> ServerConfig13:
    suites13 = TLS13_SUITES
    groups = tuple(g for g in cfg.groups if g in KEY_SHARE_GROUPS) or KEY_SHARE_GROUPS
    return ServerConfig13(
        credentials=list(cfg.credentials),
        random=cfg.random.child("tls13"),
        suites=suites13,
        groups=groups,
        alpn=cfg.alpn,
        keylog=cfg.keylog,
        now=cfg.now,
    )


class NegotiatingClient:
    """A client that offers TLS 1.3 and 1.2 in one ClientHello and continues with the
    version the server picks."""

    def __init__(
        self,
        config: ClientConfig,
        trace: TraceHook | None = None,
        config13: ClientConfig13 | None = None,
    ) -> None:
        self.config = config
        self._trace = trace
        c13 = config13 or client_config_13(config)
        extra: list[ext.Extension] = [ext.ec_point_formats()]
        if config.encrypt_then_mac and any(not s.aead for s in config.suites):
            extra.append(ext.Extension(ExtensionType.encrypt_then_mac))
        if config.extended_master_secret:
            extra.append(ext.Extension(ExtensionType.extended_master_secret))
        extra.append(ext.renegotiation_info())
        c13.offer_tls12 = True
        c13.extra_cipher_suites = tuple(s.code for s in config.suites)
        c13.extra_extensions = (*extra, *c13.extra_extensions)
        self.machine: TlsClient13 | TlsClient = TlsClient13(c13, trace)

    def start(self) -> None:
        assert isinstance(self.machine, TlsClient13)
        self.machine.start()

    @property
    def version(self) -> str | None:
        info = self.machine.info
        return None if info is None else str(info.version)

    def receive_data(self, data: bytes) -> list[Any]:
        m = self.machine
        events: list[Any] = list(m.receive_data(data))
        if isinstance(m, TlsClient13) and m.fallback_server_hello is not None:
            events += self._fall_back(m)
        return events

    def _fall_back(self, m13: TlsClient13) -> list[Any]:
        """The server chose TLS 1.2: the 1.2 machine takes over from its ServerHello."""
        sh = m13.fallback_server_hello
        assert sh is not None and m13._hello is not None
        hs_rest, rec_rest = m13.take_unread()
        m12 = TlsClient(self.config, self._trace)
        n = m12.neg
        n.client_random = m13.neg.client_random
        n.server_name = self.config.server_name
        m12._hello = ClientHello.decode_body(m13._hello_raw[4:])
        n.transcript.add(m13._hello_raw)
        m12.state = State.WAIT_SERVER_HELLO
        self.machine = m12
        m12.hs.feed(sh.raw + hs_rest)
        try:
            while m12.state is not State.CLOSED and (msg := m12.hs.next_message()) is not None:
                m12._on_handshake(msg)
        except Exception as e:
            m12._fail(e)
        events: list[Any] = list(m12._take_events())
        if rec_rest and m12.state is not State.CLOSED:
            events += m12.receive_data(rec_rest)
        return events

    def receive_eof(self) -> list[Any]:
        return list(self.machine.receive_eof())

    def data_to_send(self) -> bytes:
        return self.machine.data_to_send()

    def send_application_data(self, data: bytes) -> None:
        self.machine.send_application_data(data)

    def close(self) -> None:
        self.machine.close()

    @property
    def established(self) -> bool:
        return self.machine.established

    @property
    def closed(self) -> Any:
        return self.machine.closed

    @property
    def info(self) -> Any:
        return self.machine.info

    @property
    def neg(self) -> Any:
        return self.machine.neg


class NegotiatingServer:
    """A server that answers TLS 1.3 to a client offering it and TLS 1.2 (with the
    downgrade sentinel in its random) to any other."""

    def __init__(
        self,
        config: ServerConfig,
        trace: TraceHook | None = None,
        config13: ServerConfig13 | None = None,
        versions: tuple[str, ...] = VERSIONS,
    ) -> None:
        self.config = config
        self.config13 = config13 or server_config_13(config)
        self.versions = versions
        self._trace = trace
        self._buf = bytearray()
        self.machine: TlsServer13 | TlsServer | None = None

    def _offers_13(self) -> bool | None:
        """Whether the buffered first ClientHello offers TLS 1.3 (None: not complete yet)."""
        hs = bytearray()
        pos = 0
        buf = self._buf
        while len(buf) - pos >= 5:
            ct, length = buf[pos], int.from_bytes(buf[pos + 3 : pos + 5], "big")
            if ct != 22:
                return False  # not a handshake: let the 1.2 machine answer it
            if len(buf) - pos - 5 < length:
                break
            hs += buf[pos + 5 : pos + 5 + length]
            pos += 5 + length
            if len(hs) >= 4:
                n = int.from_bytes(hs[1:4], "big")
                if hs[0] != 1 or n > self.config.max_handshake_message:
                    return False
                if len(hs) >= 4 + n:
                    try:
                        ch = ClientHello.decode_body(bytes(hs[4 : 4 + n]))
                        sv = ext.find(ch.extensions, ExtensionType.supported_versions)
                        return sv is not None and TLS13 in parse_supported_versions_offer(sv.data)
                    except Exception:
                        return False  # the chosen machine will answer with the right alert
        return None

    def receive_data(self, data: bytes) -> list[Any]:
        if self.machine is not None:
            return list(self.machine.receive_data(data))
        self._buf += data
        offers = self._offers_13()
        if offers is None:
            return []
        if offers and "1.3" in self.versions:
            self.machine = TlsServer13(self.config13, self._trace)
            self.machine.hs.limit = self.config.max_handshake_message  # one cap, either version
        else:
            m12 = TlsServer(self.config, self._trace)
            if "1.3" in self.versions:
                m12.downgrade_sentinel = DOWNGRADE_TLS12
            self.machine = m12
        data, self._buf = bytes(self._buf), bytearray()
        return list(self.machine.receive_data(data))

    def receive_eof(self) -> list[Any]:
        if self.machine is None:
            self.machine = TlsServer(self.config, self._trace)
        return list(self.machine.receive_eof())

    def data_to_send(self) -> bytes:
        return b"" if self.machine is None else self.machine.data_to_send()

    def send_application_data(self, data: bytes) -> None:
        if self.machine is None:
            raise ConfigError("no connection yet")
        self.machine.send_application_data(data)

    def close(self) -> None:
        if self.machine is not None:
            self.machine.close()

    @property
    def established(self) -> bool:
        return self.machine is not None and self.machine.established

    @property
    def closed(self) -> Any:
        return None if self.machine is None else self.machine.closed

    @property
    def info(self) -> Any:
        return None if self.machine is None else self.machine.info

    @property
    def neg(self) -> Any:
        return None if self.machine is None else self.machine.neg


def client_machine(
    config: ClientConfig,
    versions: tuple[str, ...],
    trace: TraceHook | None = None,
    session13: Ticket13 | None = None,
    early_data: bytes = b"",
) -> TlsClient | TlsClient13 | NegotiatingClient:
    """The client machine for ``versions`` (started: its ClientHello is ready to send);
    with 1.3, ``session13`` to resume and ``early_data`` to send first (0-RTT if the
    ticket allows it, see :class:`~minternet.tls.client13.ClientConfig13`)."""
    m: TlsClient | TlsClient13 | NegotiatingClient
    c13 = client_config_13(config)
    if session13 is not None or early_data:
        c13 = replace(c13, session=session13, early_data=early_data)
    if versions == ("1.2",):
        m = TlsClient(config, trace)
    elif versions == ("1.3",):
        m = TlsClient13(c13, trace)
    else:
        m = NegotiatingClient(config, trace, c13)
    m.start()
    return m


def server_machine(
    config: ServerConfig,
    versions: tuple[str, ...],
    trace: TraceHook | None = None,
    config13: ServerConfig13 | None = None,
) -> TlsServer | TlsServer13 | NegotiatingServer:
    """The server machine for ``versions``; ``config13``: the 1.3 side, if not the one
    derived from ``config`` (:func:`server_config_13`)."""
    if versions == ("1.2",):
        return TlsServer(config, trace)
    if versions == ("1.3",):
        return TlsServer13(config13 or server_config_13(config), trace)
    return NegotiatingServer(config, trace, config13, versions=versions)


def version_of(info: Any) -> str:
    return "TLSv1.3" if isinstance(info, Tls13Info) else "TLSv1.2"


__all__ = [
    "VERSIONS",
    "NegotiatingClient",
    "NegotiatingServer",
    "TlsMachine",
    "client_machine",
    "parse_versions",
    "server_machine",
    "version_of",
    "zero_rtt_config_13",
]
