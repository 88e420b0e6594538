"""``minternet world``: the nodes, interfaces, MACs, addresses, routes and links."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from ..sim.world import load_world
from .options import json_option, seed_option, world_option


def console() -> Console:
    """A rich console; wide enough for the tables when output is not a terminal."""
    con = Console(highlight=False)
    if not con.is_terminal:
        con = Console(highlight=False, width=max(con.width, 140))
    return con


@click.command()
@seed_option
@json_option
@world_option
def world(seed: int, as_json: bool, world_file: Path | None) -> None:
    """Show the simulated world (the built-in one, or --world FILE)."""
    w = load_world(world_file, seed=seed)
    desc = w.describe()
    if as_json:
        click.echo(json.dumps(desc, indent=2))
        return
    show_world(console(), desc)


def show_world(con: Console, desc: dict[str, object]) -> None:
    nodes = desc["nodes"]
    links = desc["links"]
    assert isinstance(nodes, list) and isinstance(links, list)
    t = Table(title="Nodes and interfaces", title_justify="left")
    for col in ("node", "kind", "interface", "MAC", "address", "MTU"):
        t.add_column(col)
    for n in nodes:
        if n["kind"] == "switch":
            t.add_row(n["name"], "switch", ", ".join(n["ports"]), "", "(learning, no address)", "")
            continue
        label = n["name"] if n["hostname"] == n["name"] else f"{n['name']}\n{n['hostname']}"
        for i, iface in enumerate(n["interfaces"]):
            t.add_row(
                label if i == 0 else "",
                n["kind"] if i == 0 else "",
                iface["name"],
                iface["mac"],
                iface["address"],
                str(iface["mtu"]),
            )
    con.print(t)
    r = Table(title="Routing tables (longest prefix first)", title_justify="left")
    for col in ("node", "destination", "via", "dev", "origin"):
        r.add_column(col)
    for n in nodes:
        if n["kind"] == "switch":
            continue
        for i, route in enumerate(n["routes"]):
            r.add_row(
                n["name"] if i == 0 else "",
                route["to"],
                route["via"] or "direct",
                route["dev"],
                route["origin"],
            )
    con.print(r)
    lt = Table(title="Links", title_justify="left")
    for col in ("a", "b", "latency", "bandwidth", "MTU", "faults"):
        lt.add_column(col)
    for link in links:
        faults = ", ".join(f"{k} {v:g}" for k, v in link["faults"].items())
        lt.add_row(
            link["a"],
            link["b"],
            f"{link['latency_ms']:g} ms",
            f"{link['bandwidth_mbps']:g} Mb/s",
            str(link["mtu"]),
            faults,
        )
    con.print(lt)
