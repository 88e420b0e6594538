"""``minternet dig``: a DNS query in the simulated world, shown like dig (``--trace`` too)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..apps.dig import dig as run_dig
from ..apps.dig import render, render_timeline, render_trace, server_address
from ..apps.dns_world import install_dns
from ..dns.codes import RType, rcode_name, type_from_text, type_name
from ..dns.name import Name
from ..errors import ConfigError
from ..report.html import write_report
from ..report.html.runs import dig_report
from ..trace.bus import EventLog, FrameRecord
from ._sim import Session
from .exits import OutcomeFailed
from .options import SimOptions, html_option, simulation_options


@click.command(name="dig")
@click.argument("args", nargs=-1, required=True, metavar="[@SERVER] NAME [TYPE]")
@click.option("--trace", "show_trace", is_flag=True, help="Show the resolver's walk from the root.")
@click.option("--tcp", is_flag=True, help="Ask over TCP instead of UDP.")
@click.option("--norec", is_flag=True, help="Recursion desired off (ask a server directly).")
@click.option(
    "--stop",
    multiple=True,
    metavar="SERVER",
    help="Do not run the DNS server of this node (e.g. a.iana-servers.net): see timeouts.",
)
@click.option("--twice", is_flag=True, help="Ask a second time (the resolver's cache answers).")
@html_option
@simulation_options
def dig_command(
    args: tuple[str, ...],
    show_trace: bool,
    tcp: bool,
    norec: bool,
    stop: tuple[str, ...],
    twice: bool,
    html: Path | None,
    sim: SimOptions,
) -> None:
    """Ask the world's DNS: the laptop asks the ISP resolver, which walks from the root.

    \b
    Like dig:
      minternet dig www.example.com --trace
      minternet dig example.com MX
      minternet dig @a.root-servers.net www.example.com --norec
      minternet dig www.example.com --stop a.iana-servers.net

    Exit status 1 when no server answered or the answer is an error (NXDOMAIN, SERVFAIL,
    REFUSED…).
    """
    server = "resolver"
    rest: list[str] = []
    for a in args:
        if a.startswith("@"):
            server = a[1:]
        else:
            rest.append(a)
    if not rest or len(rest) > 2:
        raise click.UsageError("give a NAME and optionally a TYPE")
    try:
        qname = Name.from_text(rest[0])
        qtype = type_from_text(rest[1]) if len(rest) > 1 else int(RType.A)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    addr = server_address(server)

    if html is not None and not show_trace:
        raise click.UsageError("--html draws the resolver's walk: give --trace too")
    session = Session(sim)
    world = session.world
    log = EventLog()
    world.trace.subscribe(log)
    frames: list[FrameRecord] = []
    if html is not None:
        world.trace.subscribe_frames(frames.append)
    dep = install_dns(world)
    for name in stop:
        hit = [t for t in dep.tasks if t.name.endswith("@" + name)]
        if not hit:
            raise ConfigError(f"no DNS server runs on {name!r}")
        for t in hit:
            t.cancel()
    laptop = session.source(None)
    runs = []
    for _ in range(2 if twice else 1):
        mark = len(log.events)
        result = session.run(run_dig(laptop, qname, qtype, addr, rd=not norec, tcp=tcp))
        events = log.events[mark:]
        resolved = [e for e in events if e.node == "resolver" and e.kind == "resolved"]
        runs.append((result, events, resolved[-1].why if resolved else None))

    last = runs[-1][0].exchange
    if last.response is None:
        failure: str | None = f"no reply from {last.server[0]} ({last.error or 'timed out'})"
    elif last.response.rcode != 0:
        failure = f"{qname.to_text()}: {last.response.rcode_name}"
    else:
        failure = None
    if html is not None:
        rep = dig_report(
            seed=sim.seed,
            question=f"{qname.to_text()} {type_name(qtype)}",
            topology=world.describe(),
            segments=world.segments(),
            points=tuple(name for name, _ in world.capture_points()),
            frames=frames,
            events=log.events,
            failure=failure,
        )
        write_report(html, rep)
    if sim.as_json:
        out = []
        for result, events, why in runs:
            ex = result.exchange
            resp = ex.response
            out.append(
                {
                    "question": {"name": qname.to_text(), "type": type_name(qtype)},
                    "server": {
                        "address": ex.server[0],
                        "port": ex.server[1],
                        "transport": ex.transport,
                    },
                    "status": resp.rcode_name if resp else "TIMEOUT",
                    "flags": resp.flag_names() if resp else [],
                    "answers": [r.to_text() for r in resp.answers] if resp else [],
                    "authority": [r.to_text() for r in resp.authority] if resp else [],
                    "additional": [r.to_text() for r in resp.additional] if resp else [],
                    "query_time_ms": round(ex.rtt * 1000, 3),
                    "bytes": len(ex.wire),
                    "explanation": why,
                    "steps": [e.as_dict() for e in events if e.layer == "dns"],
                }
            )
        if failure is not None:
            out[-1]["failure"] = failure
        click.echo(json.dumps(out if twice else out[0], indent=2, default=str))
    else:
        for i, (result, events, why) in enumerate(runs):
            if i:
                click.echo("\n;; --- asked again ---")
            if show_trace:
                for line in render_trace(events):
                    click.echo(line)
            for line in render(result, why):
                click.echo(line)
    if failure is not None:
        raise OutcomeFailed(failure)


@click.command()
@click.argument("host")
@click.argument("rtype", default="A", metavar="[TYPE]")
@click.option("--twice", is_flag=True, help="Look up again at once (the browser's cache).")
@click.option(
    "--later",
    type=click.FloatRange(0),
    default=None,
    metavar="SECONDS",
    help="Look up again after SECONDS of virtual time (caches expire).",
)
@click.option(
    "--hosts",
    "hosts_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The laptop's hosts file (default: localhost and the laptop).",
)
@simulation_options
def resolve(
    host: str,
    rtype: str,
    twice: bool,
    later: float | None,
    hosts_file: Path | None,
    sim: SimOptions,
) -> None:
    """How the browser gets an address: browser cache, OS cache, hosts file, then the
    ISP's resolver, which walks from the root (phase 1 of a page load).

    Exit status 1 when the (last) lookup found no address.
    """
    try:
        qtype = type_from_text(rtype)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    session = Session(sim)
    world = session.world
    log = EventLog()
    world.trace.subscribe(log)
    kw = {"hosts_text": hosts_file.read_text()} if hosts_file is not None else {}
    dep = install_dns(world, **kw)  # type: ignore[arg-type]
    stub = dep.stub
    assert stub is not None
    rounds: list[float | None] = [None]
    if twice:
        rounds.append(0.0)
    if later is not None:
        rounds.append(later)
    results = []
    for wait in rounds:
        if wait:
            world.run(until=world.loop.now() + wait)
        mark = len(log.events)
        answer = session.run(stub.lookup(host, qtype))
        results.append((answer, log.events[mark:]))
    if sim.as_json:
        out = [
            {
                "host": a.host.to_text(),
                "type": type_name(a.qtype),
                "addresses": list(a.addresses),
                "source": a.source,
                "rcode": rcode_name(a.rcode),
                "ttl": a.ttl,
                "explanation": a.explanation,
                "steps": [e.as_dict() for e in ev if e.layer == "dns"],
            }
            for a, ev in results
        ]
        last = results[-1][0]
        if not last.ok:
            out[-1]["failure"] = last.explanation
        click.echo(json.dumps(out if len(out) > 1 else out[0], indent=2, default=str))
    else:
        for i, (a, ev) in enumerate(results):
            if i:
                click.echo("")
            for line in render_timeline(ev):
                click.echo(line)
            click.echo(f"=> {a.explanation}")
    if not results[-1][0].ok:
        raise OutcomeFailed(results[-1][0].explanation)
