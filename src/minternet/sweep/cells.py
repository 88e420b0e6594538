"""One sweep cell run in this process: the same run functions the CLI uses, one flat row out.

``fetch`` cells run :func:`~minternet.apps.fetch_run.run_fetch` and flatten the JSON
summary of ``minternet fetch --json`` (:func:`~minternet.report.summary.fetch_summary`);
``tcp-transfer`` cells run :func:`~minternet.apps.tcp_transfer.run_transfer` (the report of
``tcp-transfer --json``); ``dig`` cells run :func:`~minternet.apps.dig.dig` on the laptop
against the ISP resolver in a world with its DNS installed, as ``minternet dig`` does.

A row holds the cell's axes, the outcome (``status`` ok / failed / error, the failure's kind,
phase and place), the times (phase durations, handshake, first RTT sample, the virtual end),
counts (retransmissions, retransmission timeouts, frames, bytes on the laptop's wire) and the
cell's wall time. Everything but ``wall_s`` is a function of the cell alone: the same row
whichever process, worker or engine runs it. A run that raises is a row with status
``error`` and the error's one line; it never stops the sweep.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from .. import __version__
from ..apps.dig import dig
from ..apps.dns_world import install_dns
from ..apps.fetch_run import CLIENT_NODE, SERVER_NODE, FetchOptions, run_fetch
from ..apps.tcp_transfer import TransferFailed, run_transfer
from ..dns import zones_builtin
from ..dns.codes import type_from_text
from ..dns.name import Name
from ..errors import ConfigError
from ..loop import LoopTimeout
from ..report.story import build_story
from ..report.summary import fetch_summary
from ..sim.faults import Faults
from ..sim.world import World, load_world
from ..trace.bus import FrameRecord, TraceEvent
from .spec import AXES, Cell

RUN_OPTIONS: dict[str, Any] = {"fetch": FetchOptions, "tcp-transfer": run_transfer, "dig": dig}
"""What each kind of run takes its options from (checked by :mod:`.spec`)."""

SEED_STATE: frozenset[str] = frozenset({"fetch"})
"""Runs whose first cell of a seed leaves work behind for the seed's other cells in the same
process: a fetch mints the seed's PKI (three 2048-bit RSA keys, ~0.5 CPU s, against ~20 ms
for a page load) and keeps it for the process's life (``apps.fetch_run``)."""

# The row's columns and their Arrow types ("int", "float", "str", "bool"); axes first.
OUTCOME_COLUMNS: tuple[tuple[str, str], ...] = (
    ("status", "str"),
    ("error", "str"),
    ("failure_kind", "str"),
    ("failure_phase", "int"),
    ("failure_where", "str"),
    ("failure_summary", "str"),
    ("duration_s", "float"),
    ("dns_s", "float"),
    ("connect_s", "float"),
    ("http_s", "float"),
    ("close_s", "float"),
    ("handshake_s", "float"),
    ("rtt_s", "float"),
    ("retransmissions", "int"),
    ("rtos", "int"),
    ("frames", "int"),
    ("wire_bytes", "int"),
    ("body_bytes", "int"),
    ("http_status", "int"),
    ("tls_version", "str"),
    ("cipher_suite", "str"),
    ("rcode", "str"),
    ("answers", "int"),
    ("goodput_up_bps", "float"),
    ("goodput_down_bps", "float"),
    ("end_time_s", "float"),
    ("wall_s", "float"),
)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("key", "str"),
    ("version", "str"),
    ("what", "str"),
    *((a.name, a.kind) for a in AXES.values()),
    *OUTCOME_COLUMNS,
)
NONDETERMINISTIC = ("wall_s",)


class _Counters:
    """Counts what a run's trace says without keeping it: RTO expiries and frames."""

    def __init__(self, world: World, nodes: tuple[str, ...]) -> None:
        self.nodes = nodes
        self.rtos = 0
        self.rtt: float | None = None
        self.frames = 0
        self.wire_bytes = 0
        world.trace.subscribe(self.event)
        world.trace.subscribe_frames(self.frame)

    def event(self, e: TraceEvent) -> None:
        if e.layer == "tcp" and e.node in self.nodes:
            if e.kind == "rto":
                self.rtos += 1
            elif e.kind == "rtt" and self.rtt is None and e.node == self.nodes[0]:
                self.rtt = float(e.fields["srtt"])

    def frame(self, fr: FrameRecord) -> None:
        self.frames += 1
        if fr.node == self.nodes[0]:
            self.wire_bytes += len(fr.data)


