"""N bytes from one host to another and the same back over our TCP, in a simulated world.

What ``minternet tcp-transfer`` runs and what a sweep cell of ``--what tcp-transfer`` runs:
:func:`run_transfer` connects, sends ``size`` seeded bytes up, half-closes (RFC 9293
§3.6), receives ``size`` bytes down, closes, lets both ends finish (LAST-ACK, TIME-WAIT =
2×MSL) and returns the report: the handshake with the real ISNs (X, Y, Ack = X + 1), both
ends' state sequences with the cause of each change, retransmissions, goodput, and whether
every byte arrived intact (sha256 compared on both sides).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError, MinternetError
from ..loop import LoopTimeout
from ..node.host import Host
from ..node.tcp import TcpSocket
from ..sim.faults import Faults
from ..sim.world import World
from ..tcp.congestion import CongestionName
from ..tcp.connection import Connection

PORT = 443
IDLE_TIMEOUT = 600.0  # the applications' wait for progress, as a server's idle timeout


class TransferFailed(MinternetError):
    """The connection could not be made (refused, unreachable, no answer to the SYN)."""


Runner = Callable[[Coroutine[Any, Any, None], float], None]


@dataclass
class _Outcome:
    client: TcpSocket | None = None
    server: TcpSocket | None = None
    got_up: bytearray = field(default_factory=bytearray)
    got_down: bytearray = field(default_factory=bytearray)
    t_start: float = 0.0
    t_connected: float = 0.0
    t_up_done: float = 0.0
    t_down_done: float = 0.0
    stopped: dict[str, dict[str, Any]] = field(default_factory=dict)  # side -> why, when


def _stopped(out: _Outcome, side: str, sock: TcpSocket | None, e: Exception, now: float) -> None:
    """Record why one side's application stopped early, and reset its connection."""
    if isinstance(e, LoopTimeout):
        why = f"no progress either way for {IDLE_TIMEOUT:g} s: the application gave up"
    else:
        why = str(e)
    out.stopped[side] = {"why": why, "at": round(now, 6)}
    if sock is not None:
        sock.abort()


async def _recv_or_idle(sock: TcpSocket) -> bytes:
    """The next bytes; :class:`LoopTimeout` only after IDLE_TIMEOUT without progress either
    way (nothing received in order and nothing of ours acknowledged)."""
    while True:
        mark = (sock.conn.snd_una, sock.conn.rcv_nxt)
        try:
            return await sock.recv(1 << 16, timeout=IDLE_TIMEOUT)
        except LoopTimeout:
            if (sock.conn.snd_una, sock.conn.rcv_nxt) == mark:
                raise


def _final(conn: Connection) -> dict[str, Any]:
    """Where an endpoint ended: its state and its next timer (None: it waits for nothing)."""
    t = conn.next_deadline()
    return {"state": str(conn.state), "next_timer": None if t is None else round(t, 6)}


def _states(conn: Connection) -> list[dict[str, Any]]:
    return [{"time": round(t, 6), "state": str(s), "why": why} for t, s, why in conn.history]


def run_until_done(world: World) -> Runner:
    """The plain runner: run the client to its end, then one more second of virtual time
    for what is still in flight (what ``cli._sim.Session.run`` does, without a capture)."""

    def run(coro: Coroutine[Any, Any, None], timeout: float) -> None:
        task = world.loop.create_task(coro)
        try:
            world.loop.run_until_complete(task, timeout)
        except LoopTimeout:
            raise ConfigError(f"the simulation did not finish within {timeout:g} s") from None
        world.run(until=world.loop.now() + 1.0)

    return run


