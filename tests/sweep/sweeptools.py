"""Helpers for the sweep tests (a plain module): a Dask cluster started with Dask's own
``dask scheduler`` / ``dask worker`` commands on loopback, the reference rows, row compare."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from clitools import cli_env, free_port
from minternet.sweep.dataset import Dataset

DASK = str(Path(sys.executable).with_name("dask"))
# 12 fetch cells over 3 seeds (each seed's PKI is minted once per process: keep them few).
FETCH_GRID = ["--what", "fetch", "--seed", "1..3", "--loss", "0,0.2", "--kex", "rsa,ecdhe"]


@dataclass
class LoopbackCluster:
    """``dask scheduler`` and ``dask worker`` processes on 127.0.0.1 (killed by PID)."""

    address: str
    scheduler: subprocess.Popen[bytes]
    tmp: Path
    log: BinaryIO
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def processes(self) -> list[subprocess.Popen[bytes]]:
        return [self.scheduler, *self.workers]

    def live_workers(self, n: int) -> list[subprocess.Popen[bytes]]:
        """The ``n`` workers still running, after starting new ones if fewer are (a test
        may have killed one)."""
        live = [w for w in self.workers if w.poll() is None]
        return live + self.add_workers(n - len(live)) if len(live) < n else live

    def add_workers(self, n: int) -> list[subprocess.Popen[bytes]]:
        """Start ``n`` more ``dask worker`` commands (single-threaded, no nanny: each PID is
        the worker itself) and wait until the scheduler has registered them."""
        new: list[subprocess.Popen[bytes]] = []
        for _ in range(n):
            name = f"w{len(self.workers)}"
            new.append(
                subprocess.Popen(
                    [
                        DASK,
                        "worker",
                        self.address,
                        "--nthreads",
                        "1",
                        "--no-nanny",
                        "--no-dashboard",
                        "--host",
                        "127.0.0.1",
                        "--name",
                        name,
                        "--local-directory",
                        str(self.tmp / name),
                    ],
                    env=cli_env(),
                    stdout=self.log,
                    stderr=self.log,
                )
            )
            self.workers.append(new[-1])
        live = [self.scheduler, *new]
        _wait_for_workers(self.tmp / "dask.log", len(self.workers), live, time.monotonic() + 90)
        return new


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"dask scheduler exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("dask scheduler did not listen in time")


def _wait_for_workers(log: Path, n: int, procs: list[subprocess.Popen[bytes]], deadline: float
                      ) -> None:  # fmt: skip
    """Until the scheduler has logged ``n`` workers registering (its own INFO line
    ``Register worker addr: … name: …``), rather than a Dask client in a fresh interpreter."""
    while time.monotonic() < deadline:
        for p in procs:
            if p.poll() is not None:
                raise AssertionError(f"{p.args[1]} exited with {p.returncode}: {log.read_text()}")
        if log.read_text().count("distributed.scheduler - INFO - Register worker") >= n:
            return
        time.sleep(0.1)
    raise AssertionError(f"{n} dask workers did not register in time: {log.read_text()}")


@contextmanager
def loopback_cluster(tmp: Path, workers: int = 2) -> Iterator[LoopbackCluster]:
    """The multi-machine setup on one machine: a scheduler and ``workers`` single-threaded
    worker processes as separate commands."""
    port = free_port()
    log = (tmp / "dask.log").open("ab")
    sched = subprocess.Popen(
        [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        env=cli_env(),
        stdout=log,
        stderr=log,
    )
    cluster = LoopbackCluster(f"tcp://127.0.0.1:{port}", sched, tmp, log)
    try:
        _wait_for_port(port, sched, time.monotonic() + 60)
        cluster.add_workers(workers)
        yield cluster
    finally:
        for p in reversed(cluster.processes):
            if p.poll() is None:
                p.kill()
            p.wait(timeout=30)
        log.close()


def rows_without_wall(path: Path) -> list[dict[str, Any]]:
    """The dataset's rows (sorted), minus the only column that may differ between runs."""
    return [{k: v for k, v in r.items() if k != "wall_s"} for r in Dataset(path).rows()]
