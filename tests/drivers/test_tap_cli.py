"""``minternet tap``: a clear one-line refusal without root; ``down`` removes our leftovers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from minternet.drivers import netns
from minternet.drivers.netns import Namespace, list_namespaces
from required_tools import NETNS

CliRunner = Callable[..., subprocess.CompletedProcess[str]]
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.mark.tools("root", "setpriv")  # root, to drop to nobody
@pytest.mark.parametrize("cmd", [["tap", "down"], ["tap", "up"], ["tap", "world"]])
def test_without_root_tap_says_so_in_one_line(cmd: list[str]) -> None:
    proc = subprocess.run(
        [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            # Keep only the right to read files, so that the checkout and its .venv load
            # even from a folder only root may enter (a mktemp -d clone): still not root,
            # and without CAP_NET_ADMIN.
            "--inh-caps=+dac_read_search",
            "--ambient-caps=+dac_read_search",
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
@pytest.mark.tools(*NETNS)
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


needs_host = pytest.mark.tools(*NETNS)


def start_tap_up(ns_name: str, *extra: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "minternet", "tap", "up", "--netns", ns_name, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(SRC)),
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert ns_name in first, first + (proc.stderr.read() if proc.stderr else "")
    return proc, first


@pytest.mark.root
@needs_host
def test_tap_up_serves_ping_and_cleans_up_on_sigterm() -> None:
    ns_name = f"minternet-uptest-{os.getpid()}"
    proc, first = start_tap_up(ns_name, "--duration", "60")
    assert "our host 10.77.0.2" in first and "the kernel is 10.77.0.1" in first
    ping = subprocess.run(
        ["ip", "netns", "exec", ns_name, "ping", "-n", "-c", "2", "-i", "0.2", "-W", "2",
         "10.77.0.2"],
        capture_output=True,
        text=True,
        timeout=20,
    )  # fmt: skip
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert ping.returncode == 0, ping.stdout + ping.stderr
    assert proc.returncode == 0, err
    assert f"removed namespace {ns_name}" in out
    assert ns_name not in list_namespaces()
    assert not list(Path("/run/minternet").glob(f"tap-{proc.pid}.json"))


@pytest.mark.root
@needs_host
def test_tap_down_stops_a_running_tap_up(run_cli: CliRunner) -> None:
    ns_name = f"minternet-downup-{os.getpid()}"
    proc, _ = start_tap_up(ns_name)
    down = run_cli("tap", "down", "--prefix", ns_name)
    out, err = proc.communicate(timeout=20)
    assert f"stopped tap up (pid {proc.pid})" in down.stdout
    assert f"removed namespace {ns_name}" in out, (down, out, err, proc.returncode)
    assert ns_name not in list_namespaces()


@pytest.mark.root
@needs_host
def test_tap_up_json_summary(run_cli: CliRunner) -> None:
    ns_name = f"minternet-jsonup-{os.getpid()}"
    proc = run_cli("tap", "up", "--netns", ns_name, "--duration", "0.3", "--json")
    summary = json.loads(proc.stdout)
    assert summary["netns"] == ns_name
    assert summary["kernel"] == "10.77.0.1" and summary["host"] == "10.77.0.2"
    assert summary["subnet"] == "10.77.0.0/24" and "interrupted" not in summary
    assert ns_name not in list_namespaces()


@pytest.mark.root
@needs_host
@pytest.mark.tools("tshark")
def test_tap_up_pcap_is_read_by_tshark_without_malformed_packets(tmp_path: Path) -> None:
    ns_name = f"minternet-pcapup-{os.getpid()}"
    pcap = tmp_path / "tap.pcapng"
    proc, _ = start_tap_up(ns_name, "--pcap", str(pcap), "--duration", "60")
    subprocess.run(
        ["ip", "netns", "exec", ns_name, "ping", "-n", "-c", "3", "-i", "0.2", "-W", "2",
         "10.77.0.2"],
        capture_output=True,
        check=True,
        timeout=20,
    )  # fmt: skip
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=20)
    assert proc.returncode == 0
    fields = subprocess.run(
        ["tshark", "-r", str(pcap), "-T", "fields", "-e", "frame.protocols",
         "-e", "_ws.malformed", "-e", "_ws.expert.severity", "-e", "frame.interface_name"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.splitlines()  # fmt: skip
    rows = [line.split("\t") for line in fields]
    protocols = [r[0] for r in rows]
    assert sum("icmp" in p for p in protocols) == 6  # 3 requests in, 3 replies out
    assert any(p.endswith("arp") for p in protocols)
    assert all(r[1] == "" for r in rows), "malformed packets"
    assert {r[3] for r in rows} == {"ours/eth0"}