def _faults(cell: Cell) -> Faults:
    return Faults(
        loss=float(cell.get("loss") or 0.0),
        reorder=float(cell.get("reorder") or 0.0),
        duplicate=float(cell.get("duplicate") or 0.0),
        corrupt=float(cell.get("corrupt") or 0.0),
        latency=float(cell.get("latency") or 0.0) / 1000.0,
    )


def _run_options(cell: Cell) -> dict[str, Any]:
    """The axes the run takes by name (``kex``, ``cc``, ``tls``), when the sweep sets them."""
    out: dict[str, Any] = {}
    for name, value in cell.params:
        axis = AXES[name]
        if axis.run_option and value is not None:
            out[name] = axis.to_run(value) if axis.to_run is not None else value
    return out


def _fetch(cell: Cell) -> dict[str, Any]:
    opts = FetchOptions(
        seed=int(cell.get("seed") or 0),
        faults=_faults(cell),
        cipher=cell.get("cipher"),  # type: ignore[arg-type]
        scenario=cell.get("scenario"),  # type: ignore[arg-type]
        **_run_options(cell),
    )
    run = run_fetch(opts)
    s = fetch_summary(build_story(run))
    phases = {p["phase"]: p for p in s["phases"]}

    def span(n: int) -> float | None:
        p = phases.get(n)
        if p is None or p["start"] is None or p["end"] is None:
            return None
        return round(float(p["end"]) - float(p["start"]), 6)

    first_rtt = next(
        (float(e.fields["srtt"]) for e in run.log.of("tcp", "rtt") if e.node == CLIENT_NODE),
        None,
    )
    # the page load, from the browser's first step (after the laptop joined by DHCP)
    began = phases.get(1, {}).get("start") or 0.0
    end3 = phases.get(3, {}).get("end")
    arrived = round(float(end3) - float(began), 6) if s["ok"] and end3 is not None else None
    failure = s["failure"] or {}
    return {
        "status": "ok" if s["ok"] else "failed",
        "failure_kind": failure.get("kind"),
        "failure_phase": failure.get("phase"),
        "failure_where": failure.get("where"),
        "failure_summary": failure.get("summary"),
        "duration_s": arrived,
        "dns_s": span(1),
        "connect_s": span(2),
        "http_s": span(3),
        "close_s": span(4),
        "handshake_s": span(2),
        "rtt_s": first_rtt,
        "retransmissions": s["tcp"]["retransmissions"],
        "rtos": sum(1 for e in run.log.of("tcp", "rto") if e.node in (CLIENT_NODE, SERVER_NODE)),
        "frames": s["frames"],
        "wire_bytes": sum(len(fr.data) for fr in run.frames if fr.node == CLIENT_NODE),
        "body_bytes": s["http"]["body_bytes"],
        "http_status": s["http"]["status"],
        "tls_version": s["tls"]["version"],
        "cipher_suite": s["tls"]["cipher_suite"],
        "end_time_s": s["end_time"],
        "cc": s["tcp"]["congestion_control"],  # the controller used, set by the sweep or not
    }


def _tcp_transfer(cell: Cell) -> dict[str, Any]:
    faults = _faults(cell)
    world = load_world(None, seed=int(cell.get("seed") or 0), faults=faults)
    counters = _Counters(world, (CLIENT_NODE, SERVER_NODE))
    try:
        r = run_transfer(
            world,
            world.node(CLIENT_NODE),
            world.node(SERVER_NODE),
            size=int(cell.get("size") or 0),
            faults=faults,
            **_run_options(cell),
        )
    except TransferFailed as e:  # a network outcome (no connection), not a broken run
        return {
            "status": "failed",
            "failure_kind": "tcp-connect",
            "failure_phase": 2,
            "failure_where": CLIENT_NODE,
            "failure_summary": str(e),
            "rtos": counters.rtos,
            "frames": counters.frames,
            "wire_bytes": counters.wire_bytes,
            "end_time_s": round(world.loop.now(), 6),
        }
    v = r["virtual_seconds"]
    return {
        "status": "ok" if r["intact"] else "failed",
        "failure_kind": None if r["intact"] else "tcp-corrupted",
        "failure_phase": None if r["intact"] else 3,
        "duration_s": v["total"],
        "connect_s": v["handshake"],
        "handshake_s": v["handshake"],
        "rtt_s": counters.rtt,
        "retransmissions": r["retransmissions"]["client"] + r["retransmissions"]["server"],
        "rtos": counters.rtos,
        "frames": counters.frames,
        "wire_bytes": counters.wire_bytes,
        "body_bytes": 2 * r["size"] if r["intact"] else None,
        "goodput_up_bps": r["goodput_bytes_per_s"]["up"],
        "goodput_down_bps": r["goodput_bytes_per_s"]["down"],
        "end_time_s": round(world.loop.now(), 6),
        "cc": r["congestion_control"]["client"],  # the controller used, set by the sweep or not
    }


