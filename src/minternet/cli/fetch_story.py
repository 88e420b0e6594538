"""The simulated ``minternet fetch``: run the page load, tell its story, write what was asked.

Used by ``minternet fetch`` (without ``--real``) and by ``minternet demo``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from ..apps.browser import Page
from ..apps.fetch_run import SCENARIOS, FetchOptions, FetchRun, run_fetch, with_overrides
from ..errors import ConfigError
from ..report.compare_tls import comparison_lines, figures
from ..report.dhcp import conflict_paragraph
from ..report.html import write_report
from ..report.html.runs import fetch_report
from ..report.nat import blocked_paragraph
from ..report.story import Story, build_story, story_lines
from ..report.summary import fetch_summary
from ..sim.faults import Faults
from ..tls.negotiate import parse_versions
from ..tls.pki import SIM_EPOCH
from ..trace.bus import FrameRecord
from ..trace.pcapng import PcapngWriter
from .exits import OutcomeFailed
from .options import (
    FaultOptions,
    cipher_option,
    fault_options,
    html_option,
    json_option,
    pcap_option,
    seed_option,
    site_option,
    world_option,
)

F = TypeVar("F", bound=Callable[..., Any])


def story_options(f: F) -> F:
    """The options of a simulated fetch (added to ``minternet fetch``)."""
    opts = [
        seed_option,
        click.option(
            "--kex",
            type=click.Choice(["ecdhe", "rsa"]),
            default=None,
            help="Key exchange the browser offers (default: all; the server picks ECDHE).",
        ),
        cipher_option,
        click.option(
            "--cc",
            type=click.Choice(["newreno", "cubic"]),
            default=None,
            help="Congestion control of every simulated host (default: each host's, NewReno "
            'unless the world file says congestion_control = "cubic").',
        ),
        site_option,
        world_option,
        pcap_option,
        click.option(
            "--pcap-at",
            "pcap_at",
            multiple=True,
            metavar="NODE[/IFACE]",
            help="Capture only at these points (like tcpdump -i there); default: "
            "every interface of the world.",
        ),
        click.option(
            "--pcap-secrets/--no-pcap-secrets",
            default=True,
            show_default=True,
            help="Put the TLS secrets into the pcapng (Wireshark decrypts on opening).",
        ),
        json_option,
        html_option,
        click.option(
            "--secrets",
            is_flag=True,
            help="Show the pre-master secret, master secret and session keys.",
        ),
        click.option(
            "--scenario",
            default=None,
            metavar="NAME",
            help="A failure story; `--scenario list` lists them.",
        ),
        click.option("-q", "--quiet", is_flag=True, help="Only the page and a summary."),
        click.option("-v", "--verbose", is_flag=True, help="Add every frame to the story."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return fault_options(f)


def console() -> Console:
    con = Console(highlight=False)
    if not con.is_terminal:
        con = Console(highlight=False, width=max(con.width, 120), soft_wrap=False)
    return con


def list_scenarios() -> None:
    click.echo("Failure stories (minternet fetch --scenario NAME):")
    for s in SCENARIOS.values():
        click.echo(f"  {s.name:13} {s.title}: {s.change}")
    click.echo(
        "Each ends with an explanation and exit status 1; heavy-loss exits 0 if the "
        "page still arrives (slowly), 1 if it does not."
    )


def simulated_fetch(
    url: str,
    *,
    seed: int,
    kex: str | None,
    cipher: tuple[str, ...],
    site_dir: Path | None,
    world_file: Path | None,
    pcap: Path | None,
    pcap_secrets: bool,
    pcap_at: tuple[str, ...],
    as_json: bool,
    secrets: bool,
    scenario: str | None,
    quiet: bool,
    verbose: bool,
    keylog: Path | None,
    output: Path | None,
    raw: bool,
    include: bool,
    timeout: float,
    faults: FaultOptions,
    tls: str | None = None,
    compare_tls: bool = False,
    html: Path | None = None,
    cc: str | None = None,
) -> None:
    """Run and show a simulated fetch; :class:`OutcomeFailed` when the page did not arrive
    (after the story or the JSON, which say why at length). ``tls``: None or ``"1.2"`` tell
    the seed's TLS 1.2 story, ``"1.3"`` (or ``"both"``: both ends offer both) the TLS 1.3
    one; ``compare_tls`` runs 1.2 and 1.3 on the same seed and shows them side by side."""
    if scenario == "list":
        list_scenarios()
        return
    versions = parse_versions(tls) if tls is not None else ("1.2",)
    if versions != ("1.2",) and (kex == "rsa" or cipher):
        raise ConfigError("--kex rsa and --cipher choose TLS 1.2 suites; TLS 1.3 has neither")
    opts = FetchOptions(
        url=url,
        seed=seed,
        faults=faults.faults,
        kex=kex,  # type: ignore[arg-type]
        cipher=":".join(cipher) or None,
        site_dir=site_dir,
        world_file=world_file,
        scenario=scenario,
        timeout=timeout,
        tls=versions,
        cc=cc,  # type: ignore[arg-type]
    )
    outputs = Outputs(pcap, pcap_secrets, pcap_at, keylog, html, secrets)
    if compare_tls:
        if tls is not None:
            raise ConfigError("--compare-tls runs TLS 1.2 and TLS 1.3: --tls picks one")
        if output is not None or raw or include:
            raise ConfigError("-o, --raw and -i show one run's page, not --compare-tls")
        compare(opts, as_json=as_json, outputs=outputs)
        return
    run = run_fetch(opts)
    story = build_story(run, secrets=secrets)
    outputs.write(run, story)
    if as_json:
        click.echo(json.dumps(fetch_summary(story), indent=2, sort_keys=False))
    else:
        baseline = None
        if run.scenario is not None and run.scenario.may_succeed and run.ok:
            # measured, not quoted: the same seed and world without the scenario's change
            clean = run_fetch(replace(opts, scenario=None, faults=Faults()))
            baseline = page_time(build_story(clean))
        show(
            story,
            story_lines(story, verbose=verbose),
            baseline=baseline,
            quiet=quiet,
            output=output,
            raw=raw,
            include=include,
        )
    failed(run)


def failed(run: FetchRun) -> None:
    """Raise :class:`OutcomeFailed` (exit 1, one line) if the page did not arrive."""
    if not run.ok:
        f = run.failure
        why = f"{f.summary} (phase {f.phase}, at {f.where})" if f is not None else "failed"
        raise OutcomeFailed(f"{run.url}: {why}")


@dataclass(frozen=True, slots=True)
class Outputs:
    """The files a fetch writes (``--pcap``, ``--keylog``, ``--html``): for ``--compare-tls``
    one of each per run, named by its version (:func:`per_version`)."""

    pcap: Path | None = None
    pcap_secrets: bool = True
    pcap_at: tuple[str, ...] = ()
    keylog: Path | None = None
    html: Path | None = None
    secrets: bool = False

    def write(self, run: FetchRun, story: Story, version: str | None = None) -> None:
        """The run's capture, key log and page; ``version``: one run of ``--compare-tls``."""
        pcap, keylog = per_version(self.pcap, version), per_version(self.keylog, version)
        write_outputs(run, pcap, self.pcap_secrets, keylog, self.pcap_at)
        html = per_version(self.html, version)
        if html is not None:
            write_report(html, fetch_report(story, secrets=self.secrets))


