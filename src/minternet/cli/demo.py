"""``minternet demo``: the built-in world, a traceroute and a ping (the fetch replaces it)."""

from __future__ import annotations

import click
from rich.rule import Rule

from ..apps.ping import ping as run_ping
from ..apps.traceroute import traceroute as run_traceroute
from ..sim.faults import Faults
from ._sim import Session
from .app import app
from .options import seed_option
from .world import console, show_world


@app.command()
@seed_option
def demo(seed: int) -> None:
    """A tour: the world, then a traceroute and a ping from the laptop to www.example.com."""
    con = console()
    s = Session(None, seed, Faults(), None)
    con.print(Rule("The world"))
    show_world(con, s.world.describe())
    laptop = s.source(None)
    dst = s.world.resolve("www.example.com")
    con.print(Rule(f"traceroute {dst} (www.example.com) from {laptop.name}"))
    tr = s.run(run_traceroute(laptop, dst))
    for hop in tr.hops:
        addr = hop.address
        name = s.name_of(addr) or "*"
        times = "  ".join("*" if p.rtt is None else f"{p.rtt * 1000:.3f} ms" for p in hop.probes)
        con.print(f"{hop.ttl:2d}  [cyan]{name}[/] ({addr})  {times}")
    con.print(Rule(f"ping {dst}"))
    pr = s.run(run_ping(laptop, dst, count=3))
    for r in pr.replies:
        if r.rtt is not None:
            con.print(
                f"reply from {r.source}: seq={r.sequence} ttl={r.ttl} time={r.rtt * 1000:.3f} ms"
            )
        else:
            con.print(f"seq={r.sequence}: no reply")
    hops = 64 - (pr.replies[0].ttl or 64)
    con.print(f"[dim]reply TTL {pr.replies[0].ttl} = 64 − {hops} routers on the way back[/]")
    click.echo()