def _dig(cell: Cell) -> dict[str, Any]:
    world = load_world(None, seed=int(cell.get("seed") or 0), faults=_faults(cell))
    counters = _Counters(world, (CLIENT_NODE, "resolver"))
    install_dns(world)
    laptop = world.node(CLIENT_NODE)
    qname = Name.from_text(str(cell.get("name")))
    task = world.loop.create_task(
        dig(laptop, qname, type_from_text(str(cell.get("qtype"))), zones_builtin.ISP_RESOLVER)
    )
    try:
        result = world.loop.run_until_complete(task, 3600.0)
    except LoopTimeout:
        raise ConfigError("the simulation did not finish within 3600 s") from None
    world.run(until=world.loop.now() + 1.0)
    ex = result.exchange
    resp = ex.response
    rcode = resp.rcode_name if resp is not None else "TIMEOUT"
    ok = resp is not None and rcode == "NOERROR" and bool(resp.answers)
    return {
        "status": "ok" if ok else "failed",
        "failure_kind": None if ok else "dns",
        "failure_phase": None if ok else 1,
        "failure_where": None if ok else ("resolver" if resp is not None else "DNS"),
        "failure_summary": None if ok else f"{qname.to_text()}: {rcode}",
        "duration_s": round(result.ended - result.started, 6),
        "dns_s": round(result.ended - result.started, 6),
        "rtt_s": round(ex.rtt, 6) if resp is not None else None,
        "retransmissions": ex.tries - 1,
        "frames": counters.frames,
        "wire_bytes": counters.wire_bytes,
        "body_bytes": len(ex.wire) if resp is not None else None,
        "rcode": rcode,
        "answers": len(resp.answers) if resp is not None else 0,
        "end_time_s": round(world.loop.now(), 6),
    }


RUNS: dict[str, Callable[[Cell], dict[str, Any]]] = {
    "fetch": _fetch,
    "tcp-transfer": _tcp_transfer,
    "dig": _dig,
}


def run_cell(cell: Cell) -> dict[str, Any]:
    """Run one cell; its row (every column of :data:`COLUMNS`, None where it does not apply)."""
    row: dict[str, Any] = dict.fromkeys(name for name, _ in COLUMNS)
    row.update(key=cell.key, version=__version__, what=cell.what)
    row.update(cell.params)
    started = time.perf_counter()
    try:
        row.update(RUNS[cell.what](cell))
    except Exception as e:  # a cell that fails is a row saying why, never a stopped sweep
        row.update(status="error", error=f"{type(e).__name__}: {e}".splitlines()[0])
    row["wall_s"] = round(time.perf_counter() - started, 6)
    return row


def run_batch(
    cells: Iterable[Cell],
    version: str = __version__,
    setup: Callable[[], object] | None = None,
) -> list[dict[str, Any]]:
    """Run cells one after the other (one engine task), after ``setup`` (the engine's: e.g.
    lending this process the key cache); refuses to mix minternet versions, since a row is
    keyed by the version that computed it."""
    if version != __version__:
        raise ConfigError(
            f"this worker runs minternet {__version__}, the sweep expects {version}: "
            "install the same version on every machine"
        )
    if setup is not None:
        setup()
    return [run_cell(c) for c in cells]


__all__ = ["COLUMNS", "NONDETERMINISTIC", "RUN_OPTIONS", "SEED_STATE", "run_batch", "run_cell"]
