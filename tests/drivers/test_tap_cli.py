"""``minternet tap``: a clear one-line refusal without root; ``down`` removes our leftovers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from minternet.drivers import netns
from minternet.drivers.netns import Namespace, list_namespaces

CliRunner = Callable[..., subprocess.CompletedProcess[str]]
SRC = Path(__file__).resolve().parents[2] / "src"

ROOT_OK = os.geteuid() == 0 and os.path.exists("/dev/net/tun") and shutil.which("ip") is not None


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root to drop to nobody"
)
@pytest.mark.parametrize("cmd", [["tap", "down"]])
def test_without_root_tap_says_so_in_one_line(cmd: list[str]) -> None:
    proc = subprocess.run(
        [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            sys.executable,
            "-m",
            "minternet",
            *cmd,
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(SRC)),
        timeout=60,
        cwd="/",
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"minternet: minternet tap {cmd[1]} needs root (network namespaces and TAP devices): "
        "run it with sudo"
    ]
    assert "Traceback" not in proc.stderr


@pytest.mark.root
@pytest.mark.skipif(not ROOT_OK, reason="needs root, /dev/net/tun and iproute2")
def test_tap_down_removes_a_killed_runs_namespace(run_cli: CliRunner) -> None:
    prefix = f"minternet-downtest-{os.getpid()}-"
    ns = Namespace(prefix + "a")
    ns.create()
    netns._registry.discard(ns)  # as if its process had been SIGKILLed
    proc = run_cli("tap", "down", "--prefix", prefix)
    assert f"removed {ns.name}" in proc.stdout
    assert ns.name not in list_namespaces()
    assert "nothing to remove" in run_cli("tap", "down", "--prefix", prefix).stdout
    bad = run_cli("tap", "down", "--prefix", "eth", check=False)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
