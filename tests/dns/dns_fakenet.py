"""A small in-memory network for testing DNS apps before the real network layer exists.

:class:`FakeNet` carries UDP datagrams between :class:`FakeStack` hosts on a
:class:`~minternet.loop.VirtualLoop` with a fixed one-way latency, optional seeded loss and
hosts that are down. TCP is a pair of in-memory byte streams with the same latency. An
attacker gets two hooks: ``observers`` see every datagram (an on-path attacker) and
:meth:`FakeNet.inject` sends a datagram with any source address (spoofing).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from minternet.errors import LocalProtocolError
from minternet.loop import Future, LoopTimeout, VirtualLoop
from minternet.randomness import SeededRandom
from minternet.trace.bus import TraceBus

Address = tuple[str, int]
Observer = Callable[[Address, Address, bytes], object]


class FakeNet:
    def __init__(self, seed: int = 0, latency: float = 0.005, loss: float = 0.0) -> None:
        self.loop = VirtualLoop()
        self.random = SeededRandom(seed)
        self._loss_rng = self.random.child("loss")
        self.trace = TraceBus()
        self.latency = latency
        self.loss = loss
        self.down: set[str] = set()
        self.udp: dict[Address, FakeDatagramSocket] = {}
        self.listeners: dict[Address, FakeListener] = {}
        self.observers: list[Observer] = []
        self.stacks: dict[str, FakeStack] = {}
        self.by_name: dict[str, FakeStack] = {}
        self.datagrams = 0

    def host(self, name: str, ip: str) -> FakeStack:
        st = FakeStack(self, name, ip)
        self.stacks[ip] = st
        self.by_name[name] = st
        return st

    def node(self, name: str) -> FakeStack:
        """Like ``World.node``: a host by name."""
        return self.by_name[name]

    def _lost(self, src: str, dst: str) -> bool:
        if src in self.down or dst in self.down:
            return True
        return self.loss > 0 and self._loss_rng.random() < self.loss

    def send_datagram(self, src: Address, dst: Address, data: bytes) -> None:
        self.datagrams += 1
        for obs in self.observers:
            obs(src, dst, data)
        if self._lost(src[0], dst[0]):
            return
        self.loop.call_later(self.latency, self._deliver, src, dst, data)

    def inject(self, src: Address, dst: Address, data: bytes, delay: float = 0.0) -> None:
        """A datagram with a forged source, arriving after ``delay``."""
        self.loop.call_later(delay, self._deliver, src, dst, data)

    def _deliver(self, src: Address, dst: Address, data: bytes) -> None:
        sock = self.udp.get(dst) or self.udp.get(("0.0.0.0", dst[1]))
        if sock is not None and sock.host_ip in (dst[0], "0.0.0.0"):
            sock._receive(data, src)


class FakeStack:
    """A host: implements :class:`minternet.node.api.NetworkStack` on :class:`FakeNet`."""

    def __init__(self, net: FakeNet, name: str, ip: str) -> None:
        self.net = net
        self.name = name
        self.ip = ip
        self.loop = net.loop
        self.random = net.random.child(name)
        self.trace = net.trace
        self._next_port = 49152

    def udp_socket(self, bind: Address = ("0.0.0.0", 0)) -> FakeDatagramSocket:
        port = bind[1]
        if port == 0:
            while (self.ip, self._next_port) in self.net.udp:
                self._next_port += 1
            port = self._next_port
            self._next_port += 1
        key = (self.ip, port)
        if key in self.net.udp:
            raise LocalProtocolError(f"bind: UDP port {port} already in use")  # as the simulator
        sock = FakeDatagramSocket(self, port)
        self.net.udp[key] = sock
        return sock

    def tcp_connect(self, addr: Address, timeout: float | None = None) -> Future[FakeStream]:
        fut: Future[FakeStream] = self.loop.create_future()
        net = self.net
        if addr[0] in net.down or self.ip in net.down:
            self.loop.call_later(timeout or 3.0, fut.set_exception, LoopTimeout("no SYN-ACK"))
            return fut
        listener = net.listeners.get((addr[0], addr[1]))

        def arrive() -> None:
            if listener is None or listener.closed:
                self.loop.call_later(net.latency, fut.set_exception, ConnectionRefusedError())
                return
            self._next_port += 1
            client = FakeStream(self, (self.ip, self._next_port), addr)
            server = FakeStream(listener.stack, addr, client.local)
            client.peer, server.peer = server, client
            listener._arrive(server)
            self.loop.call_later(net.latency, fut.set_result, client)

        self.loop.call_later(net.latency, arrive)
        return fut

    def tcp_listen(self, port: int, backlog: int = 128, host: str = "0.0.0.0") -> FakeListener:
        lst = FakeListener(self, port)
        self.net.listeners[(self.ip, port)] = lst
        return lst


class _Queue:
    """Items and waiters; a waiter that was cancelled (a timeout) is skipped."""

    def __init__(self, loop: VirtualLoop) -> None:
        self.loop = loop
        self.items: deque[Any] = deque()
        self.waiters: deque[Future[Any]] = deque()

    def put(self, item: Any) -> None:
        while self.waiters:
            w = self.waiters.popleft()
            if not w.done():
                w.set_result(item)
                return
        self.items.append(item)

    def get(self, timeout: float | None) -> Future[Any]:
        fut: Future[Any] = self.loop.create_future()
        if self.items:
            fut.set_result(self.items.popleft())
            return fut
        self.waiters.append(fut)
        return self.loop.wait_for(fut, timeout)


class FakeDatagramSocket:
    def __init__(self, stack: FakeStack, port: int) -> None:
        self.stack = stack
        self.host_ip = stack.ip
        self._local = (stack.ip, port)
        self._queue = _Queue(stack.loop)
        self.closed = False

    @property
    def local(self) -> Address:
        return self._local

    def sendto(self, data: bytes, addr: Address) -> None:
        self.stack.net.send_datagram(self._local, addr, data)

    def recvfrom(self, timeout: float | None = None) -> Future[tuple[bytes, Address]]:
        return self._queue.get(timeout)

    def _receive(self, data: bytes, src: Address) -> None:
        if not self.closed:
            self._queue.put((data, src))

    def close(self) -> None:
        self.closed = True
        if self.stack.net.udp.get(self._local) is self:
            del self.stack.net.udp[self._local]


class FakeStream:
    def __init__(self, stack: FakeStack, local: Address, remote: Address) -> None:
        self.stack = stack
        self._local = local
        self._remote = remote
        self.peer: FakeStream | None = None
        self._queue = _Queue(stack.loop)
        self._buf = bytearray()
        self._eof = False
        self.sent_fin = False

    @property
    def local(self) -> Address:
        return self._local

    @property
    def remote(self) -> Address:
        return self._remote

    def send(self, data: bytes) -> Future[None]:
        fut: Future[None] = self.stack.loop.create_future()
        if self.sent_fin:
            fut.set_exception(ConnectionResetError("send after close"))
            return fut
        peer = self.peer
        if peer is not None:
            self.stack.loop.call_later(self.stack.net.latency, peer._queue.put, bytes(data))
        fut.set_result(None)
        return fut

    async def _recv(self, max_bytes: int, timeout: float | None) -> bytes:
        if not self._buf and not self._eof:
            chunk = await self._queue.get(timeout)
            if chunk == b"":
                self._eof = True
            self._buf += chunk
        out = bytes(self._buf[:max_bytes])
        del self._buf[:max_bytes]
        return out

    def recv(self, max_bytes: int = 65536, timeout: float | None = None) -> Future[bytes]:
        return self.stack.loop.create_task(self._recv(max_bytes, timeout))

    def shutdown(self) -> None:
        if not self.sent_fin and self.peer is not None:
            self.sent_fin = True
            self.stack.loop.call_later(self.stack.net.latency, self.peer._queue.put, b"")

    def close(self) -> Future[None]:
        self.shutdown()
        fut: Future[None] = self.stack.loop.create_future()
        fut.set_result(None)
        return fut

    def set_nodelay(self, on: bool) -> None:
        """Nothing to do: an in-memory stream has no Nagle's algorithm."""

    def abort(self) -> None:
        self.shutdown()


class FakeListener:
    def __init__(self, stack: FakeStack, port: int) -> None:
        self.stack = stack
        self._local = (stack.ip, port)
        self._queue = _Queue(stack.loop)
        self.closed = False

    @property
    def local(self) -> Address:
        return self._local

    def _arrive(self, conn: FakeStream) -> None:
        self._queue.put(conn)

    def accept(self) -> Future[FakeStream]:
        return self._queue.get(None)

    def close(self) -> None:
        self.closed = True
