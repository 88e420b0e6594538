"""KernelStack against independent peers on 127.0.0.1: Python's blocking sockets in threads,
curl, and the kernel's own behaviour (RST on refusal, full backlogs, half-close)."""

from __future__ import annotations

import signal
import socket
import struct
import subprocess
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

from clitools import free_port
from minternet import ConfigError, EventLog, LocalProtocolError, LoopTimeout, SeededRandom
from minternet.drivers.kernel import KernelStack, run
from minternet.drivers.realtime import RealtimeLoop
from minternet.loop import Cancelled
from minternet.node.api import StreamSocket
from minternet.trace.bus import TraceBus
from required_tools import require_tools

T = TypeVar("T")
LO = "127.0.0.1"


@pytest.fixture
def stack(kernel_stack: KernelStack) -> KernelStack:
    return kernel_stack


def drive(stack: KernelStack, coro: Coroutine[Any, Any, T], timeout: float = 20.0) -> T:
    loop = stack.loop
    assert isinstance(loop, RealtimeLoop)
    return loop.run_until_complete(loop.create_task(coro), timeout)


class Thread(threading.Thread):
    """A thread that keeps its target's result or exception for the test to check."""

    def __init__(self, target: Callable[[], object]) -> None:
        super().__init__(daemon=True)
        self._fn = target
        self.result: object = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self._fn()
        except BaseException as e:
            self.error = e

    def outcome(self, timeout: float = 20.0) -> object:
        self.join(timeout)
        assert not self.is_alive(), "peer thread hung"
        if self.error is not None:
            raise self.error
        return self.result


def recv_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


async def read_to_eof(conn: StreamSocket) -> bytes:
    out = bytearray()
    while data := await conn.recv(65536, timeout=10):
        out += data
    return bytes(out)


# -- construction ----------------------------------------------------------------------------


def test_a_deterministic_random_source_is_refused() -> None:
    loop = RealtimeLoop()
    with pytest.raises(ConfigError):
        KernelStack(loop, random=SeededRandom(1))
    s = KernelStack(loop)
    assert not s.random.deterministic
    assert s.random.random_bytes(16) != s.random.random_bytes(16)
    loop.close()


# -- UDP -------------------------------------------------------------------------------------


def test_udp_echo_against_a_python_socket_server(stack: KernelStack) -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind((LO, 0))
    server.settimeout(10)
    addr = server.getsockname()

    def echo() -> None:
        for _ in range(3):
            data, peer = server.recvfrom(65535)
            server.sendto(data.upper(), peer)

    t = Thread(echo)
    t.start()

    async def client() -> list[tuple[bytes, tuple[str, int]]]:
        sock = stack.udp_socket((LO, 0))
        got = []
        for msg in (b"one", b"two", b"x" * 60000):
            sock.sendto(msg, addr)
            got.append(await sock.recvfrom(timeout=5))
        sock.close()
        return got

    got = drive(stack, client())
    t.outcome()
    server.close()
    assert [d for d, _ in got] == [b"ONE", b"TWO", b"X" * 60000]
    assert all(a == addr for _, a in got)


def test_udp_recvfrom_times_out_then_still_receives(stack: KernelStack) -> None:
    async def main() -> bytes:
        sock = stack.udp_socket((LO, 0))
        t0 = stack.loop.now()
        with pytest.raises(LoopTimeout):
            await sock.recvfrom(timeout=0.2)
        assert 0.15 <= stack.loop.now() - t0 < 2.0
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        peer.sendto(b"late", sock.local)
        peer.close()
        data, _ = await sock.recvfrom(timeout=5)
        sock.close()
        return data

    assert drive(stack, main()) == b"late"


def test_udp_server_answers_python_clients(stack: KernelStack) -> None:
    sock = stack.udp_socket((LO, 0))
    n = 20

    def clients() -> list[bytes]:
        out = []
        for i in range(n):
            c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            c.settimeout(10)
            c.sendto(b"ping %d" % i, sock.local)
            out.append(c.recvfrom(100)[0])
            c.close()
        return out

    async def server() -> None:
        for _ in range(n):
            data, peer = await sock.recvfrom(timeout=10)
            sock.sendto(data.replace(b"ping", b"pong"), peer)

    t = Thread(clients)
    t.start()
    drive(stack, server())
    assert t.outcome() == [b"pong %d" % i for i in range(n)]
    sock.close()


# -- TCP client ------------------------------------------------------------------------------


