"""Every failure story draws both panels: well-formed, the failed certificate check is the
one whose alert the client sent, a run without a handshake says so, and the blackholed
route's SYN retransmissions are the ones tshark sees leave the laptop."""

from __future__ import annotations

from pathlib import Path

import pytest
from panel_dom import capture_point, fields, having, minternet, parse

from minternet.apps.fetch_run import SCENARIOS, FetchOptions, run_fetch
from minternet.cli.fetch_story import captured
from minternet.report.facts import run_facts
from minternet.report.panels import tcp_panel_html, tls_panel_html

# RFC 5246 §7.2.2's alert for each check that can fail here (the NSS choices, tls/verify.py)
ALERT_OF_CHECK = {
    "validity": "certificate_expired",
    "hostname": "bad_certificate",
    "chain": "unknown_ca",
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_scenario_draws_both_panels(name: str) -> None:
    run = run_fetch(FetchOptions(seed=2, scenario=name))
    facts = run_facts(run)
    tcp = parse(tcp_panel_html(run.log.events, run.frames))
    tls = parse(tls_panel_html(facts, run.keylog, run.frames))
    ended = {
        e.node: e.fields["new"] for e in run.log.events if (e.layer, e.kind) == ("tcp", "state")
    }
    for fig in having(tcp, "mp-tcp-end"):
        states = [el.get("data-state") for el in having(fig, "mp-state")]
        assert states[-1] == ended[fig.get("data-node", "")]
    failed = [
        el.get("data-check") for el in having(tls, "mp-check") if el.get("data-ok") == "false"
    ]
    alerts = " ".join(alert for side, alert in facts.alerts_sent if side == "client")
    for check in failed:
        assert ALERT_OF_CHECK[check or ""] in alerts
    if facts.handshake.client_random is None:
        assert "No TLS handshake" in "".join(tls.itertext())
    if name in ("expired-cert", "wrong-host", "untrusted-ca"):
        assert len(failed) == 1


@pytest.mark.tools("tshark")
def test_blackhole_syn_retransmissions(tmp_path: Path) -> None:
    pcap = tmp_path / "blackhole.pcapng"
    proc = minternet("fetch", "--scenario", "blackhole", "--seed", "2", "-q", "--pcap", str(pcap))
    assert proc.returncode == 1, proc.stderr
    run = run_fetch(FetchOptions(seed=2, scenario="blackhole"))  # what the command ran
    frames = captured(run, {n for n, _ in run.world.capture_points()})
    assert len(fields(pcap, "frame", "frame.number")) == len(frames)  # the same run
    (fig,) = having(parse(tcp_panel_html(run.log.events, frames)), "mp-tcp-end")
    here = capture_point(pcap, "laptop/eth0", tmp_path / "laptop.pcapng")
    addr = run.world.node("laptop").address
    resent = fields(here, f"ip.src == {addr} && tcp.analysis.retransmission", "frame.number")
    marks = having(fig, "mp-retx")
    assert len(marks) == len(resent) > 0
    syns = fields(pcap, "tcp.flags.syn == 1 && tcp.flags.ack == 0", "frame.number")
    assert {int(m.get("data-frame", "")) + 1 for m in marks} <= {int(n) for (n,) in syns}
