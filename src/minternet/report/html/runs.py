"""What each command puts in its report: a fetch's story, a transfer's states, a DNS walk.

Each function turns one command's run into a :class:`~.model.ReportInput`: the frames and
events it recorded, the world's description, the story as phases of steps (plain text: the
terminal's markup is taken off), where the failure is marked, and the panels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.errors import MarkupError
from rich.text import Text

from ...apps.fetch_run import CLIENT_NODE
from ...trace.bus import FrameRecord, TraceEvent
from ..facts import RunFacts
from ..panels import tcp_panel_html, tls_panel_html
from ..story import Story
from .model import FailureMark, ReportInput, StoryPhase, StoryStep


def plain(markup: str) -> str:
    """The text of a line of rich markup, as the terminal shows it."""
    try:
        return Text.from_markup(markup).plain
    except MarkupError:
        return markup


def _panels(
    facts: RunFacts | None,
    keylog: Sequence[str] | None,
    events: Sequence[TraceEvent],
    frames: Sequence[FrameRecord],
) -> dict[str, str]:
    """The TLS panel (a fetch's) and the TCP panel (:mod:`minternet.report.panels`);
    ``keylog`` shows the secrets' values (``--secrets``). Their ``data-frame`` is an index
    into ``frames`` (all of the run's), which the page maps to its arrows."""
    out: dict[str, str] = {}
    if facts is not None:
        out["TLS"] = tls_panel_html(facts, keylog, frames)
    out["TCP"] = tcp_panel_html(events, frames)
    return out


def failure_time(events: Sequence[TraceEvent]) -> float | None:
    """Where a failed run is marked: the first alert, RST, NXDOMAIN or handshake failure;
    else the last frame the network dropped; else None (the end of the run)."""
    for e in events:
        f = e.fields
        if e.layer == "tls" and e.kind == "alert" and f.get("direction") == "sent":
            return e.time
        if e.layer == "tcp" and e.kind == "send" and "RST" in str(f.get("flags", "")):
            return e.time
        if e.layer == "dns" and e.node == CLIENT_NODE and f.get("rcode") == "NXDOMAIN":
            return e.time
        if e.layer == "http" and e.kind == "handshake-failed":
            return e.time
    drops = [e.time for e in events if e.kind == "drop" and e.layer in ("ip", "sim", "link")]
    return drops[-1] if drops else None


def fetch_report(story: Story, *, secrets: bool = False) -> ReportInput:
    """The report of a simulated ``minternet fetch`` (any scenario)."""
    run = story.run
    phases = tuple(
        StoryPhase(
            ph.title,
            ph.start,
            ph.end,
            tuple(
                StoryStep(
                    s.time,
                    "" if s.heading else s.node,
                    plain(s.text),
                    tuple(plain(d) for d in s.details),
                )
                for s in ph.steps
            ),
        )
        for ph in story.phases
    )
    failure = None
    if story.failure is not None:
        f = story.failure
        failure = FailureMark(f.summary, f.explanation, f.where, failure_time(run.log.events))
    scen = f" · scenario {run.scenario.name}" if run.scenario is not None else ""
    summary = (
        f"{run.page.status} {run.page.response.reason}, {len(run.page.body)} bytes"
        if run.page is not None
        else "no page"
    ) + f" · ended at {run.end_time:.3f} s (virtual)"
    return ReportInput(
        title=f"minternet fetch {run.url} · seed {run.options.seed}{scen}",
        command="fetch",
        topology=run.world.describe(),
        segments=run.world.segments(),
        points=tuple(name for name, _ in run.world.capture_points()),
        frames=run.frames,
        events=run.log.events,
        summary=summary,
        story=phases,
        failure=failure,
        panels=_panels(story.facts, run.keylog if secrets else None, run.log.events, run.frames),
        keylog=tuple(run.keylog),
    )


def _state_steps(
    events: Sequence[TraceEvent], t0: float, t1: float | None
) -> tuple[StoryStep, ...]:
    out = []
    for e in events:
        if e.layer != "tcp" or e.time < t0 or (t1 is not None and e.time >= t1):
            continue
        if e.kind == "state":
            text = f"{e.fields.get('old')} → {e.fields.get('new')}" + (
                f": {e.why}" if e.why else ""
            )
            out.append(StoryStep(e.time, e.node, text))
        elif e.kind == "retransmit":
            f = e.fields
            flags = str(f.get("flags") or "")
            what = (
                f"its {flags}"
                if "SYN" in flags
                else f"{f.get('len')} bytes at relative seq {f.get('rel_seq')}"
            )
            out.append(StoryStep(e.time, e.node, f"retransmits {what}: {e.why or ''}"))
    return tuple(out)


def transfer_report(
    *,
    seed: int,
    topology: dict[str, Any],
    segments: dict[str, str],
    points: tuple[str, ...],
    frames: Sequence[FrameRecord],
    events: Sequence[TraceEvent],
    result: dict[str, Any],
) -> ReportInput:
    """The report of ``minternet tcp-transfer``: handshake, transfer and close as phases,
    each made of the two ends' state changes and retransmissions."""
    client = str(result.get("client", {}).get("node", CLIENT_NODE))
    changes = [e for e in events if e.layer == "tcp" and e.kind == "state" and e.node == client]
    est = next((e.time for e in changes if e.fields.get("new") == "ESTABLISHED"), None)
    leave = next((e.time for e in changes if e.fields.get("old") == "ESTABLISHED"), None)
    start = changes[0].time if changes else 0.0
    phases = (
        StoryPhase("Handshake", start, est, _state_steps(events, start, est)),
        StoryPhase("Transfer", est, leave, _state_steps(events, est, leave) if est else ()),
        StoryPhase("Close", leave, None, _state_steps(events, leave, None) if leave else ()),
    )
    failure = None
    if result.get("failure"):
        failure = FailureMark(
            str(result["failure"]), str(result["failure"]), client, failure_time(events)
        )
    size = result.get("size", 0)
    if "intact" in result:
        rx = result.get("retransmissions") or {}
        summary = (
            f"{size:,} bytes each way · "
            + ("intact (sha256 equal both ways)" if result["intact"] else "NOT intact")
            + f" · retransmissions: client {rx.get('client')}, server {rx.get('server')}"
        )
    else:
        summary = f"{size:,} bytes each way · no connection"
    return ReportInput(
        title=f"minternet tcp-transfer --size {size} · seed {seed}",
        command="tcp-transfer",
        topology=topology,
        segments=segments,
        points=points,
        frames=frames,
        events=events,
        summary=summary,
        story=phases,
        failure=failure,
        panels=_panels(None, None, events, frames),
    )


def dig_report(
    *,
    seed: int,
    question: str,
    topology: dict[str, Any],
    segments: dict[str, str],
    points: tuple[str, ...],
    frames: Sequence[FrameRecord],
    events: Sequence[TraceEvent],
    failure: str | None,
) -> ReportInput:
    """The report of ``minternet dig --trace``: the resolver's walk as one phase."""
    steps = []
    for e in events:
        if e.layer != "dns" or e.kind not in ("query", "response", "referral", "resolved",
                                              "timeout", "lookup", "scrub"):  # fmt: skip
            continue
        f = e.fields
        bits = [f"{k}={f[k]}" for k in ("server", "name", "qtype", "rcode", "address") if k in f]
        text = f"{e.kind} " + " ".join(bits) + (f" — {e.why}" if e.why else "")
        steps.append(StoryStep(e.time, e.node, text))
    start = steps[0].time if steps else 0.0
    end = steps[-1].time if steps else None
    mark = None
    if failure is not None:
        mark = FailureMark(failure, failure, "DNS", failure_time(events))
    return ReportInput(
        title=f"minternet dig {question} --trace · seed {seed}",
        command="dig",
        topology=topology,
        segments=segments,
        points=points,
        frames=frames,
        events=events,
        summary=failure or "answered",
        story=(StoryPhase("The resolver's walk from the root", start, end, tuple(steps)),),
        failure=mark,
    )


__all__ = ["dig_report", "failure_time", "fetch_report", "plain", "transfer_report"]
