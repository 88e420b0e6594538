"""Issue 15's loss line: ``tcp-transfer --size 2000000 --loss 0.2`` against ``--loss 0.05``.

Run ``python -m bench.tcp_ratio`` (``--seeds 1-21``, ``--cc cubic``; ``--quick``: seeds 1-3).
Each run is the command line a user types (``minternet tcp-transfer … --json``), one after
the other; the figure is the median virtual time of each loss rate over the same seeds and
the ratio of the two medians (goal: at most 5). Virtual seconds do not depend on the
machine's load; a 20 % run takes one to three seconds of CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parent.parent / "src"


def transfer_report(loss: float, seed: int, cc: str, size: int) -> dict[str, Any]:
    """The ``--json`` report of one ``tcp-transfer`` (checked to have arrived intact)."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    args = [sys.executable, "-m", "minternet", "tcp-transfer", "--json"]
    args += ["--size", str(size), "--loss", str(loss), "--cc", cc, "--seed", str(seed)]
    proc = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    report: dict[str, Any] = json.loads(proc.stdout)
    if not report.get("intact"):
        raise SystemExit(f"tcp_ratio: seed {seed} at loss {loss} did not arrive intact")
    return report


def transfer_seconds(loss: float, seed: int, cc: str, size: int) -> float:
    """The virtual seconds of one ``tcp-transfer`` (handshake, both directions)."""
    return float(transfer_report(loss, seed, cc, size)["virtual_seconds"]["total"])


def parse_seeds(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.tcp_ratio", description=__doc__)
    ap.add_argument("--seeds", default="1-7", help="a range, e.g. 1-21 (default 1-7)")
    ap.add_argument("--cc", default="newreno", choices=("newreno", "cubic"))
    ap.add_argument("--size", type=int, default=2_000_000)
    ap.add_argument("--quick", action="store_true", help="seeds 1-3")
    opts = ap.parse_args(sys.argv[1:] if __name__ == "__main__" else [])
    seeds = parse_seeds("1-3" if opts.quick else opts.seeds)
    medians: dict[float, float] = {}
    for loss in (0.05, 0.2):
        times = [transfer_seconds(loss, s, opts.cc, opts.size) for s in seeds]
        medians[loss] = statistics.median(times)
        shown = " ".join(f"{t:.1f}" for t in times)
        print(f"{opts.cc} --loss {loss}: median {medians[loss]:.1f} s  (seeds: {shown})")
    ratio = medians[0.2] / medians[0.05]
    print(f"ratio 20 % / 5 % over seeds {seeds[0]}-{seeds[-1]}: {ratio:.2f} (goal: at most 5)")


if __name__ == "__main__":
    main()
