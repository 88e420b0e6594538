"""``minternet tap up`` / ``minternet tap down``: our stack on a TAP device (issue 8).

``tap up`` runs in the foreground until Ctrl-C (or SIGTERM/SIGHUP) and removes everything it
created on the way out; it leaves a small state file in :data:`STATE_DIR` so that
``tap down`` — from another terminal, or after a run was killed — can stop it and remove
whatever namespaces and links of ours are left.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import click

from ..drivers.interrupt import signals_as_interrupt
from ..drivers.netns import DEFAULT_SUBNET, PREFIX, remove_leftovers, require_root
from ..drivers.realtime import RealtimeLoop
from ..drivers.tapworld import RUN_DIR
from ..trace.bus import TraceBus, TraceEvent
from ..trace.pcapng import PcapngWriter
from .options import (
    FaultOptions,
    cafile_option,
    fault_options,
    json_option,
    keylog_option,
    output_option,
    pcap_option,
    site_option,
    world_option,
)
from .serve import access_line, load_site

STATE_DIR = RUN_DIR


def ca_file(given: Path | None, ns: str) -> Path:
    if given is not None:
        return given
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    return STATE_DIR / f"{ns}-ca.pem"


class KeyLogSink:
    """Collects the server's NSS key log lines (for the pcapng's Decryption Secrets Block)
    and appends each to ``path`` as it comes, if given."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)
        if self.path is not None:
            with self.path.open("a", encoding="ascii") as f:
                f.write(line + "\n")

    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)


def _state_files() -> list[Path]:
    if not STATE_DIR.is_dir():
        return []
    return sorted(STATE_DIR.glob("tap-*.json"))


def write_state(info: dict[str, Any]) -> Path:
    """Record a running ``tap up`` (its pid, namespace, interface) for ``tap down``."""
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    path = STATE_DIR / f"tap-{os.getpid()}.json"
    path.write_text(json.dumps(info))
    return path


