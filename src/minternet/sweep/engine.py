"""Where a sweep's cells run: in this process, on a local Dask cluster, or on any Dask cluster.

Cells are independent and deterministic, so they are grouped into tasks and handed to
Dask distributed's ``Client.submit``: an embedded ``LocalCluster`` (one single-threaded
worker process per core) by default, an existing cluster (``dask scheduler`` plus any number
of ``dask worker`` processes on any machines) with ``scheduler``, or no Dask at all
(``inline``). Rows come back as tasks finish and go straight to the caller (who writes
them), so an interrupted sweep keeps every finished task.

A task holds cells of one seed (the run mints the seed's PKI once per process and reuses
it, so grouping by seed keeps that work on one worker), at most ``batch`` of them. When a
worker dies, Dask's scheduler runs its tasks again elsewhere; the rows are the same because
a cell's row depends on the cell alone.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, Literal

from .. import __version__
from ..errors import ConfigError
from .cells import run_batch
from .spec import Cell

Rows = list[dict[str, Any]]
EngineKind = Literal["local", "inline", "scheduler"]


@dataclass(frozen=True, slots=True)
class Engine:
    """How to run: ``local`` (embedded LocalCluster), ``inline``, or ``scheduler`` (an
    existing cluster at ``address``, e.g. ``tcp://10.0.0.5:8786``)."""

    kind: EngineKind = "local"
    address: str | None = None
    workers: int | None = None  # local: worker processes (default: one per core)
    batch: int = 50  # at most this many cells per task

    def describe(self) -> str:
        if self.kind == "inline":
            return "inline (this process)"
        if self.kind == "scheduler":
            return f"Dask cluster at {self.address}"
        return f"local Dask cluster, {self.local_workers()} worker processes"

    def local_workers(self) -> int:
        return self.workers or os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class TaskFailure:
    """A task the engine could not run (not a failed cell: those are rows)."""

    cells: tuple[Cell, ...]
    error: str


def batches(cells: Sequence[Cell], size: int) -> list[tuple[Cell, ...]]:
    """Tasks: cells grouped by (kind, seed) in first-seen order, cut into ``size`` pieces."""
    groups: dict[tuple[str, Any], list[Cell]] = {}
    for c in cells:
        groups.setdefault((c.what, c.get("seed")), []).append(c)
    out: list[tuple[Cell, ...]] = []
    for group in groups.values():
        out += [tuple(group[i : i + size]) for i in range(0, len(group), size)]
    return out


def _task_key(batch: tuple[Cell, ...]) -> str:
    digest = hashlib.sha256("".join(c.key for c in batch).encode()).hexdigest()[:16]
    return f"minternet-sweep-{digest}"


def run(
    engine: Engine,
    cells: Sequence[Cell],
    on_start: Callable[[str], None] = lambda _: None,
) -> Iterator[Rows | TaskFailure]:
    """Run ``cells``; yield each task's rows (or why it could not run) as it finishes."""
    tasks = batches(cells, max(1, engine.batch))
    if engine.kind == "inline":
        on_start(engine.describe())
        for t in tasks:
            yield run_batch(t)
        return
    yield from _run_dask(engine, tasks, on_start)


def _run_dask(
    engine: Engine, tasks: list[tuple[Cell, ...]], on_start: Callable[[str], None]
) -> Iterator[Rows | TaskFailure]:
    from distributed import Client, LocalCluster, as_completed

    with ExitStack() as stack:
        if engine.kind == "scheduler":
            try:
                client = stack.enter_context(Client(engine.address, timeout=15))  # type: ignore[no-untyped-call]
            except (OSError, TimeoutError, ValueError) as e:
                raise ConfigError(
                    f"cannot reach the Dask scheduler at {engine.address}: {e}"
                ) from None
        else:
            scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="minternet-dask-"))
            cluster = stack.enter_context(
                LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=engine.local_workers(),
                    threads_per_worker=1,
                    processes=True,
                    scheduler_port=0,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                    local_directory=scratch,
                )
            )
            client = stack.enter_context(Client(cluster))  # type: ignore[no-untyped-call]
        on_start(engine.describe())
        futures = {
            client.submit(run_batch, t, __version__, key=_task_key(t), pure=False): t for t in tasks
        }
        try:
            for fut in as_completed(futures):  # type: ignore[no-untyped-call]
                try:
                    rows: Rows = fut.result()
                except Exception as e:
                    yield TaskFailure(futures[fut], f"{type(e).__name__}: {e}".splitlines()[0])
                else:
                    yield rows
                fut.release()
        finally:
            client.cancel(list(futures))


__all__ = ["Engine", "TaskFailure", "batches", "run"]