def per_version(path: Path | None, version: str | None) -> Path | None:
    """``run.html`` → ``run-tls1.3.html``: the file of one run of ``--compare-tls``
    (``version`` None: the path as given)."""
    if path is None or version is None:
        return path
    return path.with_name(f"{path.stem}-tls{version}{path.suffix}")


def compare(opts: FetchOptions, *, as_json: bool, outputs: Outputs = Outputs()) -> None:
    """``--compare-tls``: the same fetch over TLS 1.2 and TLS 1.3, side by side; each run's
    capture, key log and page go to files named by its version (:func:`per_version`)."""
    versions = ("1.2", "1.3")
    runs = [run_fetch(with_overrides(opts, tls=(v,))) for v in versions]
    stories = [build_story(r, secrets=outputs.secrets) for r in runs]  # from their facts
    for run, story, v in zip(runs, stories, versions, strict=True):
        outputs.write(run, story, v)
    a, b = (figures(r) for r in runs)
    if as_json:
        click.echo(json.dumps({"tls12": a.as_dict(), "tls13": b.as_dict()}, indent=2))
    else:
        con = console()
        for line in comparison_lines(a, b):
            con.print(line)
        for st in stories:
            con.print(summary_line(st))
    for r in runs:
        failed(r)


def write_outputs(
    run: FetchRun,
    pcap: Path | None,
    with_secrets: bool,
    keylog: Path | None,
    points: tuple[str, ...] = (),
) -> None:
    """Write the pcapng and the key log: by default one capture point per link-layer
    segment (:meth:`World.capture_points`: each frame once per hop, so tshark's TCP
    analysis of the laptop's connection sees every segment once), or only ``points``."""
    if pcap is not None:
        ifaces = run.world.capture_points()
        if points:
            ifaces = [(n, d) for n, d in run.world.interfaces() if _at(n, points)]
            if not ifaces:
                known = ", ".join(n for n, _ in run.world.interfaces())
                raise ConfigError(f"--pcap-at {', '.join(points)}: no such interface ({known})")
        # dated like the world: virtual time 0 is SIM_EPOCH (2026-06-01), as in HTTP Date
        # and the certificates' validity
        writer = PcapngWriter(
            ifaces, application="minternet fetch", epoch=int(SIM_EPOCH.timestamp())
        )
        if with_secrets and run.keylog:
            writer.add_decryption_secrets(run.keylog_text)
        for fr in captured(run, {n for n, _ in ifaces}):
            writer(fr)
        writer.write(pcap)
    if keylog is not None:
        keylog.write_text(run.keylog_text, encoding="ascii")


