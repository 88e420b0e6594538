"""The engines give the same rows: inline, a real LocalCluster of 2 worker processes (the
Ctrl-C test's rerun), and ``dask scheduler`` + two ``dask worker`` commands on loopback; a
worker killed mid-sweep and a Ctrl-C followed by a rerun change nothing but who computed
what."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from sweeptools import FETCH_GRID, LoopbackCluster, loopback_cluster, rows_without_wall

from clitools import cli_env
from minternet.sweep.dataset import Dataset
from minternet.sweep.engine import Engine, batches, homes
from minternet.sweep.runner import run_sweep
from minternet.sweep.spec import build_spec, parse_values

DIG_GRID = ["--what", "dig", "--seed", "1..4", "--loss", "0,0.3"]
TCP_GRID = ["--what", "tcp-transfer", "--seed", "1..2", "--loss", "0,0.1", "--size", "20000"]


def sweep_cmd(out: Path, grid: list[str], *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "minternet",
        "sweep",
        *grid,
        "--out",
        str(out),
        "--no-plot",
        "-q",
        *extra,
    ]


def spec_of(grid: list[str]):  # type: ignore[no-untyped-def]
    args = dict(zip(grid[::2], grid[1::2], strict=True))
    what = args.pop("--what")
    return build_spec(what, {k[2:]: parse_values(k[2:], v) for k, v in args.items()})


@pytest.fixture(scope="module")
def inline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, object]]]:
    """Reference rows of each grid, computed with ``--engine inline`` (in this process)."""
    out = {}
    for name, grid in (("fetch", FETCH_GRID), ("dig", DIG_GRID), ("tcp", TCP_GRID)):
        path = tmp_path_factory.mktemp(f"inline-{name}")
        done = run_sweep(spec_of(grid), path, Engine("inline"), progress=False)
        assert done.computed == len(spec_of(grid).cells) and not done.task_failures
        out[name] = rows_without_wall(path)
    return out


def test_inline_rows_are_whole_and_varied(inline: dict[str, list[dict[str, object]]]) -> None:
    rows = inline["fetch"]
    assert len(rows) == 12 and len({r["key"] for r in rows}) == 12
    assert {r["status"] for r in rows} <= {"ok", "failed"}
    ok = [r for r in rows if r["status"] == "ok"]
    assert ok and all(r["http_status"] == 200 and r["body_bytes"] for r in ok)
    assert {r["cipher_suite"].split("_")[1] for r in ok} == {"RSA", "ECDHE"}  # type: ignore[union-attr]
    lossy = [r for r in rows if r["loss"] == 0.2]
    assert sum(r["retransmissions"] for r in lossy) > 0  # type: ignore[misc]
    assert {r["status"] for r in inline["dig"]} == {"ok", "failed"} or inline["dig"]
    assert all(r["status"] == "ok" for r in inline["tcp"])


def test_the_tasks_of_a_fetch_seed_prefer_one_worker() -> None:
    """A fetch mints its seed's PKI once per process: a seed's tasks share a home."""
    tasks = batches(spec_of(FETCH_GRID).cells, 1)  # 12 tasks, 4 per seed

    def seed_homes(threads: dict[str, int]) -> dict[object, set[str | None]]:
        out: dict[object, set[str | None]] = {}
        for task, home in zip(tasks, homes(tasks, threads), strict=True):
            out.setdefault(task[0].get("seed"), set()).add(home)
        return out

    assert seed_homes({"tcp://b:1": 1, "tcp://a:1": 1}) == {
        1: {"tcp://a:1"},
        2: {"tcp://b:1"},
        3: {"tcp://a:1"},
    }
    # a worker with twice the threads takes twice the seeds
    assert seed_homes({"tcp://a:1": 1, "tcp://b:1": 2}) == {
        1: {"tcp://a:1"},
        2: {"tcp://b:1"},
        3: {"tcp://b:1"},
    }
    # a seed in one task, a run with no per-seed set-up, no worker known: Dask decides
    assert homes(batches(spec_of(FETCH_GRID).cells, 4), {"tcp://a:1": 1}) == [None] * 3
    two = {"tcp://a:1": 1, "tcp://b:1": 1}
    assert set(homes(batches(spec_of(DIG_GRID).cells, 1), two)) == {None}
    assert set(homes(tasks, {})) == {None}


@pytest.fixture(scope="module")
def loopback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackCluster]:
    """``dask scheduler`` + two ``dask worker`` commands on loopback, for this module's
    tests (each asks for two live workers: one may have been killed before)."""
    with loopback_cluster(tmp_path_factory.mktemp("dask")) as cluster:
        yield cluster
    assert all(p.poll() is not None for p in cluster.processes)


@pytest.mark.slow
def test_dask_scheduler_and_workers_on_loopback_give_the_inline_rows(
    inline: dict[str, list[dict[str, object]]], loopback: LoopbackCluster, tmp_path: Path
) -> None:
    assert len(loopback.live_workers(2)) == 2
    for name, grid in (("fetch", FETCH_GRID), ("dig", DIG_GRID), ("tcp", TCP_GRID)):
        out = tmp_path / name
        proc = subprocess.run(
            sweep_cmd(out, grid, "--scheduler", loopback.address, "--batch", "3"),
            capture_output=True,
            text=True,
            env=cli_env(),
            timeout=180,
        )
        assert proc.returncode == 0, proc.stderr
        assert f"on Dask cluster at {loopback.address}" in proc.stderr
        assert rows_without_wall(out) == inline[name]


def _wait_for_rows(out: Path, proc: subprocess.Popen[str]) -> None:
    """Until the sweep has written its first rows (a part file: each task's rows are written
    at once, atomically), looking every 10 ms so that the sweep is caught early on."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the sweep ended before it could be interrupted"
        if Dataset(out).exists():
            return
        time.sleep(0.01)
    raise AssertionError("no rows appeared")