def test_tcp_connect_send_recv_close_against_python_server(stack: KernelStack) -> None:
    log = EventLog()
    stack.trace.subscribe(log)
    srv = socket.create_server((LO, 0))
    srv.settimeout(10)

    def serve() -> bytes:
        conn, _ = srv.accept()
        with conn:
            request = b""
            while not request.endswith(b"\n"):
                request += conn.recv(100)
            conn.sendall(b"hello " + request)
            return recv_all(conn)  # until our FIN

    t = Thread(serve)
    t.start()

    async def client() -> bytes:
        conn = await stack.tcp_connect(srv.getsockname(), timeout=5)
        assert conn.remote == srv.getsockname()
        await conn.send(b"world\n")
        reply = await conn.recv(100, timeout=5)
        await conn.send(b"bye")
        await conn.close()
        return reply

    assert drive(stack, client()) == b"hello world\n"
    assert t.outcome() == b"bye"
    srv.close()
    kinds = [e.kind for e in log.of(layer="tcp")]
    assert kinds == ["connect", "close"]
    assert stack.open_sockets() == 0


def test_tcp_connect_refused(stack: KernelStack) -> None:
    port = free_port()

    async def main() -> None:
        await stack.tcp_connect((LO, port), timeout=5)

    with pytest.raises(ConnectionRefusedError):
        drive(stack, main())
    assert stack.trace.counters["kernel.tcp.connect-failed"] == 1


def test_tcp_connect_times_out_when_syns_are_dropped(stack: KernelStack) -> None:
    # A listener with a full accept queue makes Linux drop further SYNs: no answer at all.
    srv = socket.socket()
    srv.bind((LO, 0))
    srv.listen(0)
    fillers = []
    for _ in range(3):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(srv.getsockname())
        fillers.append(c)

    async def main() -> None:
        await stack.tcp_connect(srv.getsockname(), timeout=0.5)

    try:
        with pytest.raises(LoopTimeout):
            drive(stack, main())
    finally:
        for c in fillers:
            c.close()
        srv.close()
    assert stack.open_sockets() == 0
    assert stack.trace.counters["kernel.tcp.connect-failed"] == 1


def test_recv_timeout_keeps_the_connection_usable(stack: KernelStack) -> None:
    srv = socket.create_server((LO, 0))
    srv.settimeout(10)
    go = threading.Event()

    def serve() -> None:
        conn, _ = srv.accept()
        with conn:
            go.wait(10)
            conn.sendall(b"late data")

    t = Thread(serve)
    t.start()

    async def client() -> bytes:
        conn = await stack.tcp_connect(srv.getsockname(), timeout=5)
        with pytest.raises(LoopTimeout):
            await conn.recv(100, timeout=0.2)
        go.set()
        data = await read_to_eof(conn)
        await conn.close()
        return data

    assert drive(stack, client()) == b"late data"
    t.outcome()
    srv.close()


def test_send_applies_back_pressure_until_the_peer_reads(stack: KernelStack) -> None:
    srv = socket.create_server((LO, 0))
    srv.settimeout(10)
    start_reading = threading.Event()
    size = 32 * 1024 * 1024

    def serve() -> int:
        conn, _ = srv.accept()
        with conn:
            start_reading.wait(10)
            return len(recv_all(conn))

    t = Thread(serve)
    t.start()

    async def client() -> None:
        conn = await stack.tcp_connect(srv.getsockname(), timeout=5)
        fut = conn.send(bytes(size))
        await stack.loop.sleep(0.3)
        assert not fut.done(), "32 MiB cannot all fit in the kernel's buffers"
        start_reading.set()
        await fut
        await conn.close()

    drive(stack, client())
    assert t.outcome() == size
    srv.close()


def test_abort_sends_rst(stack: KernelStack) -> None:
    srv = socket.create_server((LO, 0))
    srv.settimeout(10)

    def serve() -> str:
        conn, _ = srv.accept()
        with conn:
            try:
                data = conn.recv(100)
                more = conn.recv(100)
            except ConnectionResetError:
                return "reset"
            return f"no reset: {data!r} {more!r}"

    t = Thread(serve)
    t.start()

    async def client() -> None:
        conn = await stack.tcp_connect(srv.getsockname(), timeout=5)
        await conn.send(b"x")
        await stack.loop.sleep(0.1)
        conn.abort()
        with pytest.raises(LocalProtocolError):
            conn.send(b"y")

    drive(stack, client())
    assert t.outcome() == "reset"
    srv.close()


