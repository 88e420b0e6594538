"""``minternet ping`` and ``minternet traceroute``: real ICMP across the simulated world."""

from __future__ import annotations

import json

import click

from ..apps.ping import ping as run_ping
from ..apps.traceroute import traceroute as run_traceroute
from ._sim import Session
from .exits import OutcomeFailed
from .options import SimOptions, simulation_options
from .world import console


def _fmt_ms(v: float | None) -> str:
    return "*" if v is None else f"{v * 1000:.3f} ms"


@click.command()
@click.argument("target")
@click.option("-c", "--count", type=click.IntRange(1, 100000), default=4, show_default=True)
@click.option(
    "-i",
    "--interval",
    type=click.FloatRange(0.0001),
    default=1.0,
    show_default=True,
    help="Seconds between requests (virtual time).",
)
@click.option(
    "-W",
    "--timeout",
    type=click.FloatRange(0.001),
    default=2.0,
    show_default=True,
    help="Seconds to wait for the last reply.",
)
@click.option("-s", "--size", type=click.IntRange(0, 65507), default=56, show_default=True)
@click.option("-t", "--ttl", type=click.IntRange(1, 255), default=None)
@click.option("--from", "source", default=None, help="Node to ping from (default: laptop).")
@simulation_options
def ping(
    target: str,
    count: int,
    interval: float,
    timeout: float,
    size: int,
    ttl: int | None,
    source: str | None,
    sim: SimOptions,
) -> None:
    """Send ICMP echo requests to TARGET (an address, node name or hostname).

    Exit status 1 when not a single reply came back (like iputils ping).
    """
    s = Session(sim)
    host = s.source(source)
    dst = s.world.resolve(target)
    result = s.run(
        run_ping(host, dst, count=count, interval=interval, timeout=timeout, size=size, ttl=ttl)
    )
    impaired = [f"{link.a.full_name}↔{link.b.full_name}" for link in s.world.impaired_links]
    # What --loss did, measured where it acts: frames onto the impaired links and lost there.
    crossed = sum(link.frames_sent for link in s.world.impaired_links)
    lost = s.world.trace.counters.get("drop.loss", 0)
    if sim.as_json:
        out = result.as_dict()
        out["from"] = {"node": host.name, "address": host.source_address_for(dst)}
        out["seed"] = sim.seed
        out["faults"] = {**sim.faults.as_dict(), "links": impaired}
        loss = sim.faults.loss
        if loss:
            out["expected_loss"] = 1 - (1 - loss) ** 2
            out["faults"]["frames_crossing"] = crossed
            out["faults"]["frames_lost"] = lost
        if not result.received:
            out["failure"] = _no_reply(dst, result.count)
        click.echo(json.dumps(out, indent=2))
        _exit_like_ping(dst, result.count, result.received)
        return
    con = console()
    name = s.name_of(dst)
    label = f"{dst} ({name})" if name and name != dst else dst
    con.print(
        f"[bold]PING {label}[/] from {host.name} {host.source_address_for(dst)}: {size} data bytes"
    )
    for r in result.replies:
        if r.rtt is not None:
            dup = f" [yellow](+{r.duplicates} duplicate)[/]" if r.duplicates else ""
            con.print(
                f"{r.bytes} bytes from {r.source}: icmp_seq={r.sequence} "
                f"[cyan]ttl={r.ttl}[/] time={r.rtt * 1000:.3f} ms{dup}"
            )
        elif r.error:
            con.print(f"icmp_seq={r.sequence}: [red]{r.error}[/]")
        else:
            con.print(f"icmp_seq={r.sequence}: [red]no reply[/]")
    rtts = result.rtts()
    con.print(f"--- {dst} ping statistics ---")
    con.print(
        f"{result.count} packets transmitted, {result.received} received, "
        f"[bold]{result.loss * 100:.1f}% packet loss[/]"
    )
    if rtts:
        con.print(
            f"rtt min/avg/max = {min(rtts) * 1000:.3f}/{sum(rtts) / len(rtts) * 1000:.3f}/"
            f"{max(rtts) * 1000:.3f} ms"
        )
    if sim.faults.any:
        line = f"faults on {', '.join(impaired)} (each direction): {sim.faults.summary()}"
        con.print(f"[dim]{line}[/]")
        loss = sim.faults.loss
        if loss and crossed:
            con.print(
                f"lossy link: {lost} of {crossed} frames lost "
                f"([bold]{lost / crossed * 100:.1f}%[/], --loss {loss:g})"
            )
            con.print(
                f"[dim]a round trip crosses it twice: expected loss 1-(1-{loss:g})² = "
                f"{(1 - (1 - loss) ** 2) * 100:.1f}%[/]"
            )
    if sim.pcap is not None:
        con.print(f"[dim]capture written to {sim.pcap}[/]")
    _exit_like_ping(dst, result.count, result.received)


def _no_reply(dst: str, count: int) -> str:
    return f"no reply from {dst} to {count} echo request(s)"


def _exit_like_ping(dst: str, count: int, received: int) -> None:
    """iputils ping's exit status: 1 when not a single reply came back."""
    if received == 0:
        raise OutcomeFailed(_no_reply(dst, count))


@click.command()
@click.argument("target")
@click.option("-m", "--max-hops", type=click.IntRange(1, 255), default=30, show_default=True)
@click.option("-q", "--queries", type=click.IntRange(1, 10), default=3, show_default=True)
@click.option(
    "-w",
    "--wait",
    type=click.FloatRange(0.001),
    default=2.0,
    show_default=True,
    help="Seconds to wait for each answer.",
)
@click.option("--from", "source", default=None, help="Node to trace from (default: laptop).")
@simulation_options
def traceroute(
    target: str,
    max_hops: int,
    queries: int,
    wait: float,
    source: str | None,
    sim: SimOptions,
) -> None:
    """Show every router on the path to TARGET (ICMP echo probes with TTL 1, 2, 3 …).

    Exit status 1 when TARGET was not reached within --max-hops.
    """
    s = Session(sim)
    host = s.source(source)
    dst = s.world.resolve(target)
    result = s.run(run_traceroute(host, dst, max_hops=max_hops, probes=queries, timeout=wait))
    names = {a: n for h in result.hops if (a := h.address) and (n := s.name_of(a))}
    failure = None if result.reached else f"{dst} not reached within {max_hops} hops"
    if sim.as_json:
        out = result.as_dict(names)
        out["from"] = {"node": host.name, "address": host.source_address_for(dst)}
        out["seed"] = sim.seed
        if failure is not None:
            out["failure"] = failure
        click.echo(json.dumps(out, indent=2))
        if failure is not None:
            raise OutcomeFailed(failure)
        return
    con = console()
    label = f"{dst} ({names.get(dst) or s.name_of(dst)})" if s.name_of(dst) else dst
    con.print(f"[bold]traceroute to {label}[/] from {host.name}, {max_hops} hops max")
    for hop in result.hops:
        addr = hop.address
        who = "*" if addr is None else f"[cyan]{names.get(addr, addr)}[/] ({addr})"
        times = "  ".join(_fmt_ms(p.rtt) for p in hop.probes)
        con.print(f"{hop.ttl:2d}  {who}  {times}")
    if sim.pcap is not None:
        con.print(f"[dim]capture written to {sim.pcap}[/]")
    if failure is not None:
        raise OutcomeFailed(failure)
