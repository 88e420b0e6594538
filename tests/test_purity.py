"""Protocol code never reads a clock or an entropy source, nor does I/O (style.md §1).

Only the edges may: the event loop, the randomness module, the drivers and the CLI.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "src" / "minternet"
EDGES = {"loop.py", "randomness.py", "__main__.py"}
EDGE_DIRS = {"cli", "drivers", "sweep"}  # sweep: wall time, processes, files
FORBIDDEN_MODULES = {"time", "random", "secrets", "socket", "select", "selectors", "asyncio"}
FORBIDDEN_ATTRS = {("os", "urandom"), ("os", "getrandom"), ("datetime", "now")}


def protocol_modules() -> list[Path]:
    out = []
    for p in sorted(PKG.rglob("*.py")):
        rel = p.relative_to(PKG)
        if rel.parts[0] in EDGE_DIRS or str(rel) in EDGES:
            continue
        out.append(p)
    return out


def test_there_are_protocol_modules() -> None:
    assert len(protocol_modules()) >= 3


def test_no_clock_randomness_or_io_in_protocol_code() -> None:
    offenders = []
    for path in protocol_modules():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [(node.module or "").split(".")[0]] if node.level == 0 else []
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if (node.value.id, node.attr) in FORBIDDEN_ATTRS:
                    offenders.append(
                        f"{path.relative_to(PKG)}:{node.lineno} {node.value.id}.{node.attr}"
                    )
                continue
            else:
                continue
            for n in names:
                if n in FORBIDDEN_MODULES:
                    offenders.append(f"{path.relative_to(PKG)}:{node.lineno} imports {n}")
    assert offenders == [], "protocol code must take time and randomness from outside"
