"""A whole sweep: skip what the dataset has, run the rest on an engine, write rows as they come.

:func:`run_sweep` is what ``minternet sweep`` does between checking the spec and drawing the
plots: it reads the keys already in the dataset (a rerun after an interruption computes only
the missing cells), hands the others to the engine, writes each finished task's rows into
the dataset at once, and shows a progress bar (cells done, failed, rate, time left).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from .dataset import Dataset
from .engine import Engine, TaskFailure, run
from .spec import SweepSpec


@dataclass
class SweepOutcome:
    """What a sweep did: cells in the spec, already there, computed now, failed runs among
    them (status failed or error), and tasks the engine could not run."""

    total: int
    skipped: int
    computed: int = 0
    failed: int = 0
    engine: str = ""
    wall: float = 0.0
    task_failures: list[TaskFailure] = field(default_factory=list)

    @property
    def missing(self) -> int:
        return self.total - self.skipped - self.computed


def run_sweep(
    spec: SweepSpec,
    out: Path,
    engine: Engine,
    *,
    console: Console | None = None,
    progress: bool = True,
    on_progress: Callable[[int], None] | None = None,
) -> SweepOutcome:
    """Run the cells of ``spec`` missing from the dataset in ``out``; see the module doc.
    ``on_progress`` is told the number of cells computed so far after each task."""
    dataset = Dataset(out)
    done = dataset.keys() if dataset.exists() else set()
    todo = [c for c in spec.cells if c.key not in done]
    outcome = SweepOutcome(total=len(spec.cells), skipped=len(spec.cells) - len(todo))
    con = console or Console(stderr=True, highlight=False, soft_wrap=True)
    if outcome.skipped:
        con.print(
            f"{out}: {outcome.skipped} of {outcome.total} cells already there; "
            f"computing the other {len(todo)}"
        )
    if not todo:
        return outcome
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=con,
        disable=not progress,
    )
    started = time.perf_counter()

    def announce(what: str) -> None:
        outcome.engine = what
        con.print(f"sweep: {len(todo)} {spec.what} cells on {what}")

    with bar:
        task = bar.add_task("cells", total=len(todo), failed=0, rate="")
        for result in run(engine, todo, announce):
            if isinstance(result, TaskFailure):
                outcome.task_failures.append(result)
                continue
            dataset.write(result)
            outcome.computed += len(result)
            outcome.failed += sum(1 for r in result if r["status"] != "ok")
            rate = outcome.computed / max(time.perf_counter() - started, 1e-9)
            bar.update(task, advance=len(result), failed=outcome.failed, rate=f"{rate:.1f} cells/s")
    outcome.wall = time.perf_counter() - started
    return outcome


__all__ = ["SweepOutcome", "run_sweep"]
