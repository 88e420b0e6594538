"""Two checkouts' TCP in one process, alternating: CPU rate of ``bench.tcp_bulk``'s bulk
transfers, base against this tree's ``src``.

On a shared machine the CPU rate of one run swings by 2x with what the other core runs, so
runs of two versions in separate processes minutes apart compare the neighbours more than
the code. Here both copies of the package are imported side by side under other names (the
package uses relative imports only) and their transfers alternate within seconds, so the
noise hits both alike; the medians and the median of the per-pair ratios are printed.

Run: ``python -m bench.tcp_ab BASE_SRC [--rounds N] [--mib M] [--world]`` where BASE_SRC is
the ``src`` folder of the other checkout, e.g. made by
``git archive main src | tar -x -C /tmp/base`` (then ``/tmp/base/src``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.tcp_bulk import sim_bulk, world_bulk

HERE_SRC = Path(__file__).resolve().parents[1] / "src"


def load(name: str, src: Path, links: Path) -> dict[str, Any]:
    """The package in ``src`` imported as ``name`` (a symlink in ``links``)."""
    (links / name).symlink_to(src / "minternet")
    wire = importlib.import_module(f"{name}.sim.wire")
    conn = importlib.import_module(f"{name}.tcp.connection")
    world = importlib.import_module(f"{name}.sim.world")
    return {"make_net": wire.wire_net, "config": conn.TcpConfig, "world": world.World}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("base_src", type=Path, help="the other checkout's src folder")
    ap.add_argument("--rounds", type=int, default=10, help="pairs of transfers (default 10)")
    ap.add_argument("--mib", type=float, default=8, help="MiB per transfer (default 8)")
    ap.add_argument("--world", action="store_true", help="through the default world instead")
    args = ap.parse_args()
    size = int(args.mib * (1 << 20))
    with tempfile.TemporaryDirectory() as tmp:
        sys.path.insert(0, tmp)
        pkgs = {
            "base": load("minternet_ab_base", args.base_src.resolve(), Path(tmp)),
            "this": load("minternet_ab_this", HERE_SRC, Path(tmp)),
        }
        rates: dict[str, list[float]] = {"base": [], "this": []}
        for r in range(args.rounds):
            for who in ("base", "this") if r % 2 == 0 else ("this", "base"):
                p = pkgs[who]
                if args.world:
                    out = world_bulk(size, world_class=p["world"])
                    assert out is not None
                    rates[who].append(out[1])
                else:
                    rates[who].append(sim_bulk(size, p["make_net"], p["config"])[1])
    b, t = rates["base"], rates["this"]
    ratios = [y / x for x, y in zip(b, t, strict=True)]
    where = "the default world (4 routers)" if args.world else "one simulated link"
    print(f"TCP bulk, {args.mib:g} MiB through {where}, {args.rounds} alternating pairs, "
          f"load average {os.getloadavg()[0]:.1f}:")  # fmt: skip
    print(f"  base {statistics.median(b):6.1f} MB/s cpu (median; {min(b):.1f}-{max(b):.1f})")
    print(f"  this {statistics.median(t):6.1f} MB/s cpu (median; {min(t):.1f}-{max(t):.1f})")
    print(f"  ratio this/base: {statistics.median(t) / statistics.median(b):.3f} of medians, "
          f"{statistics.median(ratios):.3f} median of pairs "
          f"({min(ratios):.3f}-{max(ratios):.3f})")  # fmt: skip


if __name__ == "__main__":
    main()
