"""``minternet world``: the nodes, interfaces, MACs, addresses, routes, links and NAT tables.

``--after fetch`` first runs the default page load in the world (same seed, same bytes as
``minternet fetch``) and shows the world as it is at the end: the home router's NAT table
with the mappings the fetch made, each with its state and when it will expire.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from ..apps.fetch_run import FetchOptions, run_fetch
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
@click.option(
    "--after",
    type=click.Choice(["fetch"]),
    default=None,
    help="Run the default fetch first and show the world after it (NAT mappings, …).",
)
def world(seed: int, as_json: bool, world_file: Path | None, after: str | None) -> None:
    """Show the simulated world (the built-in one, or --world FILE)."""
    if after == "fetch":
        opts = FetchOptions(seed=seed, world_file=world_file, record_frames=False)
        w = run_fetch(opts).world
    else:
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
                (iface["address"] or "(none)")
                + (f" (DHCP {iface['dhcp']})" if iface.get("dhcp") else ""),
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
    lease_rows = [n for n in nodes if n.get("dhcp_leases")]
    if lease_rows:
        dt = Table(title="DHCP leases (RFC 2131)", title_justify="left")
        for col in ("server", "interface", "address", "client MAC", "state", "expires"):
            dt.add_column(col)
        for n in lease_rows:
            for b in n["dhcp_leases"]:
                dt.add_row(n["name"], b["iface"], b["address"], b["chaddr"], b["state"],
                           f"{b['expires']:.3f} s")  # fmt: skip
        con.print(dt)
    nat_rows = [n for n in nodes if n.get("nat")]
    if not nat_rows:
        return
    nt = Table(title="NAT (RFC 3022 NAPT): interfaces and mappings", title_justify="left")
    for col in ("node", "outside", "protocol", "inside", "public", "remote", "state", "expires"):
        nt.add_column(col)
    for n in nat_rows:
        for cfg in n["nat"]:
            nt.add_row(n["name"], cfg["iface"], "", cfg["inside"], cfg["public"], "", "", "")
        for m in n["nat_table"]:
            for s in m["sessions"]:
                nt.add_row(
                    "", "", m["protocol"], m["inside"], m["public"], s["remote"], s["state"],
                    f"{s['expires']:.3f} s",
                )  # fmt: skip
    con.print(nt)