def _is_our_tap_up(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(b"minternet" in part for part in cmdline) and (
        b"up" in cmdline or b"world" in cmdline
    )


def _stop(pid: int, timeout: float = 30.0) -> bool:
    """SIGTERM a running ``tap up`` and wait for it to clean up; True if it has gone.

    Removing a namespace (and its TAP) can take seconds on a busy machine, so the wait is
    generous, as an init system's stop timeout is."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to reap it counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


@click.group()
def tap() -> None:
    """Our whole stack on a Linux TAP device, talking to the kernel's TCP/IP (needs root)."""


@tap.command()
@click.option(
    "--prefix",
    default=PREFIX,
    hidden=True,
    help="Only namespaces whose name starts with this (tests use it to stay in their lane).",
)
def down(prefix: str) -> None:
    """Stop any running `tap up` and remove every namespace and link it left behind."""
    require_root("minternet tap down")
    if not prefix.startswith(PREFIX):
        raise click.BadParameter(f"must start with {PREFIX!r}", param_hint="--prefix")
    scoped = prefix != PREFIX
    stopped = []
    for path in _state_files():
        try:
            info = json.loads(path.read_text())
            pid = int(info["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)
            continue
        if scoped and not str(info.get("netns", "")).startswith(prefix):
            continue
        if pid != os.getpid() and _is_our_tap_up(pid) and _stop(pid):
            stopped.append(pid)
        path.unlink(missing_ok=True)
    removed = remove_leftovers(prefix, None) if scoped else remove_leftovers()
    for pid in stopped:
        click.echo(f"stopped tap up (pid {pid})")
    for name in removed:
        click.echo(f"removed {name}")
    if not stopped and not removed:
        click.echo("nothing to remove")


@tap.command()
@click.option("--subnet", default=DEFAULT_SUBNET, show_default=True, help="The private subnet.")
@click.option(
    "--duration",
    type=click.FloatRange(min=0),
    default=None,
    help="Stop after this many seconds (default: run until Ctrl-C or `tap down`).",
)
@click.option(
    "--loss",
    type=click.FloatRange(0.0, 0.99),
    default=0.0,
    help="Drop this share of frames in each direction at our end of the cable.",
)
@click.option(
    "--kernel-loss",
    type=click.FloatRange(0.0, 0.99),
    default=0.0,
    help="Drop this share of frames in each direction in the namespace, by the kernel "
    "(nftables on a bridge between the TAP and the kernel's veth; needs nft).",
)
@site_option
@click.option(
    "--ca-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the CA certificate here (default: /run/minternet/<namespace>-ca.pem).",
)
@click.option(
    "--client",
    "client_url",
    metavar="URL",
    default=None,
    help="Instead of serving: fetch URL with our browser from a server in the namespace "
    "(names resolve to the kernel side), show the page, and exit.",
)
@cafile_option
@output_option  # with --client
@keylog_option
@click.option("--netns", "ns_name", default=None, hidden=True, help="Namespace name (tests).")
@click.option(
    "--ready-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    hidden=True,
    help="With --client: wait for this file to exist before fetching (tests start a server).",
)
@pcap_option
@json_option
def up(
    subnet: str,
    duration: float | None,
    loss: float,
    kernel_loss: float,
    site_dir: Path | None,
    ca_out: Path | None,
    client_url: str | None,
    cafile: tuple[Path, ...],
    output: Path | None,
    keylog: Path | None,
    ns_name: str | None,
    ready_file: Path | None,
    pcap: Path | None,
    as_json: bool,
) -> None:
    """Our host on a TAP device; the Linux kernel, in a namespace, at the other end.

    Creates a network namespace holding the kernel's end of a TAP device, gives the kernel
    side the subnet's first address and our host the second, and runs our host (Ethernet,
    ARP, IPv4, ICMP, UDP, TCP — all ours) with our DNS server on 53 and our web server
    behind our TLS on 443, until stopped. Everything it created is removed on exit, Ctrl-C,
    SIGTERM or an error.
    """
    require_root("minternet tap up")
    if ns_name is not None and not ns_name.startswith(PREFIX):
        raise click.BadParameter(f"must start with {PREFIX!r}", param_hint="--netns")
    from ..drivers.taphost import host_on_tap
    from ..drivers.tapservices import fetch_from_kernel_side, start_services

    loop = RealtimeLoop()
    trace = TraceBus()
    capture = PcapngWriter() if pcap is not None else None
    if capture is not None:
        trace.subscribe_frames(capture)
    state: Path | None = None
    summary: dict[str, Any] = {}
    tcp_states: list[str] = []
    log_key = KeyLogSink(keylog)

    if client_url is not None:

        def on_event(ev: TraceEvent) -> None:
            if ev.layer == "tcp" and ev.kind == "state":
                tcp_states.append(str(ev.fields.get("new")))

        trace.subscribe(on_event)
    try:
        with (
            signals_as_interrupt(),
            host_on_tap(
                loop, trace, subnet=subnet, loss=loss, ns_name=ns_name, kernel_loss=kernel_loss
            ) as th,
        ):
            ns = th.net.ns.name
            iface = th.host.interfaces["eth0"]
            if client_url is None:
                services = start_services(
                    th, site=load_site(site_dir), ca_out=ca_file(ca_out, ns), keylog=log_key
                )
            else:
                services = start_services(th, dns=False, discard=False, https=False)
            if capture is not None:
                capture.add_interface(iface.full_name, iface.describe())
            summary = {
                "netns": ns,
                "tap": th.net.ifname,
                "subnet": str(th.net.subnet),
                "kernel": th.kernel_address,
                "host": th.address,
                "host_mac": iface.mac,
                "services": services.names,
                "ca_file": None if services.ca_file is None else str(services.ca_file),
            }
            state = write_state({"pid": os.getpid(), **summary})
            stop_at = None if duration is None else loop.now() + duration
            # from here on a `tap down` (SIGTERM) may come at any moment, even while we
            # still print the first lines: it ends the run as Ctrl-C does, with cleanup
            try:
                if not as_json and client_url is not None:  # the page goes to stdout
                    click.echo(
                        f"our host {th.address} ({iface.mac}) is up on {th.net.ifname}; fetching "
                        f"{client_url} from the kernel side ({th.kernel_address}, namespace {ns})",
                        err=True,
                    )
                elif not as_json:
                    click.echo(
                        f"our host {th.address} ({iface.mac}) is up on {th.net.ifname}; "
                        f"the kernel is {th.kernel_address} in namespace {ns}"
                    )
                    click.echo(f"  services: {', '.join(services.names)}")
                    click.echo(f"  try: sudo ip netns exec {ns} ping {th.address}")
                    if "dns:53" in services.names:
                        click.echo(
                            f"       sudo ip netns exec {ns} dig @{th.address} www.example.com"
                        )
                    if services.ca_file is not None:
                        click.echo(
                            f"       sudo ip netns exec {ns} curl --cacert {services.ca_file} "
                            "https://www.example.com/"
                        )
                    click.echo("  stop: Ctrl-C or `minternet tap down`", nl=True)
                    sys.stdout.flush()
                if client_url is not None:
                    page = loop.run_until_complete(
                        loop.create_task(
                            _client(
                                th, client_url, cafile, ready_file, fetch_from_kernel_side, log_key
                            )
                        ),
                        timeout=duration,
                    )
                    summary["client"] = _client_summary(page, tcp_states)
                else:
                    loop.run_forever(lambda: stop_at is not None and loop.now() >= stop_at)
            except KeyboardInterrupt:
                summary["interrupted"] = True
            services.stop()
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.sleep(0.05))
            summary.update(
                frames_in=th.port.frames_in,
                frames_out=th.port.frames_out,
                dropped=th.port.dropped,
                host_drops=dict(th.host.drops),
                realtime=loop.lateness.as_dict(),
            )
            if kernel_loss:
                summary["kernel_loss"] = {
                    way: {"seen": seen, "dropped": dropped}
                    for way, (seen, dropped) in th.net.loss_counters().items()
                }
    finally:
        loop.close()
        if state is not None:
            state.unlink(missing_ok=True)
        if ca_out is None and summary.get("ca_file"):
            Path(summary["ca_file"]).unlink(missing_ok=True)
        if capture is not None and pcap is not None:
            if log_key.lines:
                capture.add_decryption_secrets(log_key.text())
            capture.write(pcap)
            summary["pcap"] = str(pcap)
    if client_url is not None and "client" in summary:
        body: bytes = summary["client"].pop("body")
        if output is not None:
            output.write_bytes(body)
        elif not as_json:
            click.echo(summary["client"].pop("rendered"), nl=False)
        summary["client"].pop("rendered", None)
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(
            f"removed namespace {summary.get('netns')} and {summary.get('tap')}; "
            f"frames in {summary.get('frames_in')}, out {summary.get('frames_out')}",
            err=client_url is not None,
        )
        for way, c in summary.get("kernel_loss", {}).items():
            click.echo(
                f"kernel-side loss {way}: dropped {c['dropped']} of {c['seen']} frames",
                err=client_url is not None,
            )


async def _client(
    th: Any, url: str, cafile: tuple[Path, ...], ready: Path | None, fetch: Any, keylog: Any
) -> Any:
    loop = th.host.loop
    while ready is not None and not ready.exists():
        await loop.sleep(0.05)
    page = await fetch(th, url, cafile, keylog=keylog)
    await loop.sleep(0.2)  # our last ACK of the close handshake leaves through the TAP
    return page


def _client_summary(page: Any, states: list[str]) -> dict[str, Any]:
    """The fetched page and the states our TCP connection went through."""
    return {
        "url": str(page.url),
        "status": page.status,
        "bytes": len(page.body),
        "body": page.body,
        "rendered": page.render(),
        "tcp_states": states,
    }


CHROMIUM_FLAGS = "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run"


@tap.command("world")
@world_option
@click.option(
    "--as",
    "as_node",
    metavar="NODE",
    default=None,
    help="The kernel takes this host's place (its cable, MAC, address and gateway); "
    "default: a new host 'kernel' on the laptop's LAN.",
)
@click.option(
    "--dhcp/--static",
    default=True,
    show_default=True,
    help="The namespace's address, gateway and DNS server: a lease from the world's DHCP "
    "server on its LAN (busybox udhcpc in the namespace), or set statically.",
)
@fault_options
@site_option
@click.option(
    "--duration",
    type=click.FloatRange(min=0),
    default=None,
    help="Stop after this many seconds (default: run until Ctrl-C or `tap down`).",
)
@keylog_option
@pcap_option
@json_option
@click.option("--netns", "ns_name", default=None, hidden=True, help="Namespace name (tests).")
def world_cmd(
    world_file: Path | None,
    as_node: str | None,
    dhcp: bool,
    faults: FaultOptions,
    site_dir: Path | None,
    duration: float | None,
    keylog: Path | None,
    pcap: Path | None,
    as_json: bool,
    ns_name: str | None,
) -> None:
    """The whole world in real time, with the Linux kernel in it as one of its hosts.

    The world (built-in, or --world FILE) runs on the wall clock: its routers, NAT,
    resolver, name servers and web server, its links' latencies and bandwidths, and the
    fault options on the home access line. A TAP device in a fresh network namespace takes
    the place of a host's network card, so programs run in the namespace (ping,
    traceroute, dig, curl, Chromium) are that host. The namespace trusts the web server's
    CA (a CA file for curl, an NSS database for Chromium). Prints ready-to-paste commands
    and the web server's access log; everything is removed on Ctrl-C, SIGTERM or `tap down`.
    """
    require_root("minternet tap world")
    if ns_name is not None and not ns_name.startswith(PREFIX):
        raise click.BadParameter(f"must start with {PREFIX!r}", param_hint="--netns")
    from ..drivers.tapworld import world_on_tap

    trace = TraceBus()
    log_key = KeyLogSink(keylog)

    def on_event(ev: TraceEvent) -> None:
        line = access_line(ev) if ev.layer == "http" else None
        if line is not None and not as_json:
            click.echo(f"{ev.node}: {line}")
            sys.stdout.flush()

    server_trace = TraceBus()
    server_trace.subscribe(on_event)
    loop = RealtimeLoop()
    capture: PcapngWriter | None = None
    if pcap is not None:  # from the start: the namespace's DHCP exchange is in it too
        capture = PcapngWriter(application="minternet tap world", epoch=time.time() - loop.now())
        trace.subscribe_frames(capture)
    state: Path | None = None
    summary: dict[str, Any] = {}
    try:
        with (
            signals_as_interrupt(),
            world_on_tap(
                world_file=world_file,
                as_node=as_node,
                faults=faults.faults,
                trace=trace,
                server_trace=server_trace,
                site=load_site(site_dir),
                ns_name=ns_name,
                keylog=log_key,
                dhcp=dhcp,
                loop=loop,
            ) as tw,
        ):
            if capture is not None:
                for name, description in tw.interfaces():
                    capture.add_interface(name, description)
            summary = _world_summary(tw, faults)
            state = write_state({"pid": os.getpid(), "netns": tw.ns.name, "tap": tw.tap.name})
            stop_at = None if duration is None else loop.now() + duration
            try:  # a `tap down` may come while we still print (see `up`)
                if not as_json:
                    _print_ready(tw, summary)
                loop.run_forever(lambda: stop_at is not None and loop.now() >= stop_at)
            except KeyboardInterrupt:
                summary["interrupted"] = True
            summary.update(
                frames_from_kernel=tw.port.frames_in,
                frames_to_kernel=tw.port.frames_out,
                tap_dropped=tw.port.dropped,
                link_drops={k.name: k.frames_dropped for k in tw.world.links if k.frames_dropped},
                realtime=loop.lateness.as_dict(),
            )
    finally:
        if state is not None:
            state.unlink(missing_ok=True)
        if capture is not None and pcap is not None:
            if log_key.lines:
                capture.add_decryption_secrets(log_key.text())
            capture.write(pcap)
            summary["pcap"] = str(pcap)
    if as_json:
        click.echo(json.dumps(summary))
        return
    drops = sum(summary["link_drops"].values())
    click.echo(
        f"removed namespace {summary['netns']} and {summary['tap']}; frames from the kernel "
        f"{summary['frames_from_kernel']}, to the kernel {summary['frames_to_kernel']}; "
        f"dropped on the world's links {drops}"
    )
    if "realtime" in summary:
        click.echo(f"the world {loop.lateness.describe()}")
        if loop.lateness.behind:
            click.echo(
                "warning: the world fell behind real time (its CPU could not keep up), so "
                "its links' latencies and queues were not kept: frames arrived later, and may "
                "have been dropped more often, than on the world file's links"
            )


def _world_summary(tw: Any, faults: FaultOptions) -> dict[str, Any]:
    k = tw.kernel
    ns = tw.ns.name
    run = f"sudo ip netns exec {ns}"
    commands = [f"{run} ping -c 3 93.184.216.34", f"{run} traceroute -n -I 93.184.216.34"]
    if tw.dns is not None:
        commands.append(f"{run} dig www.example.com")
    if tw.ca_file is not None:
        url = "https://www.example.com/index.html"
        commands.append(f"{run} curl --cacert {tw.ca_file} {url}")
        if tw.home is not None:
            commands.append(
                f"{run} env HOME={tw.home} chromium {CHROMIUM_FLAGS} "
                f"--screenshot=/tmp/minternet.png --window-size=1024,768 {url}"
            )
    return {
        "netns": ns,
        "tap": tw.tap.name,
        "node": k.node,
        "replaces": k.replaces,
        "mac": k.mac,
        "address": k.cidr,
        "gateway": k.gateway,
        "nameserver": k.nameserver,
        "dhcp_server": k.dhcp_server,
        "public_address": tw.access_address(),
        "ca_file": None if tw.ca_file is None else str(tw.ca_file),
        "nss_home": None if tw.home is None else str(tw.home),
        "faults": faults.summary(),
        "impaired_links": [link.name for link in tw.world.impaired_links],
        "notes": tw.notes,
        "commands": commands,
    }


def _print_ready(tw: Any, s: dict[str, Any]) -> None:
    who = f"host {s['replaces']}" if s["replaces"] else f"a new host {s['node']!r} on the LAN"
    click.echo(
        f"the world runs in real time; the Linux kernel in namespace {s['netns']} is {who}: "
        f"{s['address']} ({s['mac']}), gateway {s['gateway']}, DNS {s['nameserver']}"
    )
    how = f"a DHCP lease from {s['dhcp_server']}" if s["dhcp_server"] else "set statically"
    click.echo(f"  its address, gateway and DNS server: {how}")
    click.echo(f"  its traffic leaves the NAT as {s['public_address']}")
    if s["faults"]:
        click.echo(f"  faults: {s['faults']} on {', '.join(s['impaired_links'])}")
    for note in s["notes"]:
        click.echo(f"  note: {note}")
    for i, cmd in enumerate(s["commands"]):
        click.echo(f"  {'try: ' if i == 0 else '     '}{cmd}")
    click.echo("  stop: Ctrl-C or `minternet tap down`")
    sys.stdout.flush()
