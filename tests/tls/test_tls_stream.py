"""TlsStream over an in-memory stream-socket pair on the virtual loop (a test double of the
node API's StreamSocket with a fixed one-way delay)."""

from __future__ import annotations

from typing import Any

import pytest
from tls_support import HOST, NOW, Certs, make_trust

from minternet.apps.tls_stream import TlsHandshakeError, TlsStream, tls_accept, tls_connect
from minternet.loop import EventLoop, Future, LoopTimeout, VirtualLoop
from minternet.randomness import SeededRandom
from minternet.tls import ClientConfig, ServerConfig
from minternet.tls.server import KeyAndChain
from minternet.trace.bus import EventLog, TraceBus


class MemSocket:
    """One end of a byte pipe with ``delay`` seconds of latency."""

    def __init__(self, loop: EventLoop, delay: float = 0.01) -> None:
        self.loop = loop
        self.delay = delay
        self.peer: MemSocket | None = None
        self._buf = bytearray()
        self._eof = False
        self._waiter: Future[bytes] | None = None
        self._max = 0
        self.local = ("10.0.0.1", 1)
        self.remote = ("10.0.0.2", 2)

    def _deliver(self, data: bytes) -> None:
        if data:
            self._buf += data
        else:
            self._eof = True
        self._wake()

    def _wake(self) -> None:
        w = self._waiter
        if w is not None and not w.done() and (self._buf or self._eof):
            self._waiter = None
            out = bytes(self._buf[: self._max])
            del self._buf[: self._max]
            w.set_result(out)

    def send(self, data: bytes) -> Future[None]:
        assert self.peer is not None
        self.loop.call_later(self.delay, self.peer._deliver, bytes(data))
        f: Future[None] = self.loop.create_future()
        f.set_result(None)
        return f

    def recv(self, max_bytes: int = 65536, timeout: float | None = None) -> Future[bytes]:
        f: Future[bytes] = self.loop.create_future()
        self._waiter, self._max = f, max_bytes
        self._wake()
        return self.loop.wait_for(f, timeout)

    def shutdown(self) -> None:
        assert self.peer is not None
        self.loop.call_later(self.delay, self.peer._deliver, b"")

    def close(self) -> Future[None]:
        self.shutdown()
        f: Future[None] = self.loop.create_future()
        f.set_result(None)
        return f

    def set_nodelay(self, on: bool) -> None:
        """Nothing to do: an in-memory stream has no Nagle's algorithm."""

    def abort(self) -> None:
        self.shutdown()


def _pair(loop: EventLoop) -> tuple[MemSocket, MemSocket]:
    a, b = MemSocket(loop), MemSocket(loop)
    a.peer, b.peer = b, a
    return a, b


def _configs(pki: Certs, **ckw: Any) -> tuple[ClientConfig, ServerConfig]:
    ckw.setdefault("trust", make_trust([pki.root]))
    c = ClientConfig(random=SeededRandom(1), server_name=HOST, now=NOW, **ckw)
    s = ServerConfig([KeyAndChain(pki.rsa.chain, pki.rsa.key)], SeededRandom(2))
    return c, s


def test_stream_request_response_and_close(pki: Certs) -> None:
    loop = VirtualLoop()
    bus = TraceBus()
    log = EventLog()
    bus.subscribe(log)
    a, b = _pair(loop)
    ccfg, scfg = _configs(pki)

    async def server() -> bytes:
        st = await tls_accept(b, scfg, loop=loop, trace=bus, node="server")  # type: ignore[arg-type]
        req = await st.recv()
        await st.send(b"echo:" + req)
        assert await st.recv() == b""  # close_notify
        return req

    async def client() -> tuple[bytes, TlsStream]:
        st = await tls_connect(a, ccfg, loop=loop, trace=bus, node="laptop")  # type: ignore[arg-type]
        await st.send(b"hello")
        got = await st.recv()
        await st.close()
        return got, st

    srv = loop.create_task(server())
    got, st = loop.run_until_complete(loop.create_task(client()), timeout=10)
    loop.run_until_complete(srv, timeout=10)
    assert got == b"echo:hello" and srv.result() == b"hello"
    assert st.info.suite.name == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
    tls_events = log.of("tls")
    assert {e.node for e in tls_events} == {"laptop", "server"}
    assert any(e.kind == "master_secret" for e in tls_events)
    # virtual time: ClientHello→, ←flight, CKE/CCS/Fin→, ←CCS/Fin = 2 RTT = 0.04 s
    est = next(e for e in tls_events if e.kind == "established" and e.node == "laptop")
    assert est.time == pytest.approx(0.04)


def test_stream_handshake_failure_is_one_line(pki: Certs, other_pki: Certs) -> None:
    loop = VirtualLoop()
    a, b = _pair(loop)
    ccfg, scfg = _configs(pki, trust=make_trust([other_pki.root]))

    async def server() -> None:
        await tls_accept(b, scfg, loop=loop)  # type: ignore[arg-type]

    async def client() -> None:
        await tls_connect(a, ccfg, loop=loop)  # type: ignore[arg-type]

    srv = loop.create_task(server())
    with pytest.raises(TlsHandshakeError) as e:
        loop.run_until_complete(loop.create_task(client()), timeout=10)
    assert "sent unknown_ca (48)" in str(e.value)
    assert "\n" not in str(e.value)
    with pytest.raises(TlsHandshakeError) as e2:
        loop.run_until_complete(srv, timeout=10)
    assert "received unknown_ca" in str(e2.value)


def test_stream_recv_timeout(pki: Certs) -> None:
    loop = VirtualLoop()
    a, _b = _pair(loop)
    ccfg, _ = _configs(pki)

    async def client() -> None:
        await tls_connect(a, ccfg, loop=loop, timeout=1.0)  # type: ignore[arg-type]

    with pytest.raises(LoopTimeout):
        loop.run_until_complete(loop.create_task(client()), timeout=10)
