"""``minternet tcp-transfer``: N bytes from the laptop to www and back over our TCP.

It shows what RFC 9293 does on the simulated internet: the handshake with the real ISNs
(X, Y, Ack = X + 1), the state sequences of both ends with the cause of each change,
retransmissions under the chosen faults, the goodput, and whether every byte arrived intact
(sha256 compared on both sides).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from ..errors import ConfigError, MinternetError
from ..node.host import Host
from ..node.tcp import TcpSocket
from ..tcp.connection import Connection
from ..trace.bus import EventLog, TraceEvent
from ._sim import Session
from .exits import OutcomeFailed
from .options import (
    FaultOptions,
    fault_options,
    json_option,
    pcap_option,
    seed_option,
    world_option,
)
from .world import console

PORT = 443


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


def _states(conn: Connection) -> list[dict[str, Any]]:
    return [{"time": round(t, 6), "state": str(s), "why": why} for t, s, why in conn.history]


def _server_address(s: Session, target: str) -> tuple[Host, str]:
    server = s.world.node(target)
    addr = server.address
    return server, addr


@click.command("tcp-transfer")
@click.option(
    "--size",
    type=click.IntRange(0, 1 << 30),
    default=1 << 20,
    show_default=True,
    help="Bytes to send each way.",
)
@click.option("--to", "target", default="www", show_default=True, help="Server node.")
@click.option("--from", "source", default=None, help="Client node (default: laptop).")
@click.option(
    "--timeline",
    is_flag=True,
    help="Also print every TCP event of both ends: segments with relative and absolute "
    "numbers, state changes, retransmissions, duplicate ACKs, cwnd and RTO.",
)
@seed_option
@json_option
@pcap_option
@world_option
@fault_options
def tcp_transfer(
    size: int,
    target: str,
    source: str | None,
    timeline: bool,
    seed: int,
    as_json: bool,
    pcap: Path | None,
    world_file: Path | None,
    faults: FaultOptions,
) -> None:
    """Send SIZE bytes from the laptop to www over TCP, and the same amount back.

    Exit status 1 when the connection failed or the data did not arrive intact.
    """
    s = Session(world_file, seed, faults.faults, pcap)
    log = EventLog()
    if timeline:
        s.world.trace.subscribe(log)
    client_host = s.source(source)
    server_host, server_ip = _server_address(s, target)
    if client_host is server_host:
        raise ConfigError("the client and the server must be different nodes")
    rnd = s.world.random.child("tcp-transfer")
    up = rnd.child("up").random_bytes(size)
    down = rnd.child("down").random_bytes(size)
    loop = s.world.loop
    out = _Outcome()
    listener = server_host.tcp_listen(PORT)

    async def server() -> None:
        sock = await listener.accept()
        assert isinstance(sock, TcpSocket)
        out.server = sock
        while chunk := await sock.recv(1 << 16):
            out.got_up += chunk
        out.t_up_done = loop.now()
        await sock.send(down)
        await sock.close()

    async def client() -> None:
        out.t_start = loop.now()
        sock = await client_host.tcp_connect((server_ip, PORT), timeout=600)
        assert isinstance(sock, TcpSocket)
        out.client = sock
        out.t_connected = loop.now()
        await sock.send(up)
        sock.shutdown()
        while chunk := await sock.recv(1 << 16):
            out.got_down += chunk
        out.t_down_done = loop.now()
        await sock.close()

    loop.create_task(server())
    try:
        s.run(client(), timeout=24 * 3600.0)
    except (OSError, MinternetError) as e:  # refused, unreachable, no answer to the SYN
        failure = f"connection to {server_ip}:{PORT} failed: {e}"
        if as_json:
            click.echo(json.dumps({"seed": seed, "size": size, "failure": failure}, indent=2))
        raise OutcomeFailed(failure) from None
    # Let both ends finish (LAST-ACK, TIME-WAIT = 2 MSL) so the state sequences are complete.
    s.world.run(until=loop.now() + 2 * (out.client.conn.config.msl if out.client else 30) + 1)
    if out.client is None or out.server is None:
        raise OutcomeFailed("the connection was not established")
    report = _report(
        out,
        up,
        down,
        size,
        seed,
        client_host,
        server_host,
        s,
        faults_dict=faults.as_dict(),
    )
    if timeline:
        report["timeline"] = [e.as_dict() for e in log.of("tcp")]
    if not report["intact"]:
        report["failure"] = "the data did not arrive intact"
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        if timeline:
            _print_timeline(log.of("tcp"))
        _print(report)
    if not report["intact"]:
        raise OutcomeFailed(report["failure"])


def _report(
    out: _Outcome,
    up: bytes,
    down: bytes,
    size: int,
    seed: int,
    client_host: Host,
    server_host: Host,
    s: Session,
    faults_dict: dict[str, Any],
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
        "seed": seed,
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
        "faults": faults_dict,
        "drops": {k: v for k, v in sorted(s.world.trace.counters.items()) if "drop" in k},
    }


def _print_timeline(events: list[TraceEvent]) -> None:
    con = console()
    for e in events:
        f = e.fields
        if e.kind in ("send", "recv"):
            arrow = "→" if e.kind == "send" else "←"
            ack = f" ack={f['rel_ack']} ({f['ack']})" if f.get("ack") is not None else ""
            opts = f" <{','.join(f['options'])}>" if f.get("options") else ""
            text = (
                f"{arrow} [{f['flags']}] seq={f['rel_seq']} ({f['seq']}){ack}"
                f" len={f['len']} win={f['win']}{opts}"
            )
        elif e.kind == "state":
            text = f"[bold]{f['old']} → {f['new']}[/]"
        elif e.kind == "cwnd":
            text = f"cwnd={f['cwnd']} ssthresh={f['ssthresh']} ({f['phase']})"
        else:
            rest = " ".join(f"{k}={v}" for k, v in f.items() if k != "conn")
            text = f"[yellow]{e.kind}[/] {rest}"
        why = f"  [dim]— {e.why}[/]" if e.why else ""
        con.print(f"{e.time:10.6f} {e.node:>8} {text}{why}", highlight=False)


def _fmt_rate(bps: float) -> str:
    return f"{bps / 1e6:.2f} MB/s" if bps >= 1e6 else f"{bps / 1e3:.1f} kB/s"


def _print(r: dict[str, Any]) -> None:
    con = console()
    h = r["handshake"]
    con.print(
        f"[bold]TCP {r['client']['node']} {r['client']['address']} → "
        f"{r['server']['node']} {r['server']['address']}[/], {r['size']:,} bytes each way"
        f" (seed {r['seed']})"
    )
    con.print(
        f"  SYN      seq=X={h['client_isn']}\n"
        f"  SYN,ACK  seq=Y={h['server_isn']}  ack=X+1={h['synack_ack']}\n"
        f"  ACK      ack=Y+1={h['final_ack']}\n"
        f"  MSS {h['mss']['effective']} bytes of data per segment, window scale "
        f"{h['window_scale']['client']}/{h['window_scale']['server']}, "
        f"SACK {'on' if h['sack'] else 'off'}, timestamps {'on' if h['timestamps'] else 'off'}"
    )
    ok = "[green]intact (sha256 equal both ways)[/]" if r["intact"] else "[red]CORRUPTED[/]"
    con.print(f"  data: {ok}")
    g, v = r["goodput_bytes_per_s"], r["virtual_seconds"]
    con.print(
        f"  goodput: up {_fmt_rate(g['up'])}, down {_fmt_rate(g['down'])}; "
        f"{v['total']:.3f} s of simulated time"
    )
    rx = r["retransmissions"]
    con.print(
        f"  retransmissions: client {rx['client']}, server {rx['server']}; "
        f"segments sent: client {r['segments_sent']['client']}, "
        f"server {r['segments_sent']['server']}"
    )
    for side in ("client", "server"):
        con.print(f"  [bold]{side}[/] states:")
        for st in r["states"][side]:
            con.print(f"    {st['time']:10.6f} s  {st['state']:<13} {st['why']}")
