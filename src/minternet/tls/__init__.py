"""TLS 1.2 (RFC 5246): record layer, handshake, certificates and the keys behind them — the
sans-IO client and server machines, TLS over a stream socket, the key log and the PKI.

Use it like this::

    cfg = ClientConfig(random=stack.random, server_name="www.example.com",
                       trust=TrustStore.from_pem_files("ca.pem"),
                       now=lambda: sim_datetime(stack.loop.now()))
    stream = await tls_connect(sock, cfg, loop=stack.loop, trace=stack.trace, node=stack.name)
    await stream.send(b"GET / HTTP/1.1\\r\\n...")
    data = await stream.recv()          # b"" after close_notify
    await stream.close()                # close_notify, then the socket

or drive :class:`TlsClient` / :class:`TlsServer` directly: ``receive_data(bytes) -> events``,
``receive_eof()``, ``data_to_send() -> bytes``, ``send_application_data``, ``close``.
Events: :class:`HandshakeComplete` (``.info``: :class:`TlsInfo`, secrets included),
:class:`ApplicationData`, :class:`AlertReceived`, :class:`Closed`.

Modules are named in the protocol's words: ``record``, ``cipher``, ``messages``,
``extensions``, ``prf``, ``suites``, ``alerts``, ``client``, ``server``, ``keylog``,
``stream``; the PKI side is ``signing``, ``verify`` and ``pki``.
"""

from __future__ import annotations

from .alerts import AlertDescription, AlertLevel, TlsAlert
from .client import ClientConfig, TlsClient
from .connection import (
    AlertReceived,
    ApplicationData,
    Closed,
    Event,
    HandshakeComplete,
    Session,
    TlsInfo,
)
from .keylog import KeyLogFile, client_random_line
from .server import KeyAndChain, ServerConfig, SessionCache, TlsServer
from .stream import TlsHandshakeError, TlsStream, tls_accept, tls_connect
from .suites import SUITES, CipherSuite, suite_by_name, suites_by_names

__all__ = [
    "SUITES",
    "AlertDescription",
    "AlertLevel",
    "AlertReceived",
    "ApplicationData",
    "CipherSuite",
    "ClientConfig",
    "Closed",
    "Event",
    "HandshakeComplete",
    "KeyAndChain",
    "KeyLogFile",
    "ServerConfig",
    "Session",
    "SessionCache",
    "TlsAlert",
    "TlsClient",
    "TlsHandshakeError",
    "TlsInfo",
    "TlsServer",
    "TlsStream",
    "client_random_line",
    "suite_by_name",
    "suites_by_names",
    "tls_accept",
    "tls_connect",
]