def run_transfer(
    world: World,
    client_host: Host,
    server_host: Host,
    *,
    size: int,
    faults: Faults,
    runner: Runner | None = None,
    faults_shown: dict[str, Any] | None = None,
    cc: CongestionName | None = None,
) -> dict[str, Any]:
    """Transfer ``size`` bytes each way; the report (``tcp-transfer --json``'s object).

    ``faults_shown`` is the report's ``faults`` object as the user typed the values (the
    command line's milliseconds); by default it is worked out from ``faults``. ``cc``: the
    congestion control of every host (default: each host's, from the world)."""
    if client_host is server_host:
        raise ConfigError("the client and the server must be different nodes")
    if cc is not None:
        world.set_congestion_control(cc)
    server_ip = server_host.address
    rnd = world.random.child("tcp-transfer")
    up = rnd.child("up").random_bytes(size)
    down = rnd.child("down").random_bytes(size)
    loop = world.loop
    out = _Outcome()
    listener = server_host.tcp_listen(PORT)

    async def server() -> None:
        try:
            sock = await listener.accept()
            assert isinstance(sock, TcpSocket)
            out.server = sock
            while chunk := await _recv_or_idle(sock):
                out.got_up += chunk
            out.t_up_done = loop.now()
            await sock.send(down)
            await sock.close()
        except (OSError, LoopTimeout) as e:
            _stopped(out, "server", out.server, e, loop.now())

    async def client() -> None:
        out.t_start = loop.now()
        sock = await client_host.tcp_connect((server_ip, PORT), timeout=IDLE_TIMEOUT)
        assert isinstance(sock, TcpSocket)
        out.client = sock
        out.t_connected = loop.now()
        try:
            await sock.send(up)
            sock.shutdown()
            while chunk := await _recv_or_idle(sock):
                out.got_down += chunk
            out.t_down_done = loop.now()
            await sock.close()
        except (OSError, LoopTimeout) as e:
            _stopped(out, "client", sock, e, loop.now())

    server_task = loop.create_task(server())
    try:
        (runner or run_until_done(world))(client(), 24 * 3600.0)
    except (OSError, MinternetError) as e:
        raise TransferFailed(f"connection to {server_ip}:{PORT} failed: {e}") from None
    if not server_task.done():
        with contextlib.suppress(LoopTimeout):  # reported with the server's final state
            loop.run_until_complete(server_task, IDLE_TIMEOUT + 1)
    # Let both ends finish (LAST-ACK, TIME-WAIT = 2 MSL) so the state sequences are complete.
    world.run(until=loop.now() + 2 * (out.client.conn.config.msl if out.client else 30) + 1)
    if out.client is None or out.server is None:
        raise TransferFailed("the connection was not established")
    shown = faults_shown if faults_shown is not None else _faults_shown(faults)
    return _report(out, up, down, size, world, client_host, server_host, shown)


def _faults_shown(faults: Faults) -> dict[str, float]:
    return {
        "loss": faults.loss,
        "latency_ms": round(faults.latency * 1000.0, 9),
        "reorder": faults.reorder,
        "duplicate": faults.duplicate,
        "corrupt": faults.corrupt,
    }


def _report(
    out: _Outcome,
    up: bytes,
    down: bytes,
    size: int,
    world: World,
    client_host: Host,
    server_host: Host,
    faults: dict[str, float],
) -> dict[str, Any]:
    assert out.client is not None and out.server is not None
    c, sv = out.client.conn, out.server.conn
    sha = {
        "sent_up": hashlib.sha256(up).hexdigest(),
        "received_up": hashlib.sha256(out.got_up).hexdigest(),
        "sent_down": hashlib.sha256(down).hexdigest(),
        "received_down": hashlib.sha256(out.got_down).hexdigest(),
    }
    intact = sha["sent_up"] == sha["received_up"] and sha["sent_down"] == sha["received_down"]
    up_time = max(out.t_up_done - out.t_connected, 1e-9)
    down_time = max(out.t_down_done - out.t_up_done, 1e-9)
    total = max(out.t_down_done - out.t_start, 1e-9)
    return {
        "seed": world.seed,
        "size": size,
        "client": {"node": client_host.name, "address": f"{c.local[0]}:{c.local[1]}"},
        "server": {"node": server_host.name, "address": f"{sv.local[0]}:{sv.local[1]}"},
        "handshake": {
            "client_isn": c.iss,
            "server_isn": sv.iss,
            "synack_ack": (c.iss + 1) % 2**32,
            "final_ack": (sv.iss + 1) % 2**32,
            "mss": {"client": c.config.mss, "server": sv.config.mss, "effective": c.smss},
            "window_scale": {"client": c.rcv_wscale, "server": sv.rcv_wscale},
            "sack": c.sack_ok,
            "timestamps": c.ts_ok,
        },
        "congestion_control": {
            "client": c.config.congestion_control,
            "server": sv.config.congestion_control,
        },
        "intact": intact,
        "sha256": sha,
        "retransmissions": {"client": c.retransmissions, "server": sv.retransmissions},
        "segments_sent": {"client": c.segments_sent, "server": sv.segments_sent},
        "goodput_bytes_per_s": {
            "up": round(size / up_time, 1),
            "down": round(size / down_time, 1),
        },
        "virtual_seconds": {
            "handshake": round(out.t_connected - out.t_start, 6),
            "up": round(up_time, 6),
            "down": round(down_time, 6),
            "total": round(total, 6),
        },
        "srtt": {"client": c.rto.srtt, "server": sv.rto.srtt},
        "states": {"client": _states(c), "server": _states(sv)},
        "stopped": out.stopped,
        "received": {"up": len(out.got_up), "down": len(out.got_down)},
        "final": {"client": _final(c), "server": _final(sv)},
        "faults": faults,
        "drops": {k: v for k, v in sorted(world.trace.counters.items()) if "drop" in k},
    }


__all__ = ["PORT", "TransferFailed", "run_transfer", "run_until_done"]
