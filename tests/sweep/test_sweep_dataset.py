"""The dataset: Parquet files any Parquet reader reads, a CSV export, resume by key, a
failed run as a row, and the plots (PNG files, an HTML page with them inlined, a table)."""

from __future__ import annotations

import base64
import csv
import re
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
from PIL import Image
from sweeptools import rows_without_wall

from clitools import run_in_process
from minternet.sweep.cells import COLUMNS, run_cell
from minternet.sweep.dataset import Dataset
from minternet.sweep.engine import Engine
from minternet.sweep.runner import run_sweep
from minternet.sweep.spec import build_spec, make_cell


def minternet(*args: object) -> subprocess.CompletedProcess[str]:
    """``minternet ARGS`` in this interpreter (no fresh one to import everything again)."""
    return run_in_process(*map(str, args), check=False)


def test_rerun_computes_only_what_is_missing_and_rows_do_not_depend_on_it(
    tmp_path: Path,
) -> None:
    grid = {"seed": list(range(1, 7)), "loss": [0.0, 0.3]}
    full = build_spec("dig", grid)
    part = build_spec("dig", {"seed": [2, 5], "loss": [0.0, 0.3]})
    first = run_sweep(part, tmp_path / "a", Engine("inline"), progress=False)
    assert (first.computed, first.skipped) == (4, 0)
    second = run_sweep(full, tmp_path / "a", Engine("inline"), progress=False)
    assert (second.computed, second.skipped) == (8, 4)
    third = run_sweep(full, tmp_path / "a", Engine("inline"), progress=False)
    assert (third.computed, third.skipped) == (0, 12)
    at_once = run_sweep(full, tmp_path / "b", Engine("inline", batch=5), progress=False)
    assert at_once.computed == 12
    assert rows_without_wall(tmp_path / "a") == rows_without_wall(tmp_path / "b")
    # an independent reader sees the same rows (pyarrow's dataset reader, not our Dataset)
    table = pq.read_table(tmp_path / "a")
    assert table.num_rows == 12 and table.schema.names == [n for n, _ in COLUMNS]
    statuses = {r["status"] for r in Dataset(tmp_path / "a").rows()}
    assert statuses == {"ok", "failed"}  # 30 % loss defeats some lookups


def test_a_run_that_raises_is_a_row_with_its_error() -> None:
    cell = make_cell("tcp-transfer", {"seed": 1, "size": 1000})
    # the world has no "www" node when asked for another file? use a bogus kind instead
    broken = type(cell)(
        "tcp-transfer", tuple((k, -5 if k == "size" else v) for k, v in cell.params)
    )
    row = run_cell(broken)
    assert row["status"] == "error" and row["key"] == broken.key
    assert row["error"] and "\n" not in row["error"]
    assert row["wall_s"] is not None and row["duration_s"] is None


def test_csv_export_has_every_row_and_column(tmp_path: Path) -> None:
    spec = build_spec("dig", {"seed": [1, 2, 3]})
    run_sweep(spec, tmp_path / "d", Engine("inline"), progress=False)
    proc = minternet("sweep", "csv", tmp_path / "d", tmp_path / "r.csv")
    assert proc.returncode == 0, proc.stderr
    with (tmp_path / "r.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 and list(rows[0]) == [n for n, _ in COLUMNS]
    assert [r["seed"] for r in rows] == ["1", "2", "3"]
    assert {r["rcode"] for r in rows} == {"NOERROR"} and {r["status"] for r in rows} == {"ok"}


def test_plots_are_pngs_with_an_html_page_and_a_summary_table(tmp_path: Path) -> None:
    data = tmp_path / "d"
    spec = build_spec("fetch", {"seed": [1], "loss": [0.0, 0.3], "kex": ["rsa", "ecdhe"]})
    run_sweep(spec, data, Engine("inline"), progress=False)
    proc = minternet("sweep", "plot", data, "--out", tmp_path / "p")
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in (tmp_path / "p").glob("*.png"))
    assert names == [
        "handshake_vs_rtt.png",
        "retransmissions_vs_loss.png",
        "success_vs_loss.png",
        "time_vs_loss.png",
    ]
    for name in names:
        with Image.open(tmp_path / "p" / name) as im:
            assert im.format == "PNG" and im.size[0] >= 500
    page = (tmp_path / "p" / "index.html").read_text()
    inlined = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    assert len(inlined) == 4
    assert base64.b64decode(inlined[0]) == (tmp_path / "p" / "time_vs_loss.png").read_bytes()
    assert "kex=ecdhe" in proc.stdout and "kex=rsa" in proc.stdout
    assert "4 fetch runs" in proc.stdout