def test_peer_rst_fails_recv_with_connection_reset(stack: KernelStack) -> None:
    srv = socket.create_server((LO, 0))
    srv.settimeout(10)

    def serve() -> None:
        conn, _ = srv.accept()
        conn.recv(10)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    t = Thread(serve)
    t.start()

    async def client() -> None:
        conn = await stack.tcp_connect(srv.getsockname(), timeout=5)
        await conn.send(b"hi")
        with pytest.raises(ConnectionResetError):
            await conn.recv(100, timeout=5)
        with pytest.raises(ConnectionResetError):
            await conn.recv(100, timeout=5)
        await conn.close()

    drive(stack, client())
    t.outcome()
    srv.close()


def test_our_half_close_lets_the_peer_answer(stack: KernelStack) -> None:
    srv = socket.create_server((LO, 0))
    srv.settimeout(10)

    def serve() -> None:
        conn, _ = srv.accept()
        with conn:
            request = recv_all(conn)  # ends with our FIN
            conn.sendall(request[::-1] * 1000)

    t = Thread(serve)
    t.start()

    async def client() -> bytes:
        conn = await stack.tcp_connect(srv.getsockname(), timeout=5)
        conn.send(b"abc" * 10000)  # not awaited: shutdown must still send it before FIN
        conn.shutdown()
        with pytest.raises(LocalProtocolError):
            conn.send(b"after FIN")
        data = await read_to_eof(conn)
        await conn.close()
        return data

    assert drive(stack, client()) == (b"cba" * 10000) * 1000
    t.outcome()
    srv.close()


# -- TCP server ------------------------------------------------------------------------------


async def echo_server(stack: KernelStack, port: int, connections: int) -> int:
    """Echo each connection until the peer's FIN, then close; returns bytes echoed."""
    lst = stack.tcp_listen(port, host=LO)
    total = 0

    async def handle(conn: StreamSocket) -> None:
        nonlocal total
        while data := await conn.recv(65536, timeout=20):
            total += len(data)
            await conn.send(data)
        await conn.close()

    tasks = []
    for _ in range(connections):
        conn = await lst.accept()
        tasks.append(stack.loop.create_task(handle(conn)))
    for task in tasks:
        await task
    lst.close()
    return total


def test_half_close_from_the_peer_and_many_concurrent_echo_clients(stack: KernelStack) -> None:
    port = free_port()
    n, size = 40, 200_000

    def one_client(i: int) -> bool:
        payload = bytes([i]) * size
        with socket.create_connection((LO, port), timeout=20) as c:
            reader = Thread(lambda: recv_all(c))
            reader.start()
            c.sendall(payload)
            c.shutdown(socket.SHUT_WR)  # half-close: the echo must still come back
            return reader.outcome() == payload

    results: list[bool] = []

    def clients() -> None:
        threads = [Thread(lambda i=i: one_client(i)) for i in range(n)]  # type: ignore[misc]
        for th in threads:
            th.start()
        results.extend(bool(th.outcome(60)) for th in threads)

    async def main() -> int:
        served = stack.loop.create_task(echo_server(stack, port, n))
        await stack.loop.sleep(0)
        runner = Thread(clients)
        runner.start()
        total = await served
        runner.outcome()
        return total

    total = drive(stack, main(), timeout=60)
    assert results == [True] * n
    assert total == n * size
    assert stack.open_sockets() == 0


def test_our_client_and_our_server_on_one_loop(stack: KernelStack) -> None:
    port = free_port()
    log = EventLog()
    stack.trace.subscribe(log)

    async def main() -> bytes:
        served = stack.loop.create_task(echo_server(stack, port, 1))
        await stack.loop.sleep(0)  # let the server listen first
        conn = await stack.tcp_connect((LO, port), timeout=5)
        data = bytes(range(256)) * 4096
        sender = conn.send(data)
        conn.shutdown()
        echoed = await read_to_eof(conn)
        await sender
        await conn.close()
        await served
        return echoed

    assert drive(stack, main()) == bytes(range(256)) * 4096
    kinds = sorted({e.kind for e in log.of(layer="tcp")})
    assert kinds == ["accept", "close", "connect", "listen", "peer-fin", "shutdown", "unlisten"]


