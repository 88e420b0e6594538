"""Protocol code never reads a clock or an entropy source, nor does I/O (style.md §1).

Only the edges may: the drivers, the CLI and the sweep. The event loop takes no clock of its own
(``drivers/realtime.py`` reads the wall clock), and ``randomness.py`` only runs the seeded
Mersenne Twister of ``_random`` — a pure function of its seed, which no other module may
import. Protocol cores (``ring_table``) also never open, read or write a file: trust stores,
PEM files, zone files and captures are read and written at the edge. The import-level rule
(no core loads an outer ring) is ``test_rings.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from ring_table import PKG, core_files

EDGES = {"__main__.py"}
EDGE_DIRS = {"cli", "drivers", "sweep"}  # sweep: wall time, processes, files
FORBIDDEN_MODULES = {
    "time",
    "random",
    "_random",
    "secrets",
    "socket",
    "select",
    "selectors",
    "asyncio",
}
ALLOWED = {("randomness.py", "_random")}  # SeededRandom's engine, always given a seed
FORBIDDEN_ATTRS = {("os", "urandom"), ("os", "getrandom"), ("datetime", "now")}
# Calls that touch the file system (pathlib's and the builtin open).
FILE_CALLS = {
    "read_bytes",
    "write_bytes",
    "read_text",
    "write_text",
    "mkdir",
    "chmod",
    "unlink",
    "rmdir",
    "iterdir",
    "touch",
    "glob",
    "rglob",
    "symlink_to",
    "expanduser",
}


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
    assert PKG / "loop.py" in protocol_modules()


def test_no_clock_randomness_or_io_in_protocol_code() -> None:
    offenders = []
    for path in protocol_modules():
        rel = str(path.relative_to(PKG))
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [(node.module or "").split(".")[0]] if node.level == 0 else []
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if (node.value.id, node.attr) in FORBIDDEN_ATTRS:
                    offenders.append(f"{rel}:{node.lineno} {node.value.id}.{node.attr}")
                continue
            else:
                continue
            for n in names:
                if n in FORBIDDEN_MODULES and (rel, n) not in ALLOWED:
                    offenders.append(f"{rel}:{node.lineno} imports {n}")
    assert offenders == [], "protocol code must take time and randomness from outside"


def file_io_calls(source: str, filename: str) -> list[str]:
    """``open(...)`` and pathlib's file-system calls in ``source``, as ``line: call``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Name) and f.id == "open":
            found.append(f"{node.lineno}: open()")
        elif isinstance(f, ast.Attribute) and f.attr in FILE_CALLS:
            found.append(f"{node.lineno}: .{f.attr}()")
    return found


def test_cores_do_no_file_io() -> None:
    offenders = [
        f"{path.relative_to(PKG)}:{call}"
        for path in core_files()
        for call in file_io_calls(path.read_text(), str(path))
    ]
    assert offenders == [], "cores take bytes and objects; files are read at the edge"


def test_the_file_io_check_sees_what_the_cores_used_to_do() -> None:
    # What tls/verify.py and tls/pki.py did before PEM files moved to drivers/pem.py.
    before = (
        "def from_pem_files(p):\n"
        "    return Path(p).read_bytes()\n"
        "def write_pem(self, c, k):\n"
        "    Path(c).write_bytes(self.cert_pem())\n"
        "    Path(k).chmod(0o600)\n"
        "    with open(k) as f:\n"
        "        pass\n"
    )
    assert file_io_calls(before, "before.py") == [
        "2: .read_bytes()",
        "4: .write_bytes()",
        "5: .chmod()",
        "6: open()",
    ]
