"""Cores import only cores: the transitive import closure of every protocol core module.

One fresh interpreter imports each core in turn (our modules are dropped from
``sys.modules`` before each, so every core is imported from a clean state and its whole
closure runs again) and reports, for each core:

- every module of ours it loaded that belongs to an outer ring (the loop, nodes, the
  simulator, trace, drivers, apps, the CLI) — directly or through other modules of ours;
- every forbidden standard-library module (clock, sockets, selectors, entropy, file system,
  processes) that one of our loaded modules imports. An import hook records who imports
  what, so ``time`` counts even though the interpreter loaded it at start-up; third-party
  modules are not judged (cryptography's ``x509`` pulls in ``email.utils``, hence
  ``socket`` and ``random``, without drawing or connecting anything).

A known-bad example module kept beside this file (``ring_examples/``) shows the test would
fail if ``tls/client.py`` imported ``node.api`` again.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ring_table import (
    FORBIDDEN_OURS,
    FORBIDDEN_STDLIB,
    MAY_ALSO_IMPORT,
    MAY_IMPORT,
    PKG,
    SRC,
    core_modules,
    module_name,
)

EXAMPLES = Path(__file__).resolve().parent / "ring_examples"

# Runs in the fresh interpreter: argv = [json list of modules, json list of "ours" prefixes].
_PROBE = r"""
import builtins, importlib, json, sys

modules, ours, forbidden_ours, forbidden_std = (json.loads(a) for a in sys.argv[1:5])
real_import = builtins.__import__
edges = []  # (importer, top-level name) for absolute imports made by our modules

def mine(name):
    return any(name == p or name.startswith(p + ".") for p in ours)

def hook(name, globals=None, locals=None, fromlist=(), level=0):
    importer = (globals or {}).get("__name__", "")
    if level == 0 and mine(importer):
        edges.append((importer, name.partition(".")[0]))
    return real_import(name, globals, locals, fromlist, level)

builtins.__import__ = hook
report = {}
for module in modules:
    for name in [n for n in sys.modules if mine(n)]:
        del sys.modules[name]
    edges.clear()
    importlib.import_module(module)
    loaded = sorted(n for n in sys.modules if mine(n))
    bad = [
        n for n in loaded
        if any(n == f or n.startswith(f + ".") for f in forbidden_ours)
    ]
    bad += sorted({f"{top} (imported by {who})" for who, top in edges if top in forbidden_std})
    report[module] = bad
print(json.dumps(report))
"""


def closure_offences(modules: list[str], extra_path: Path | None = None) -> dict[str, list[str]]:
    """For each module, what of the forbidden it loads (an empty list: nothing)."""
    path = [str(SRC)] + ([str(extra_path)] if extra_path is not None else [])
    ours = ["minternet"] + [m for m in modules if not m.startswith("minternet")]
    args = [json.dumps(x) for x in (modules, ours, FORBIDDEN_OURS, FORBIDDEN_STDLIB)]
    proc = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path[:0] = {path!r}\n{_PROBE}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_there_are_cores_in_every_core_package() -> None:
    cores = core_modules()
    for pkg in ("link", "ip", "udp", "tcp", "tls", "dns", "http"):
        assert any(m.startswith(f"minternet.{pkg}.") for m in cores), pkg
    assert "minternet.tls.client" in cores and "minternet.codec" in cores


def test_every_core_imports_only_cores() -> None:
    report = closure_offences(core_modules())
    offences = {m: bad for m, bad in report.items() if bad}
    assert offences == {}, "protocol cores must not load outer rings or I/O modules"


@pytest.mark.parametrize(
    ("example", "expected"),
    [
        # tls/client.py as it was when the tls package imported tls/stream.py: node.api,
        # and through it the loop and the trace bus.
        ("bad_tls_client", {"minternet.node.api", "minternet.loop", "minternet.trace.bus"}),
        # A clock read by a core: caught although the interpreter loaded `time` at start-up.
        ("bad_clock", {"time (imported by bad_clock)"}),
    ],
)
def test_a_known_bad_core_is_caught(example: str, expected: set[str]) -> None:
    report = closure_offences([example], extra_path=EXAMPLES)
    assert expected <= set(report[example]), report


def test_a_good_example_passes_the_same_check() -> None:
    # The control: the same probe on a module that only uses cores reports nothing.
    assert closure_offences(["good_core"], extra_path=EXAMPLES) == {"good_core": []}


def imports_of_ours(path: Path) -> set[str]:
    """The modules of ours that ``path`` imports (every import statement, TYPE_CHECKING too)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            found.add(".".join(base + ([node.module] if node.module else [])))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("minternet"):
            found.add(node.module or "")
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("minternet")}
    return found


def test_every_package_imports_what_the_rings_table_allows() -> None:
    offences = []
    for path in sorted(PKG.rglob("*.py")):
        name = module_name(path)
        if name in ("minternet", "minternet.__main__"):
            continue  # the public API (lazy) and the entry point sit outside the rings
        ring = name.split(".")[1]
        allowed = MAY_IMPORT[ring] | {ring}
        for imported in sorted(imports_of_ours(path)):
            target = imported.split(".")[1] if "." in imported else "minternet"
            if target not in allowed and (name, target) not in MAY_ALSO_IMPORT:
                offences.append(f"{name} imports {imported} ({ring} may not import {target})")
    assert offences == []