def test_curl_fetches_from_a_tiny_http_responder(stack: KernelStack) -> None:
    require_tools("curl")
    curl = "curl"
    port = free_port()
    body = b"<html><body>minternet over the kernel's TCP</body></html>\n" * 2000
    lst = stack.tcp_listen(port, host=LO)

    async def respond(conn: StreamSocket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = await conn.recv(4096, timeout=10)
            assert chunk, "curl closed before its request ended"
            head += chunk
        assert head.startswith(b"GET /index.html HTTP/1.1\r\n")
        await conn.send(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body
        )
        await conn.close()

    async def main() -> None:
        for _ in range(3):
            conn = await lst.accept()
            await respond(conn)
        lst.close()

    def fetch() -> list[bytes]:
        url = f"http://{LO}:{port}/index.html"
        return [
            subprocess.run(
                [curl, "-sS", "--fail", "--max-time", "10", url],
                capture_output=True,
                check=True,
                timeout=20,
            ).stdout
            for _ in range(3)
        ]

    t = Thread(fetch)
    t.start()
    drive(stack, main())
    assert t.outcome() == [body] * 3


# -- run() -----------------------------------------------------------------------------------


def test_run_returns_the_result_and_closes_leftover_sockets() -> None:
    leftovers: list[KernelStack] = []

    async def main(stack: KernelStack) -> int:
        leftovers.append(stack)
        stack.tcp_listen(0, host=LO)  # never closed by the app
        stack.udp_socket((LO, 0))
        await stack.loop.sleep(0.01)
        return 42

    trace = TraceBus()
    assert run(main, trace=trace) == 42
    assert leftovers[0].open_sockets() == 0
    assert leftovers[0].trace is trace


def test_run_turns_ctrl_c_into_cancellation_then_re_raises() -> None:
    cleaned: list[str] = []

    async def main(stack: KernelStack) -> None:
        lst = stack.tcp_listen(0, host=LO)
        stack.loop.call_later(0.05, signal.raise_signal, signal.SIGINT)
        try:
            await lst.accept()
        except Cancelled:
            cleaned.append("cancelled")
            raise
        finally:
            lst.close()
            cleaned.append("closed")

    with pytest.raises(KeyboardInterrupt):
        run(main)
    assert cleaned == ["cancelled", "closed"]


def test_run_turns_sigterm_into_the_same_clean_exit() -> None:
    cleaned: list[str] = []

    async def main(stack: KernelStack) -> None:
        stack.loop.call_later(0.05, signal.raise_signal, signal.SIGTERM)
        try:
            await stack.loop.sleep(30)
        finally:
            cleaned.append("finally")

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):
        run(main)
    assert cleaned == ["finally"]
    assert signal.getsignal(signal.SIGTERM) is before


def test_many_concurrent_connects_refused_and_accepted_do_not_mix(stack: KernelStack) -> None:
    # Refused connects close their sockets while others are still connecting: a closed
    # descriptor number is reused at once, so a stale watcher would break a new socket.
    closed_port = free_port()
    lst = stack.tcp_listen(0, host=LO)
    n = 40

    async def one(i: int) -> str:
        port = closed_port if i % 2 else lst.local[1]
        try:
            conn = await stack.tcp_connect((LO, port), timeout=5)
        except ConnectionRefusedError:
            return "refused"
        await conn.send(b"%d" % i)
        await conn.close()
        return "ok"

    async def acceptor() -> set[bytes]:
        got = set()
        for _ in range(n // 2):
            conn = await lst.accept()
            got.add(await read_to_eof(conn))
            await conn.close()
        return got

    async def main() -> tuple[list[str], set[bytes]]:
        acc = stack.loop.create_task(acceptor())
        tasks = [stack.loop.create_task(one(i)) for i in range(n)]
        results = [await t for t in tasks]
        return results, await acc

    results, got = drive(stack, main())
    assert results == ["ok", "refused"] * (n // 2)
    assert got == {b"%d" % i for i in range(0, n, 2)}
    lst.close()
    assert stack.open_sockets() == 0


def test_cancelling_a_connect_closes_its_socket(stack: KernelStack) -> None:
    srv = socket.socket()
    srv.bind((LO, 0))
    srv.listen(0)
    fillers = []
    for _ in range(3):  # a full accept queue: SYNs are dropped, the connect hangs
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(srv.getsockname())
        fillers.append(c)
    log = EventLog()
    stack.trace.subscribe(log)

    async def main() -> None:
        async def connect() -> StreamSocket:
            return await stack.tcp_connect(srv.getsockname())

        task = stack.loop.create_task(connect())
        await stack.loop.sleep(0.1)
        task.cancel()
        with pytest.raises(Cancelled):
            await task
        await stack.loop.sleep(0.01)

    try:
        drive(stack, main())
    finally:
        for c in fillers:
            c.close()
        srv.close()
    assert [e.why for e in log.of("tcp", "connect-failed")] == ["cancelled"]
