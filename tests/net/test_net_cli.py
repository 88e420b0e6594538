"""The commands as a user runs them: world, ping, traceroute, demo."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


def test_world_json(run_cli: CliRunner) -> None:
    out = json.loads(run_cli("world", "--json").stdout)
    names = {n["name"] for n in out["nodes"]}
    assert {"laptop", "home-router", "isp-router", "transit", "dc-router", "www"} <= names
    laptop = next(n for n in out["nodes"] if n["name"] == "laptop")
    assert laptop["interfaces"][0]["address"] == "192.168.1.10/24"
    assert any(r["to"] == "0.0.0.0/0" and r["via"] == "192.168.1.1" for r in laptop["routes"])
    text = run_cli("world").stdout
    assert "192.168.1.10/24" in text and "home-router" in text


def test_traceroute_lists_every_router_and_ends_at_the_server(run_cli: CliRunner) -> None:
    out = run_cli("traceroute", "93.184.216.34").stdout
    lines = [line for line in out.splitlines() if line[:2].strip().isdigit()]
    assert len(lines) == 5
    for n, (name, addr) in enumerate(
        [
            ("home-router", "192.168.1.1"),
            ("isp-router", "203.0.113.1"),
            ("transit", "192.0.2.2"),
            ("dc-router", "192.0.2.6"),
            ("www.example.com", "93.184.216.34"),
        ],
        start=1,
    ):
        assert lines[n - 1].split()[0] == str(n)
        assert name in lines[n - 1] and f"({addr})" in lines[n - 1] and "ms" in lines[n - 1]
    data = json.loads(run_cli("traceroute", "www.example.com", "--json").stdout)
    assert data["reached"] and data["hops"][-1]["address"] == "93.184.216.34"


def test_ping_shows_reply_ttl(run_cli: CliRunner) -> None:
    out = run_cli("ping", "93.184.216.34", "-c", "3").stdout
    assert out.count("ttl=60") == 3
    assert "0.0% packet loss" in out


def test_ping_exits_1_when_no_reply_came_back(run_cli: CliRunner) -> None:
    proc = run_cli("ping", "10.9.9.9", "-c", "2", check=False)
    assert proc.returncode == 1
    assert "net unreachable from 192.168.1.1" in proc.stdout
    assert "100.0% packet loss" in proc.stdout


def test_ping_loss_is_reported_and_near_expectation(run_cli: CliRunner) -> None:
    out = json.loads(
        run_cli(
            "ping", "93.184.216.34", "-c", "400", "-i", "0.01", "--loss", "0.3", "--json"
        ).stdout
    )
    # --loss applies to each direction of the access line: a round trip crosses it twice.
    assert abs(out["expected_loss"] - 0.51) < 1e-9
    assert abs(out["loss"] - 0.51) < 0.08
    # Where --loss acts, it loses about that share of the frames crossing, reported as such.
    crossed, lost = out["faults"]["frames_crossing"], out["faults"]["frames_lost"]
    assert crossed > 600 and abs(lost / crossed - 0.3) < 0.05
    text = run_cli("ping", "93.184.216.34", "-c", "20", "-i", "0.01", "--loss", "0.3").stdout
    assert "packet loss" in text and "expected loss" in text
    assert "lossy link:" in text and "frames lost" in text


def test_ping_pcap_is_deterministic(run_cli: CliRunner, tmp_path: Path) -> None:
    a, b = tmp_path / "a.pcapng", tmp_path / "b.pcapng"
    run_cli("ping", "www", "-c", "5", "--seed", "3", "--reorder", "0.2", "--pcap", str(a))
    run_cli("ping", "www", "-c", "5", "--seed", "3", "--reorder", "0.2", "--pcap", str(b))
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()


def test_errors_are_one_line(run_cli: CliRunner, tmp_path: Path) -> None:
    r = run_cli("ping", "no-such-host", check=False)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and "no-such-host" in r.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("[nodes.a]\nkind = 'x'\n[[links]]\n")
    r = run_cli("world", "--world", str(bad), check=False)
    assert r.returncode == 2 and "kind must be" in r.stderr and "Traceback" not in r.stderr


def test_demo_runs(run_cli: CliRunner) -> None:
    out = run_cli("demo").stdout  # the seed's story: the packet's path, TTL 64 → 60
    assert "Phase 3" in out and "www receives it with TTL 60 = 64 − 4 routers" in out
