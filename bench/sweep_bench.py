"""A 1,000-cell fetch sweep, inline against a local Dask cluster (``python -m bench.sweep_bench``).

The grid: seeds 1..20 × loss 0, 5, 10, 20, 30 % × kex rsa, ecdhe × extra latency 0, 10, 20,
40, 80 ms — 1,000 whole simulated page loads with their trace and frames recorded, each
flattened into a row and written to Parquet, exactly what ``minternet sweep`` does. Both
engines run in this one process's run, one after the other, each into a fresh dataset:

- ``inline``: every cell in this process;
- the local engine's cluster (``sweep.engine.local_cluster``: one single-threaded worker
  process per core), joined as an existing cluster would be (``Engine("scheduler")``), so
  the cluster's start-up is timed apart from the sweep and the workers' PIDs are known for
  sampling their memory.

Figures: cells per second of each and their ratio; the CPU time each engine used (this
process and the workers) — on a machine shared with other sessions, Linux's autogroup
scheduler gives a session a fair share whatever its number of processes, so the wall-clock
ratio only shows the workers' parallelism when the cores are free, while CPU per cell shows
what the engine itself costs; the engine's overhead per cell,
``(workers × wall − Σ cell wall) / cells`` — the worker time not spent inside a cell
(scheduling, moving cells and rows, the client writing Parquet, and the tail when one worker
has finished and the other has not); each worker's resident memory at 10 %, 50 % and 100 %
of the sweep. The rows of both engines are compared (they must be equal but for wall time).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from minternet.sweep.dataset import Dataset
from minternet.sweep.engine import Engine, local_cluster
from minternet.sweep.runner import run_sweep
from minternet.sweep.spec import SweepSpec, build_spec

GRID = {
    "seed": list(range(1, 21)),
    "loss": [0.0, 0.05, 0.1, 0.2, 0.3],
    "kex": ["rsa", "ecdhe"],
    "latency": [0.0, 10.0, 20.0, 40.0, 80.0],
}


class MemorySampler:
    """RSS of the given processes, sampled every ``period`` s with the sweep's progress."""

    def __init__(self, pids: list[int], period: float = 0.25) -> None:
        self.procs = [psutil.Process(p) for p in pids]
        self.period = period
        self.done = 0
        self.samples: list[tuple[int, list[int]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            self.samples.append((self.done, [p.memory_info().rss for p in self.procs]))

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((self.done, [p.memory_info().rss for p in self.procs]))

    def at(self, fraction: float, total: int) -> list[int]:
        """Each process's RSS at the first sample where ``fraction`` of the cells were done."""
        for done, rss in self.samples:
            if done >= fraction * total:
                return rss
        return self.samples[-1][1]


def timed_sweep(
    spec: SweepSpec, engine: Engine, sampler: MemorySampler | None
) -> tuple[float, Path]:
    out = Path(tempfile.mkdtemp(prefix="minternet-sweep-bench-"))
    t0 = time.perf_counter()
    done = run_sweep(
        spec,
        out,
        engine,
        progress=False,
        on_progress=(lambda n: setattr(sampler, "done", n)) if sampler else None,
    )
    wall = time.perf_counter() - t0
    assert done.computed == len(spec.cells) and not done.task_failures, done
    return wall, out


def cpu_seconds(procs: list[psutil.Process]) -> float:
    """User + system CPU time of these processes so far."""
    return sum(sum(p.cpu_times()[:2]) for p in procs)


def overhead_ms(workers: int, wall: float, rows: list[dict[str, object]]) -> float:
    busy = sum(float(r["wall_s"]) for r in rows)  # type: ignore[arg-type]
    return (workers * wall - busy) / len(rows) * 1000


def main() -> None:
    from distributed import Client

    spec = build_spec("fetch", GRID)
    n = len(spec.cells)
    workers = os.cpu_count() or 1
    print(f"{n} fetch cells; {workers} cores; load average {os.getloadavg()[0]:.1f}")

    t0 = time.perf_counter()
    with local_cluster(workers) as cluster, Client(cluster) as client:
        pids = sorted(client.run(os.getpid).values())
        start = time.perf_counter() - t0
        engine = Engine("scheduler", address=cluster.scheduler_address)
        tree = [psutil.Process(), *(psutil.Process(p) for p in pids)]
        cpu0 = cpu_seconds(tree)
        with MemorySampler(pids) as sampler:
            dask_wall, dask_out = timed_sweep(spec, engine, sampler)
        dask_cpu = cpu_seconds(tree) - cpu0
    cpu0 = cpu_seconds([psutil.Process()])
    inline_wall, inline_out = timed_sweep(spec, Engine("inline"), None)
    inline_cpu = cpu_seconds([psutil.Process()]) - cpu0

    dask_rows, inline_rows = Dataset(dask_out).rows(), Dataset(inline_out).rows()

    def strip(rows: list[dict[str, object]]) -> list[dict[str, object]]:
        return [{k: v for k, v in r.items() if k != "wall_s"} for r in rows]

    same = strip(dask_rows) == strip(inline_rows)
    print(f"inline            {inline_wall:7.1f} s  {n / inline_wall:6.1f} cells/s")
    print(
        f"local cluster     {dask_wall:7.1f} s  {n / dask_wall:6.1f} cells/s  "
        f"(+ {start:.1f} s to start {workers} workers: {n / (dask_wall + start):.1f} cells/s)"
    )
    print(
        f"ratio cluster/inline: {inline_wall / dask_wall:.2f}x "
        f"({inline_wall / (dask_wall + start):.2f}x counting the start-up); rows equal: {same}"
    )
    print(
        f"engine overhead per cell: cluster {overhead_ms(workers, dask_wall, dask_rows):.2f} ms, "
        f"inline {overhead_ms(1, inline_wall, inline_rows):.2f} ms"
    )
    print(
        f"CPU seconds: cluster {dask_cpu:.1f} (this process + workers), inline {inline_cpu:.1f};"
        f" per cell {dask_cpu / n * 1000:.1f} vs {inline_cpu / n * 1000:.1f} ms: the engine costs"
        f" {(dask_cpu - inline_cpu) / n * 1000:.2f} ms of CPU per cell; CPU share the sweep got:"
        f" cluster {dask_cpu / dask_wall:.2f} cores, inline {inline_cpu / inline_wall:.2f}"
    )
    for i, pid in enumerate(pids):
        mib = [sampler.at(f, n)[i] / 2**20 for f in (0.1, 0.5, 1.0)]
        print(
            f"worker {i} (pid {pid}) RSS at 10/50/100 %: "
            + " / ".join(f"{m:.0f}" for m in mib)
            + " MiB"
        )
    if not same:
        sys.exit("the engines' rows differ")


if __name__ == "__main__":
    main()
