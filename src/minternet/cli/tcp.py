"""``minternet tcp-transfer``: N bytes from the laptop to www and back over our TCP.

It shows what RFC 9293 does on the simulated internet: the handshake with the real ISNs
(X, Y, Ack = X + 1), the state sequences of both ends with the cause of each change,
retransmissions under the chosen faults, the goodput, and whether every byte arrived intact
(sha256 compared on both sides).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..apps.tcp_transfer import TransferFailed, run_transfer
from ..report.html import write_report
from ..report.html.runs import transfer_report
from ..trace.bus import EventLog, FrameRecord, TraceEvent
from ._sim import Session
from .exits import OutcomeFailed
from .options import SimOptions, html_option, simulation_options
from .world import console


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
@click.option(
    "--cc",
    type=click.Choice(["newreno", "cubic"]),
    default=None,
    help="Congestion control of every host (default: each host's, NewReno unless the "
    'world file says congestion_control = "cubic").',
)
@html_option
@simulation_options
def tcp_transfer(
    size: int,
    target: str,
    source: str | None,
    timeline: bool,
    cc: str | None,
    html: Path | None,
    sim: SimOptions,
) -> None:
    """Send SIZE bytes from the laptop to www over TCP, and the same amount back.

    Exit status 1 when the connection failed or the data did not arrive intact.
    """
    s = Session(sim)
    log = EventLog()
    if timeline:
        s.world.trace.subscribe(log)
    recorded = s.record() if html is not None else None
    try:
        report = run_transfer(
            s.world,
            s.source(source),
            s.world.node(target),
            size=size,
            faults=sim.faults.faults,
            runner=s.run,
            faults_shown=sim.faults.as_dict(),
            cc=cc,  # type: ignore[arg-type]
        )
    except TransferFailed as e:  # refused, unreachable, no answer to the SYN
        if html is not None and recorded is not None:
            result = {"size": size, "failure": str(e)}
            _write_html(html, recorded, s, sim.seed, result)
        if sim.as_json:
            click.echo(json.dumps({"seed": sim.seed, "size": size, "failure": str(e)}, indent=2))
        raise OutcomeFailed(str(e)) from None
    if timeline:
        report["timeline"] = [e.as_dict() for e in log.of("tcp")]
    if report["stopped"]:
        side, st = min(report["stopped"].items(), key=lambda kv: kv[1]["at"])
        report["failure"] = f"the {side} stopped: {st['why']}"
    elif not report["intact"]:
        report["failure"] = "the data did not arrive intact"
    if html is not None and recorded is not None:
        _write_html(html, recorded, s, sim.seed, report)
    if sim.as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        if timeline:
            _print_timeline(log.of("tcp"))
        _print(report)
    if "failure" in report:
        raise OutcomeFailed(report["failure"])


def _write_html(
    path: Path,
    recorded: tuple[list[FrameRecord], EventLog],
    s: Session,
    seed: int,
    result: dict[str, Any],
) -> None:
    frames, events = recorded
    rep = transfer_report(
        seed=seed,
        topology=s.world.describe(),
        segments=s.world.segments(),
        points=tuple(name for name, _ in s.world.capture_points()),
        frames=frames,
        events=events.events,
        result=result,
    )
    write_report(path, rep)


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
    if r["intact"]:
        con.print("  data: [green]intact (sha256 equal both ways)[/]")
        g, v = r["goodput_bytes_per_s"], r["virtual_seconds"]
        con.print(
            f"  goodput: up {_fmt_rate(g['up'])}, down {_fmt_rate(g['down'])}; "
            f"{v['total']:.3f} s of simulated time"
        )
    elif r["stopped"]:
        got = r["received"]
        con.print(
            f"  data: [red]incomplete[/]: {got['up']:,} of {r['size']:,} bytes up, "
            f"{got['down']:,} down"
        )
    else:
        con.print("  data: [red]CORRUPTED[/]")
    rx = r["retransmissions"]
    con.print(
        f"  retransmissions: client {rx['client']}, server {rx['server']}; "
        f"segments sent: client {r['segments_sent']['client']}, "
        f"server {r['segments_sent']['server']}"
    )
    for side, st in r["stopped"].items():
        con.print(f"  [red]{side} stopped[/] at {st['at']:.3f} s: {st['why']}")
    for side, fin in r["final"].items():
        if fin["state"] not in ("CLOSED", "TIME-WAIT"):
            timer = "no timer" if fin["next_timer"] is None else f"next timer {fin['next_timer']} s"
            con.print(f"  [red]{side} left in {fin['state']}[/] ({timer})")
    for side in ("client", "server"):
        con.print(f"  [bold]{side}[/] states:")
        for st in r["states"][side]:
            con.print(f"    {st['time']:10.6f} s  {st['state']:<13} {st['why']}")
