"""Where a sweep's cells run: in this process, on a local Dask cluster, or on any Dask cluster.

Cells are independent and deterministic, so they are grouped into tasks and handed to
Dask distributed's ``Client.submit``: an embedded ``LocalCluster`` (one single-threaded
worker process per core) by default, an existing cluster (``dask scheduler`` plus any number
of ``dask worker`` processes on any machines) with ``scheduler``, or no Dask at all
(``inline``). Rows come back as tasks finish and go straight to the caller (who writes
them), so an interrupted sweep keeps every finished task.

A task holds cells of one seed (the run mints the seed's PKI once per process and reuses
it, so grouping by seed keeps that work on one worker), at most ``batch`` of them; the
tasks of a seed that needs several share a home worker (:func:`homes`). When a worker
dies, Dask's scheduler runs its tasks again elsewhere; the rows are the same because a
cell's row depends on the cell alone. The local cluster's workers are forked from one
fork server that has imported Dask and the runs (:func:`_local_cluster_settings`).
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing.forkserver
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .. import __version__
from ..errors import ConfigError
from .cells import SEED_STATE, run_batch
from .spec import Cell

if TYPE_CHECKING:
    from distributed import LocalCluster

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
    # called in the process of each task before its cells, e.g. the CLI's lending of its
    # seeded-key cache (drivers/keycache) to Dask's workers; passed by reference, so it
    # must be importable there
    setup: Callable[[], object] | None = None

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


def homes(tasks: Sequence[tuple[Cell, ...]], threads: Mapping[str, int]) -> list[str | None]:
    """The worker each task should run on, if any: every task of one seed of a run that
    keeps per-seed state (:data:`~.cells.SEED_STATE`) goes to the same worker, so that
    worker alone pays the seed's set-up rather than every worker that draws one of its
    tasks. ``threads`` gives each worker's threads (``Client.nthreads``); a seed goes to the
    worker with the fewest cells per thread so far (the first in address order on a tie).
    Seeds in one task, and other runs, have no home (None): Dask places them.
    """

    def group(task: tuple[Cell, ...]) -> tuple[str, Any]:
        return task[0].what, task[0].get("seed")

    tasks_of = Counter(group(t) for t in tasks)
    load = {w: 0 for w in sorted(threads)}
    home: dict[tuple[str, Any], str] = {}
    out: list[str | None] = []
    for t in tasks:
        g = group(t)
        if not load or g[0] not in SEED_STATE or tasks_of[g] < 2:
            out.append(None)
            continue
        if g not in home:
            home[g] = min(load, key=lambda w: load[w] / max(1, threads[w]))
        load[home[g]] += len(t)
        out.append(home[g])
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
            yield run_batch(t, __version__, engine.setup)
        return
    yield from _run_dask(engine, tasks, on_start)


WORKER_PRELOAD = ("minternet.sweep.local_workers", "distributed", "minternet.sweep.cells")
"""What the local cluster's fork server imports once, before it forks each worker (the first
makes the workers ignore a terminal's Ctrl-C, which the sweep's process answers)."""

LOCAL_CONFIG: dict[str, Any] = {
    # workers forked from one fork server (see _local_cluster_settings), not spawned
    "distributed.worker.multiprocessing-method": "forkserver",
    # the statistical profiler samples each worker's stack every 10 ms for the dashboard,
    # which the embedded cluster does not serve
    "distributed.worker.profile.enabled": False,
    # every process's event-loop watchdog: at 20 ms it is most of an idle cluster's CPU
    # (0.07 -> 0.03 CPU s per second with two workers); it only warns of a loop blocked
    # for seconds, which a 200 ms tick still sees
    "distributed.admin.tick.interval": "200ms",
}
"""Dask settings of the embedded cluster (its scheduler, nannies and workers)."""


@contextmanager
def _local_cluster_settings() -> Iterator[None]:
    """:data:`LOCAL_CONFIG` while the local cluster lives, its workers forked.

    Dask starts each worker by ``spawn`` by default: a fresh interpreter that imports
    ``distributed`` and then, at its first task, minternet (~0.6 CPU s a worker). With
    ``forkserver`` one server process imports both once and forks every worker from it (it
    runs no thread after those imports, so a fork of it is as safe as a spawn). Dask sets
    its own preload list (its dependencies, numpy) on the first call of ``get_mp_context``
    in a process and never again, so ours, set right after, is the one used. The fork
    server is stopped and reaped at the end (Python would leave it to exit on its own after
    this process), so no process outlives the sweep and its workers' CPU is counted as this
    process's children's. It is started first thing, so that its imports (~1 CPU s) run
    beside this process's own import of ``distributed`` and the scheduler's start.
    """
    multiprocessing.forkserver.set_forkserver_preload(list(WORKER_PRELOAD))
    multiprocessing.forkserver.ensure_running()
    try:
        import dask.config
        from distributed.utils import get_mp_context

        with dask.config.set(LOCAL_CONFIG):
            get_mp_context().set_forkserver_preload(list(WORKER_PRELOAD))  # type: ignore[no-untyped-call]
            yield
    finally:
        server = getattr(multiprocessing.forkserver, "_forkserver", None)
        stop = getattr(server, "_stop", None)
        if stop is not None:
            stop()


@contextmanager
def local_cluster(workers: int) -> Iterator[LocalCluster]:
    """The embedded cluster: ``workers`` single-threaded worker processes, forked (see
    :func:`_local_cluster_settings`), their scratch files in a temporary folder, no
    dashboard; closed, with every process it started, at the end."""
    with (
        tempfile.TemporaryDirectory(prefix="minternet-dask-") as scratch,
        _local_cluster_settings(),
    ):
        from distributed import LocalCluster

        with LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            scheduler_port=0,
            dashboard_address=None,
            # its HTTP routes (health, metrics) on a free loopback port, rather than
            # :8787 on every interface with a warning when that is taken
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.ERROR,
            local_directory=scratch,
        ) as cluster:
            yield cluster


def _run_dask(
    engine: Engine, tasks: list[tuple[Cell, ...]], on_start: Callable[[str], None]
) -> Iterator[Rows | TaskFailure]:
    with ExitStack() as stack:
        # a local cluster first: its fork server starts before this process imports Dask
        local = None
        if engine.kind == "local":
            local = stack.enter_context(local_cluster(engine.local_workers()))
        from distributed import Client, as_completed

        if local is not None:
            client = stack.enter_context(Client(local))  # type: ignore[no-untyped-call]
        else:
            try:
                client = stack.enter_context(Client(engine.address, timeout=15))  # type: ignore[no-untyped-call]
            except (OSError, TimeoutError, ValueError) as e:
                raise ConfigError(
                    f"cannot reach the Dask scheduler at {engine.address}: {e}"
                ) from None
        on_start(engine.describe())
        # a seed's home is only a preference (allow_other_workers): if its worker dies or
        # others run out of work, Dask runs its tasks elsewhere (and they mint it there)
        futures = {
            client.submit(
                run_batch,
                t,
                __version__,
                engine.setup,
                key=_task_key(t),
                pure=False,
                **({} if home is None else {"workers": [home], "allow_other_workers": True}),
            ): t
            for t, home in zip(tasks, homes(tasks, client.nthreads()), strict=True)
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


__all__ = ["Engine", "TaskFailure", "batches", "homes", "local_cluster", "run"]
