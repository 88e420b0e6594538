"""The host side: listeners with a backlog, ephemeral ports, the socket API, flow control."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from itertools import pairwise

import pytest

from minternet.loop import LoopTimeout
from minternet.node.tcp import EPHEMERAL_HIGH, EPHEMERAL_LOW, TcpSocket
from minternet.sim.wire import WireNet, wire_net
from minternet.tcp.connection import State, TcpConfig
from minternet.tcp.segment import Segment
from minternet.trace.bus import EventLog

CLIENT, SERVER = "10.0.0.1", "10.0.0.2"


def _net(cfg: TcpConfig | None = None, **kw: object) -> tuple[WireNet, object, object]:
    net = wire_net(5, **kw)  # type: ignore[arg-type]
    cfg = cfg or TcpConfig(msl=1.0)
    return net, net.add(CLIENT, "laptop", cfg), net.add(SERVER, "www", cfg)


def test_backlog_serves_many_simultaneous_connections() -> None:
    net, client, server = _net()
    lst = server.listen(80, backlog=64)  # type: ignore[attr-defined]
    n = 200
    served: list[bytes] = []
    results: list[bytes] = []

    async def serve_forever() -> None:
        while True:
            s = await lst.accept()
            net.loop.create_task(echo(s))

    async def echo(s: TcpSocket) -> None:
        data = await s.recv()
        served.append(data)
        await s.send(data.upper())
        await s.close()

    async def one(i: int) -> None:
        s = await client.connect((SERVER, 80))  # type: ignore[attr-defined]
        await s.send(f"hello {i}".encode())
        results.append(await s.recv())
        await s.close()

    net.loop.create_task(serve_forever())
    for i in range(n):
        net.loop.create_task(one(i))
    net.loop.run(until=120)
    assert sorted(results) == sorted(f"HELLO {i}".encode() for i in range(n))
    assert net.trace.counters.get("tcp.drop.backlog-full", 0) > 0  # SYNs beyond the backlog
    assert net.loop.failed_tasks == []
    net.loop.run(until=200)
    assert not server.sockets and not client.sockets  # type: ignore[attr-defined]


def test_ephemeral_ports_are_random_distinct_and_in_range() -> None:
    net, client, server = _net()
    server.listen(80)  # type: ignore[attr-defined]
    futs = [client.connect((SERVER, 80)) for _ in range(50)]  # type: ignore[attr-defined]
    net.loop.run(until=5)
    ports = [f.result().local[1] for f in futs]
    assert len(set(ports)) == 50
    assert all(EPHEMERAL_LOW <= p <= EPHEMERAL_HIGH for p in ports)
    assert ports != sorted(ports)


def test_same_seed_same_bytes() -> None:
    def capture(seed: int) -> list[bytes]:
        net = wire_net(seed)
        net.wire.taps = []
        c = net.add(CLIENT, "laptop")
        s = net.add(SERVER, "www")
        s.listen(80)
        net.loop.run_until_complete(c.connect((SERVER, 80)), timeout=5)
        return [d for _, _, _, d in net.wire.taps]

    assert capture(11) == capture(11)
    assert capture(11) != capture(12)


def test_recv_timeout_and_send_after_close() -> None:
    net, client, server = _net()
    server.listen(80)  # type: ignore[attr-defined]
    s = net.loop.run_until_complete(client.connect((SERVER, 80)), timeout=5)  # type: ignore[attr-defined]
    with pytest.raises(LoopTimeout):
        net.loop.run_until_complete(s.recv(timeout=1.0), timeout=5)
    s.shutdown()
    with pytest.raises(BrokenPipeError):
        net.loop.run_until_complete(s.send(b"late"), timeout=1)


def test_slow_reader_zero_window_probes_then_completes() -> None:
    cfg = TcpConfig(msl=1.0, recv_buffer=16384)
    net, client, server = _net(cfg)
    log = EventLog()
    net.trace.subscribe(log)
    lst = server.listen(80)  # type: ignore[attr-defined]
    body = bytes(range(256)) * 1024
    got = bytearray()

    async def srv() -> None:
        s = await lst.accept()
        await s.send(body)
        await s.close()

    async def cli() -> None:
        s = await client.connect((SERVER, 80))  # type: ignore[attr-defined]
        await net.loop.sleep(20.0)  # do not read: the window closes
        while chunk := await s.recv(4096):
            got.extend(chunk)
        await s.close()

    net.loop.create_task(srv())
    net.loop.create_task(cli())
    net.loop.run(until=200)
    assert hashlib.sha256(got).digest() == hashlib.sha256(body).digest()
    probes = log.of("tcp", "zero-window-probe")
    assert len(probes) >= 3
    gaps = [b.time - a.time for a, b in pairwise(probes)]
    assert gaps[1] > gaps[0]  # the persist timer backs off
    zero = [e for e in log.of("tcp", "send") if e.node == "laptop" and e.fields["win"] == 0]
    assert zero


@pytest.mark.parametrize(
    ("nagle", "nodelay"), [(True, False), (False, False), (True, True)], ids=str
)
def test_nagle_coalesces_small_writes(nagle: bool, nodelay: bool) -> None:
    """Nagle per the stack's config; TCP_NODELAY (``set_nodelay``) switches it off for one
    connection of a Nagle stack, so every small write goes out at once."""
    net, client, server = _net(TcpConfig(msl=1.0, nagle=nagle), latency=0.05)
    net.wire.taps = []
    lst = server.listen(80)  # type: ignore[attr-defined]
    got = bytearray()

    async def srv() -> None:
        s = await lst.accept()
        while chunk := await s.recv():
            got.extend(chunk)

    async def cli() -> None:
        s = await client.connect((SERVER, 80))  # type: ignore[attr-defined]
        if nodelay:
            s.set_nodelay(True)
        for i in range(100):
            await s.send(b"%03d" % i)
        s.shutdown()

    net.loop.create_task(srv())
    net.loop.create_task(cli())
    net.loop.run(until=20)
    assert bytes(got) == b"".join(b"%03d" % i for i in range(100))
    # Count the client's data segments: Nagle keeps one small segment in flight per RTT.
    data_segments = sum(1 for _, src, _, d in net.wire.taps or [] if src == CLIENT and len(d) > 32)
    if nagle and not nodelay:
        assert 1 <= data_segments < 30
    else:
        assert data_segments >= 100


def test_listener_acks_to_listen_port_get_rst_and_close_refuses() -> None:
    net, client, server = _net()
    lst = server.listen(80)  # type: ignore[attr-defined]
    net.wire.taps = []
    net.wire.inject(CLIENT, SERVER, Segment(1234, 80, 5, 99, 0x10, 100))
    net.loop.run(until=1)
    (rst,) = [Segment.decode(d) for _, src, _, d in net.wire.taps if src == SERVER]
    assert rst.flags == 0x04 and rst.seq == 99  # <SEQ=SEG.ACK><CTL=RST>
    lst.close()
    with pytest.raises(ConnectionRefusedError):
        net.loop.run_until_complete(client.connect((SERVER, 80)), timeout=5)  # type: ignore[attr-defined]


@dataclass
class _Quoted:
    src: str
    dst: str
    payload: bytes


@dataclass
class _Report:
    reporter: str
    type: int
    code: int
    next_hop_mtu: int
    quoted: _Quoted


def test_icmp_fragmentation_needed_shrinks_segments_pmtud() -> None:
    net, client, server = _net(latency=0.005)
    lst = server.listen(80)  # type: ignore[attr-defined]
    path_mtu = 1000
    send = net.wire.send
    sizes: list[int] = []

    def narrow_path(src: str, dst: str, seg: bytes) -> None:
        if len(seg) + 20 > path_mtu:  # a router with a 1000-byte next hop answers instead
            q = _Quoted(src, dst, seg[:8])
            net.loop.call_later(0.002, client.icmp_error, _Report("10.0.0.254", 3, 4, path_mtu, q))  # type: ignore[attr-defined]
            return
        sizes.append(len(seg))
        send(src, dst, seg)

    net.wire.send = narrow_path  # type: ignore[method-assign]
    for st in (client, server):
        st.send_ip = narrow_path  # type: ignore[attr-defined]
    body = bytes(range(256)) * 400
    got = bytearray()

    async def srv() -> None:
        s = await lst.accept()
        while chunk := await s.recv():
            got.extend(chunk)

    async def cli() -> None:
        s = await client.connect((SERVER, 80))  # type: ignore[attr-defined]
        await s.send(body)
        s.shutdown()

    net.loop.create_task(srv())
    net.loop.create_task(cli())
    net.loop.run(until=30)
    assert bytes(got) == body
    assert max(sizes) <= path_mtu - 20


def test_icmp_port_unreachable_while_connecting_and_forged_errors_ignored() -> None:
    net, client, server = _net()
    server.listen(80)  # type: ignore[attr-defined]
    fut = client.connect((SERVER, 81))  # type: ignore[attr-defined]
    (sock,) = client.sockets.values()  # type: ignore[attr-defined]
    c = sock.conn
    head = Segment(c.local[1], 81, c.iss, 0, 0x02, 0).encode()[:8]
    forged = Segment(c.local[1], 81, (c.iss + 5000) % 2**32, 0, 0x02, 0).encode()[:8]
    client.icmp_error(_Report(SERVER, 3, 3, 0, _Quoted(CLIENT, SERVER, forged)))  # type: ignore[attr-defined]
    assert c.state is State.SYN_SENT  # the quoted sequence number is not ours: ignored
    client.icmp_error(_Report(SERVER, 3, 3, 0, _Quoted(CLIENT, SERVER, head)))  # type: ignore[attr-defined]
    with pytest.raises(ConnectionRefusedError, match="ICMP type 3 code 3"):
        net.loop.run_until_complete(fut, timeout=5)


def test_closed_socket_leaves_fin_wait_2_when_the_peer_never_closes() -> None:
    net, client, server = _net(TcpConfig(msl=1.0, fin_wait_2_timeout=30.0))
    lst = server.listen(80)  # type: ignore[attr-defined]
    kept: dict[str, TcpSocket] = {}

    async def srv() -> None:
        kept["srv"] = await lst.accept()  # accepts and never closes

    async def cli() -> None:
        s = await client.connect((SERVER, 80))  # type: ignore[attr-defined]
        kept["cli"] = s
        s.close()

    net.loop.create_task(srv())
    net.loop.create_task(cli())
    net.loop.run(until=20)
    srv_sock, cli_sock = kept["srv"], kept["cli"]
    assert cli_sock.state is State.FIN_WAIT_2 and srv_sock.state is State.CLOSE_WAIT
    net.loop.run(until=40)
    assert cli_sock.state is State.CLOSED
    assert "no FIN from the peer" in cli_sock.conn.history[-1][2]
    assert srv_sock.state is State.CLOSE_WAIT  # no RST was sent: the server is undisturbed


@pytest.mark.parametrize(
    "addr",
    [
        ("10.0.0.2", 0),
        ("10.0.0.2", 70000),
        ("10.0.0.256", 80),
        ("nonsense", 80),
        ("10.0.0.2", "80"),
    ],
)
def test_bad_addresses_are_local_protocol_errors(addr: tuple[str, int]) -> None:
    from minternet.errors import LocalProtocolError

    _, client, server = _net()
    with pytest.raises(LocalProtocolError):
        client.connect(addr)  # type: ignore[attr-defined]
    with pytest.raises(LocalProtocolError):
        server.listen(addr[1] if addr[0] == "10.0.0.2" else 80, host=addr[0])  # type: ignore[attr-defined]