def captured(run: FetchRun, points: set[str]) -> list[FrameRecord]:
    """The frames seen at ``points``. A frame's narration (``comment``) is written where it
    was sent; when only the other end of its segment is a capture point, the comment moves
    to that end's copy of the same bytes, so the narration of every hop survives."""
    segment = run.world.segments()
    pending: dict[tuple[str, bytes], list[str]] = {}
    out: list[FrameRecord] = []
    for fr in run.frames:
        name = f"{fr.node}/{fr.iface}"
        key = (segment.get(name, name), fr.data)
        if name not in points:
            if fr.comment and fr.direction == "out":
                pending.setdefault(key, []).append(fr.comment)
            continue
        waiting = pending.get(key)
        if fr.direction == "in" and waiting and not fr.comment:
            fr = replace(fr, comment=waiting.pop(0))
        out.append(fr)
    return out


def _at(name: str, points: tuple[str, ...]) -> bool:
    node = name.split("/")[0]
    return any(p in (name, node) for p in points)


def show(
    story: Story,
    lines: list[str],
    *,
    quiet: bool,
    baseline: float | None = None,
    output: Path | None = None,
    raw: bool = False,
    include: bool = False,
) -> None:
    run = story.run
    con = console()
    if not quiet:
        for line in lines:
            con.print(line)
        con.print()
    page = run.page
    if page is not None and run.failure is None:
        if include:
            print_head(page)
        if output is not None:
            output.write_bytes(page.body)
        elif raw:
            sys.stdout.buffer.write(page.body)
            sys.stdout.flush()
        else:
            con.print(
                Panel(
                    escape(page.render().rstrip("\n")), title=f"{page.url} — rendered", expand=False
                )
            )
    con.print(summary_line(story))
    if story.failure is not None:
        f = story.failure
        con.print(
            Panel(
                escape(f.explanation),
                title=f"[red]What happened: {escape(f.summary)}[/]",
                subtitle=f"phase {f.phase} · at {escape(f.where)}",
                expand=False,
            )
        )
    elif run.scenario is not None and run.scenario.inbound is not None:
        why = blocked_paragraph(story.facts.nat) or "Nothing reached the NAT."
        con.print(Panel(escape(why), title="[yellow]What happened: the NAT blocked it[/]",
                        expand=False))  # fmt: skip
    elif run.scenario is not None and run.scenario.squatter is not None:
        why = conflict_paragraph(story.facts.dhcp) or "The DHCP probe found no conflict."
        con.print(Panel(escape(why), title="[yellow]What happened: the address was taken[/]",
                        expand=False))  # fmt: skip
    elif run.scenario is not None and run.scenario.may_succeed:
        n = len(story.facts.retransmissions)
        loss = run.options.faults.loss or (run.scenario.faults.loss if run.scenario.faults else 0)
        took = page_time(story)
        compare = (
            f"; the same seed without the loss takes {baseline:.3f} s"
            + (f", so the loss cost {took - baseline:.3f} s" if took > baseline else "")
            if baseline is not None
            else ""
        )
        con.print(
            Panel(
                f"With {loss * 100:g} % of the frames lost in each direction on the laptop's "
                f"access line, the page still arrived intact: TCP retransmitted {n} "
                "segment(s) (timeouts with exponential backoff, fast retransmits on duplicate "
                "ACKs and SACK), so every lost byte was sent again. The page was complete "
                f"{took:.3f} s (virtual) after the browser began{compare}. "
                "Exit status 0: the fetch succeeded.",
                title="[yellow]What happened: heavy loss, recovered by TCP[/]",
                expand=False,
            )
        )


def print_head(page: Page) -> None:
    """``-i``: the response's status line and header fields, then an empty line."""
    r = page.response
    click.echo(f"HTTP/{r.version} {r.status} {r.reason}")
    for name, value in r.headers:
        click.echo(f"{name}: {value}")
    click.echo("")


def page_time(story: Story) -> float:
    """How long the page load took: from the browser's first step (phase 1, after the laptop
    joined the network) to the end of phase 3 (the browser's close_notify)."""
    end = story.phases[2].end
    start = story.phases[0].start or 0.0
    return (end if end is not None else story.run.end_time) - start


def summary_line(story: Story) -> str:
    run = story.run
    page = run.page
    retrans = len(story.facts.retransmissions)
    if page is not None and story.failure is None:
        suite = story.facts.suite or "plain HTTP"
        return (
            f"[green]✓[/] {page.url}: {page.status} {escape(page.response.reason)}, "
            f"{len(page.body)} bytes from {page.address[0]}:{page.address[1]} over {suite}; "
            f"{len(run.frames)} frames, {retrans} TCP retransmission(s), "
            f"TIME-WAIT over at {run.end_time:.3f} s (virtual)"
        )
    summary = story.failure.summary if story.failure is not None else "failed"
    return f"[red]✗[/] {run.url}: {escape(summary)}"


__all__ = [
    "failed",
    "print_head",
    "show",
    "simulated_fetch",
    "story_options",
    "summary_line",
    "write_outputs",
]
