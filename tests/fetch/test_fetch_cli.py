"""``minternet fetch`` as a user runs it: the capture opens decrypted in tshark, the same
seed gives the same bytes, every failure story explains itself and exits non-zero."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from clitools import CliRunner
from minternet.apps.fetch_run import SCENARIOS

TSHARK = shutil.which("tshark")
needs_tshark = pytest.mark.tools("tshark")


def tshark(*args: str) -> str:
    assert TSHARK is not None
    out = subprocess.run([TSHARK, *args], capture_output=True, text=True, timeout=120, check=True)
    return out.stdout


@needs_tshark
def test_pcap_decrypts_in_tshark_with_no_setup(tmp_path: Path, run_cli: CliRunner) -> None:
    every = tmp_path / "run.pcapng"
    one = tmp_path / "laptop.pcapng"
    run_cli("fetch", "-q", "--pcap", str(every))
    run_cli("fetch", "-q", "--pcap", str(one), "--pcap-at", "laptop")
    # the Decryption Secrets Block: no keylog option, the GET is readable
    assert "GET /index.html HTTP/1.1" in tshark("-r", str(every), "-Y", "http.request")
    # one capture point (like tcpdump on the laptop): both messages, no complaint at all
    out = tshark("-r", str(one), "-Y", "http")
    assert "GET /index.html HTTP/1.1" in out and "HTTP/1.1 200 OK" in out
    assert tshark("-r", str(one), "-Y", "_ws.malformed || _ws.expert.severity >= warning") == ""
    # every interface: each packet is seen once per hop; one interface at a time is clean
    names = tshark("-r", str(every), "-T", "fields", "-e", "frame.interface_name")
    assert {"laptop/eth0", "home-router/eth1", "transit/eth1", "www/eth0"} <= set(names.split())
    per_iface = tshark(
        "-r", str(every), "-2", "-R", 'frame.interface_name == "www/eth0"', "-Y", "_ws.malformed"
    )
    assert per_iface == ""


@needs_tshark
def test_plain_capture_decrypts_with_the_keylog_file(tmp_path: Path, run_cli: CliRunner) -> None:
    pcap, keys = tmp_path / "plain.pcapng", tmp_path / "keys.txt"
    run_cli(
        "fetch",
        "-q",
        "--pcap",
        str(pcap),
        "--pcap-at",
        "laptop",
        "--no-pcap-secrets",
        "--keylog",
        str(keys),
    )
    assert keys.read_text().startswith("CLIENT_RANDOM ")
    assert "GET /index.html" not in tshark("-r", str(pcap), "-Y", "http.request")
    out = tshark("-r", str(pcap), "-o", f"tls.keylog_file:{keys}", "-Y", "http")
    assert "GET /index.html HTTP/1.1" in out and "HTTP/1.1 200 OK" in out


def test_same_seed_same_bytes(tmp_path: Path, run_cli: CliRunner) -> None:
    digests = []
    for i in range(2):
        pcap = tmp_path / f"{i}.pcapng"
        out = run_cli("fetch", "--json", "--seed", "5", "--pcap", str(pcap)).stdout
        digests.append(
            (
                hashlib.sha256(out.encode()).hexdigest(),
                hashlib.sha256(pcap.read_bytes()).hexdigest(),
            )
        )
    assert digests[0] == digests[1]
    # and the story a person reads (each run in a fresh interpreter)
    texts = [run_cli("fetch", "--seed", "5").stdout for _ in range(2)]
    assert texts[0] == texts[1] and "Phase 4" in texts[0]
    other = run_cli("fetch", "--json", "--seed", "6").stdout
    assert json.loads(other)["tcp"]["client_isn"] != json.loads(out)["tcp"]["client_isn"]


@pytest.mark.parametrize(
    "name", [n for n in SCENARIOS if n not in ("heavy-loss", "inbound-blocked", "dhcp-conflict")]
)
def test_each_scenario_explains_and_fails(name: str, run_cli: CliRunner) -> None:
    proc = run_cli("fetch", "--scenario", name, check=False)
    assert proc.returncode == 1, proc.stderr
    assert "What happened" in proc.stdout and "Traceback" not in proc.stderr
    expect = {
        "expired-cert": "validity",
        "wrong-host": "shop.example.net",
        "untrusted-ca": "Unknown Root CA",
        "nxdomain": "NXDOMAIN",
        "port-closed": "RST",
        "blackhole": "blackhole",
        "server-timeout": "handshake deadline",
    }[name]
    assert expect in proc.stdout


def test_dhcp_conflict_declines_then_fetches_from_another_address(run_cli: CliRunner) -> None:
    """The probe finds the printer on 192.168.1.10; the laptop declines, gets .11, and the
    page arrives from there: exit 0, and the story says why."""
    proc = run_cli("fetch", "--scenario", "dhcp-conflict")
    out = proc.stdout
    assert "conflict: printer" in out and "DHCPDECLINE" in out
    assert "What happened: the address was taken" in out and "192.168.1.11" in out
    s = json.loads(run_cli("fetch", "--scenario", "dhcp-conflict", "--json").stdout)
    assert s["ok"] and s["dhcp"]["lease"]["address"] == "192.168.1.11/24"
    assert [c["address"] for c in s["dhcp"]["conflicts"]] == ["192.168.1.10"]
    kinds = [m["type"] for m in s["dhcp"]["messages"]]
    assert kinds == ["DHCPDISCOVER", "DHCPOFFER", "DHCPREQUEST", "DHCPACK", "DHCPDECLINE",
                     "DHCPDISCOVER", "DHCPOFFER", "DHCPREQUEST", "DHCPACK"]  # fmt: skip
    assert s["hops"][0]["src"] == "192.168.1.11"


def test_heavy_loss_exits_by_outcome(run_cli: CliRunner) -> None:
    proc = run_cli("fetch", "--scenario", "heavy-loss", "--json", check=False)
    s = json.loads(proc.stdout)
    assert proc.returncode == (0 if s["ok"] else 1)
    assert s["tcp"]["retransmissions"] > 0 or not s["ok"]


def test_scenario_list_and_bad_options(run_cli: CliRunner) -> None:
    out = run_cli("fetch", "--scenario", "list").stdout
    assert all(n in out for n in SCENARIOS)
    bad = run_cli("fetch", "--scenario", "nope", check=False)
    assert bad.returncode == 2 and "no scenario 'nope'" in bad.stderr
    bad = run_cli("fetch", "--cipher", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", check=False)
    assert bad.returncode == 2 and "ECDSA" in bad.stderr


def test_demo_tells_the_default_fetch(run_cli: CliRunner) -> None:
    out = run_cli("demo").stdout
    assert "Phase 1" in out and "TIME-WAIT" in out and "IT WORKS" in out


@needs_tshark
def test_capture_is_dated_like_the_world(tmp_path: Path, run_cli: CliRunner) -> None:
    """The pcapng's timestamps are on the world's calendar (2026-06-01, SIM_EPOCH): the
    server's HTTP Date, decrypted by tshark, falls within the capture's first and last frame."""
    from email.utils import parsedate_to_datetime

    pcap = tmp_path / "run.pcapng"
    run_cli("fetch", "-q", "--pcap", str(pcap), "--pcap-at", "laptop")
    epochs = tshark("-r", str(pcap), "-T", "fields", "-e", "frame.time_epoch").split()
    first, last = float(epochs[0]), float(epochs[-1])
    dates = tshark("-r", str(pcap), "-Y", "http.date", "-T", "fields", "-e", "http.date")
    served = parsedate_to_datetime(dates.split("\n")[0].strip()).timestamp()
    assert int(first) // 86400 == int(served) // 86400  # the same day: 2026-06-01
    assert first - 1 <= served <= last + 1


def test_simulated_fetch_waits_as_long_as_sweep_and_demo(
    monkeypatch: pytest.MonkeyPatch, run_cli: CliRunner
) -> None:
    """``fetch --seed N --loss L`` is the run behind a sweep row (README): the same options,
    the browser's patience included (it was 15 s on the command line, 30 s elsewhere)."""
    from minternet.apps.fetch_run import FetchOptions, run_fetch
    from minternet.cli import fetch_story

    seen: list[FetchOptions] = []

    def spy(opts: FetchOptions) -> object:
        seen.append(opts)
        return run_fetch(opts)

    monkeypatch.setattr(fetch_story, "run_fetch", spy)
    run_cli("fetch", "-q", "--seed", "3", "--loss", "0.1")
    run_cli("fetch", "-q", "--timeout", "7")
    assert seen[0] == FetchOptions(seed=3, faults=seen[0].faults)
    assert seen[0].faults.loss == 0.1 and seen[1].timeout == 7
