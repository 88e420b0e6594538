"""Issue 15's figures as tests, through ``minternet tcp-transfer`` as a user runs it:
reordering costs little and causes few retransmissions (counted by our trace and by
tshark on the senders' own interfaces), 20 % loss still delivers, 40 % loss ends honestly,
and CUBIC (RFC 9438) with HyStart++ (RFC 9406) is chosen by --cc or the world file."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from minternet.tcp.cubic import BETA, C, Cubic


def _report(run_cli, *args: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    proc = run_cli("tcp-transfer", "--json", *args, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


@pytest.mark.tools("tshark")
@pytest.mark.parametrize("cc", ["newreno", "cubic"])
def test_reordering_costs_little_and_is_not_mistaken_for_loss(  # type: ignore[no-untyped-def]
    run_cli, tmp_path: Path, cc: str
) -> None:
    clean = _report(run_cli, "--size", "2000000", "--cc", cc)
    pcap = tmp_path / "reorder.pcapng"
    reo = _report(run_cli, "--size", "2000000", "--reorder", "0.2", "--cc", cc, "--pcap", str(pcap))
    assert clean["intact"] and reo["intact"]
    assert reo["virtual_seconds"]["total"] <= 2 * clean["virtual_seconds"]["total"]
    assert max(reo["retransmissions"].values()) < 10
    # tshark's own count, on each sender's interface (one pass over the capture).
    senders = {"laptop/eth0": "192.168.1.10", "www/eth0": "93.184.216.34"}
    rows = subprocess.run(
        ["tshark", "-r", str(pcap), "-Y",
         "tcp.analysis.retransmission || tcp.analysis.fast_retransmission",
         "-T", "fields", "-e", "frame.interface_name", "-e", "ip.src"],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout.splitlines()  # fmt: skip
    for node, addr in senders.items():
        resent = [
            r for r in rows if r.split("\t")[0] == node and addr in r.split("\t")[1].split(",")
        ]
        assert len(resent) < 10, (node, resent)


def test_twenty_percent_loss_still_delivers_intact(run_cli) -> None:  # type: ignore[no-untyped-def]
    for seed in range(1, 6):
        r = _report(run_cli, "--size", "100000", "--loss", "0.2", "--seed", str(seed))
        assert r["intact"], (seed, r.get("failure"))


def test_forty_percent_loss_ends_closed_with_an_honest_report(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = _report(run_cli, "--size", "100000", "--loss", "0.4", "--seed", "1")
    for side in ("client", "server"):
        assert r["final"][side]["state"] in ("CLOSED", "TIME-WAIT")
        assert r["final"][side]["next_timer"] is None or r["final"][side]["state"] == "TIME-WAIT"
    if not r["intact"]:
        assert r["stopped"] and "failure" in r
        assert r["received"]["up"] <= 100000


def test_world_file_chooses_cubic_per_host(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    world = tmp_path / "w.toml"
    world.write_text(
        '[nodes.a]\nkind = "host"\ncongestion_control = "cubic"\n'
        '[nodes.b]\nkind = "host"\n'
        '[[links]]\na = "a"\na_ip = "10.0.0.1/24"\nb = "b"\nb_ip = "10.0.0.2/24"\n'
        "latency_ms = 10\n"
    )
    r = _report(run_cli, "--world", str(world), "--from", "a", "--to", "b", "--size", "300000",
                "--timeline")  # fmt: skip
    assert r["intact"]
    phases = {(e["node"], e["fields"]["phase"]) for e in r["timeline"] if e["kind"] == "cwnd"}
    assert ("a", "slow-start") in phases
    bad = tmp_path / "bad.toml"
    bad.write_text(world.read_text().replace('"cubic"', '"vegas"'))
    proc = run_cli("tcp-transfer", "--world", str(bad), "--from", "a", "--to", "b", check=False)
    assert proc.returncode == 2 and "congestion_control" in proc.stderr
    assert r["congestion_control"] == {"client": "cubic", "server": "newreno"}


def test_cc_on_the_command_line_is_recorded(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = _report(run_cli, "--size", "20000", "--cc", "cubic")
    assert r["congestion_control"] == {"client": "cubic", "server": "cubic"}
    for cc in ("newreno", "cubic"):
        out = json.loads(run_cli("fetch", "--seed", "3", "--json", "--cc", cc).stdout)
        assert out["ok"] and out["tcp"]["congestion_control"] == cc


def test_cubic_window_follows_rfc9438() -> None:
    cc = Cubic(1000, cwnd=100_000, ssthresh=50_000)
    cc.on_congestion_event(100_000, now=10.0)
    assert cc.cwnd == cc.ssthresh == int(100_000 * BETA)  # §4.6
    assert cc.w_max == 100.0
    # The first ACK in congestion avoidance starts the epoch: K = cbrt(W_max (1-beta) / C).
    cc.on_ack(1000, now=10.0, srtt=0.1)
    assert cc.k == pytest.approx(((100 - 70) / C) ** (1 / 3))
    # Just after K the window has climbed back to about W_max (the plateau, §4.4).
    t = 10.0 + cc.k
    for _ in range(2000):
        cc.on_ack(1000, now=t, srtt=0.1)
    assert 95_000 <= cc.cwnd <= 150_000
    before = (cc.cwnd, cc.ssthresh)
    cc.on_congestion_event(cc.cwnd, now=t)
    cc.undo(*before)  # §4.9: a spurious event is undone
    assert (cc.cwnd, cc.ssthresh) == before
    cc.on_timeout(cc.cwnd)  # §4.8
    held = (cc.ssthresh, cc.w_max)
    assert cc.cwnd == 1000
    cc.on_timeout(cc.cwnd, repeated=True)  # RFC 5681 §3.1: once per episode
    assert (cc.ssthresh, cc.w_max) == held and cc.cwnd == 1000


def test_hystart_moves_to_conservative_slow_start_when_rtt_rises() -> None:
    cc = Cubic(1000)
    # Round 1 (ACKs up to 10,000) at 50 ms, round 2 (up to 20,000) at 60 ms: a rise above
    # max(50/8, 4) ms, seen after N_RTT_SAMPLE samples, starts CSS (RFC 9406 §4.2).
    for rnd, rtt in ((0, 0.050), (1, 0.060)):
        for i in range(1, 9):
            cc.on_ack(1000, rtt=rtt, ack=rnd * 10_000 + i * 1000, snd_max=(rnd + 1) * 10_000)
    assert cc.phase == "conservative-slow-start" and cc.note is not None
    grown = cc.cwnd
    cc.on_ack(4000, rtt=0.060, ack=19_500, snd_max=20_000)
    assert cc.cwnd - grown == 1000  # growth divided by CSS_GROWTH_DIVISOR
