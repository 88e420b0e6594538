"""Our HTTPS server's TLS side on the real clock: what ``serve --https`` and ``tap up`` run.

:func:`https_acceptor` mints a fresh PKI (dated now), issues one server certificate for the
given names and returns the web server's :data:`~minternet.apps.web_server.Accept`: our TLS
1.3 and 1.2 server (the client's hello picks, 1.3 first; RFC 8446 §4.2.1), ALPN http/1.1,
the secrets to an NSS key log when asked. The caller decides where the root certificate
goes (:attr:`Pki.root`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from ..apps.streams import ByteStream
from ..apps.tls_stream import tls_accept
from ..apps.web_server import Accept
from ..loop import EventLoop
from ..node.api import StreamSocket
from ..randomness import RandomSource
from ..tls.negotiate import zero_rtt_config_13
from ..tls.pki import Pki
from ..tls.server import ServerConfig
from ..trace.bus import TraceBus

EARLY_DATA_SIZE = 16384  # max_early_data_size in our tickets when 0-RTT is allowed


def https_acceptor(
    names: Sequence[str],
    *,
    random: RandomSource,
    loop: EventLoop,
    trace: TraceBus | None,
    node: str,
    keylog: Callable[[str], None] | None = None,
    versions: tuple[str, ...] = ("1.3", "1.2"),
    early_data: bool = False,
    pki_name: str = "minternet",
) -> tuple[Accept, Pki]:
    """A fresh PKI and our TLS server side for a certificate naming ``names``.

    0-RTT (RFC 8446 §2.3) is off by default: our tickets do not allow early data, so no
    client sends any. Early data can be replayed (§8): whoever copies a ClientHello and its
    early records can send them again, and a server that acts on them acts twice — harmless
    for a GET of a page, not for a POST that orders something (RFC 8470 §1). With
    ``early_data`` our tickets allow 16 KiB of it and the server accepts it under two guards:
    the §8.2 ClientHello recorder with its §8.3 ticket-age window
    (:mod:`minternet.tls.antireplay`), and RFC 8470 §3's "delay processing": the web server
    reads requests only from an established connection, so a request that came as 0-RTT data
    is answered only once the client's Finished has arrived — which a replayed hello never
    gets to, as the attacker has no keys to finish with. What 0-RTT still saves here is the
    client's wait: its request is on the wire with its hello. (Our site serves GET and HEAD
    only — the safe methods RFC 8470 has in mind; anything else is 405 either way.)"""
    pki = Pki.create(random, datetime.now(UTC), name=pki_name)
    config = ServerConfig(
        credentials=[pki.issue_server(list(names))],
        random=random,
        alpn=("http/1.1",),
        keylog=keylog,
        now=lambda: datetime.now(UTC),
    )
    config13 = zero_rtt_config_13(config, EARLY_DATA_SIZE) if early_data else None

    async def secure(sock: StreamSocket) -> ByteStream:
        # no per-read timeout: the web server's handshake_timeout bounds the whole handshake
        return await tls_accept(
            sock, config, loop=loop, trace=trace, node=node, versions=versions, config13=config13
        )

    return secure, pki