@pytest.mark.slow
def test_a_worker_killed_mid_sweep_changes_nothing(
    inline: dict[str, list[dict[str, object]]], loopback: LoopbackCluster, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    workers = loopback.live_workers(2)
    doomed = workers[0]
    proc = subprocess.Popen(
        sweep_cmd(out, FETCH_GRID, "--scheduler", loopback.address, "--batch", "1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    try:
        _wait_for_rows(out, proc)
        # the workers stand still a moment, so the one killed dies holding work however
        # fast the cells run
        for w in workers:
            os.kill(w.pid, signal.SIGSTOP)
        assert len(Dataset(out).keys()) < 12
        doomed.kill()  # SIGKILL: the worker dies with its tasks
        doomed.wait(timeout=30)
        for w in workers:
            if w is not doomed:
                os.kill(w.pid, signal.SIGCONT)
        _, err = proc.communicate(timeout=180)
    finally:
        for w in workers:
            if w.poll() is None:
                os.kill(w.pid, signal.SIGCONT)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert rows_without_wall(out) == inline["fetch"]


@pytest.mark.slow
def test_ctrl_c_then_rerun_computes_only_the_missing_cells(
    inline: dict[str, list[dict[str, object]]], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    cmd = sweep_cmd(out, FETCH_GRID, "--workers", "2", "--batch", "1")  # the local cluster
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
        start_new_session=True,  # its own process group, as a shell's foreground job
    )
    try:
        _wait_for_rows(out, proc)
        # the sweep and its workers stand still until the Ctrl-C, so that it is caught
        # mid-way however fast the cells run
        os.killpg(proc.pid, signal.SIGSTOP)
        children = psutil.Process(proc.pid).children(recursive=True)
        assert children, "the local cluster runs worker processes"
        # a terminal's Ctrl-C: SIGINT to every process of the foreground group
        os.killpg(proc.pid, signal.SIGINT)
        os.killpg(proc.pid, signal.SIGCONT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    have = len(Dataset(out).keys())
    assert 1 <= have < 12
    assert f"interrupted: {have} of 12 cells are in {out}" in err
    assert err.strip().splitlines()[-1].startswith("interrupted:"), err
    assert "Traceback" not in err and "Error" not in err, err  # not from a worker either
    gone = psutil.wait_procs(children, timeout=30)[1]
    assert gone == [], "the sweep left worker processes behind"

    again = subprocess.run(cmd, capture_output=True, text=True, env=cli_env(), timeout=180)
    assert again.returncode == 0, again.stderr
    assert f"{have} of 12 cells already there; computing the other {12 - have}" in again.stderr
    # the rerun is a whole local-cluster sweep of what is missing (this test also stands
    # for a plain LocalCluster run: its rows are the inline rows; batches > 1 are run by
    # the loopback test)
    assert f"{12 - have} fetch cells on local Dask cluster, 2 worker processes" in again.stderr
    assert f"computed {12 - have} cells" in again.stderr
    assert rows_without_wall(out) == inline["fetch"]
