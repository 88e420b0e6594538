"""Helpers for tests that run the ``minternet`` command (imported as a plain module:
``from clitools import CliRunner, cli_env``; not from ``conftest``, whose name other
test folders' conftest files share)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("COLUMNS", "120")
    env["NO_COLOR"] = "1"
    return env


CliRunner = Callable[..., subprocess.CompletedProcess[str]]
