"""The story's sentences that were false (issue 12), each checked on the run that produced
it against what scapy reads independently from that run's own pcapng."""

from __future__ import annotations

from pathlib import Path

from scapy.layers.inet import IP, TCP
from scapy.utils import rdpcap

from minternet.apps.fetch_run import FetchOptions, FetchRun, run_fetch
from minternet.cli.fetch_story import write_outputs
from minternet.report.story import Story, build_story, story_lines

SERVER_IP = "93.184.216.34"


def _run(tmp_path: Path, **kw: object) -> tuple[FetchRun, Story, str, list[TCP]]:
    run = run_fetch(FetchOptions(**kw))  # type: ignore[arg-type]
    pcap = tmp_path / "run.pcapng"
    write_outputs(run, pcap, True, None, ("laptop",))
    story = build_story(run, secrets=True)
    text = "\n".join(story_lines(story))
    segs = [p[TCP] for p in rdpcap(str(pcap)) if p.haslayer(TCP)]
    return run, story, text, segs


def _ip_tcp(tmp_path: Path, run: FetchRun) -> list[tuple[str, TCP]]:
    pcap = tmp_path / "run.pcapng"
    return [(p[IP].src, p[TCP]) for p in rdpcap(str(pcap)) if p.haslayer(TCP)]


def test_certificate_failure_closes_by_abort_not_half_close(tmp_path: Path) -> None:
    run, story, text, _ = _run(tmp_path, scenario="expired-cert")
    wire = _ip_tcp(tmp_path, run)
    # scapy: both ends sent RST (the laptop's capture point sees both)
    rst_from = {src for src, t in wire if t.flags.R}
    assert SERVER_IP in rst_from and len(rst_from) == 2
    phase4 = text.split("Phase 4")[1]
    assert "ACK of the client's FIN" not in phase4
    assert "half-close window" not in phase4
    assert "the server is done too" not in phase4
    assert "the browser and the server aborted the connection" in phase4
    assert story.facts.close.kind == "abort"
    assert story.failure is not None and "certificate warning" in story.failure.explanation


def test_blackhole_retransmits_its_syn_not_none_bytes(tmp_path: Path) -> None:
    run, story, text, _ = _run(tmp_path, scenario="blackhole")
    wire = _ip_tcp(tmp_path, run)
    syns = [t for src, t in wire if t.flags.S and not t.flags.A]
    assert len({t.seq for t in syns}) == 1  # the same ISN, sent again
    assert "None" not in text
    assert text.count("TCP retransmits[/] its SYN (Seq = X)") == len(syns) - 1
    assert story.failure is not None
    assert f"no answer to {len(syns)} SYNs" in story.failure.summary


def _close_on_the_wire(
    tmp_path: Path, seed: int, loss: float
) -> tuple[Story, str, list[tuple[float, str, TCP]]]:
    """The run's story and, read by scapy from its default capture, every TCP segment of
    the close as (virtual time, capture point, segment)."""
    from minternet.tls.pki import SIM_EPOCH

    run = run_fetch(FetchOptions(seed=seed, faults=_loss(loss)))
    pcap = tmp_path / "run.pcapng"
    write_outputs(run, pcap, False, None)  # the default: laptop/eth0 … www/eth0
    story = build_story(run)
    text = "\n".join(story_lines(story))
    t0 = SIM_EPOCH.timestamp()
    wire = [
        (float(p.time) - t0, str(p.sniffed_on), p[TCP])
        for p in rdpcap(str(pcap))
        if p.haslayer(TCP) and 443 in (p[TCP].sport, p[TCP].dport)
    ]
    return story, text, wire


def _fins_at_laptop(wire: list[tuple[float, str, TCP]]) -> list[tuple[float, TCP]]:
    return [(t, s) for t, at, s in wire if at == "laptop/eth0" and s.sport == 443 and s.flags.F]


def test_time_wait_after_a_clean_close_is_two_msl_from_the_servers_fin(tmp_path: Path) -> None:
    """--loss 0.1 --seed 3 (the issue's case): no RST anywhere; the server's FIN reaches the
    laptop once, and TIME-WAIT ends exactly 2×MSL (60 s) after scapy sees it arrive."""
    story, text, wire = _close_on_the_wire(tmp_path, 3, 0.1)
    assert not [s for _, _, s in wire if s.flags.R]
    fins = _fins_at_laptop(wire)
    assert len(fins) == 1
    tw = story.facts.close.time_wait
    assert tw is not None and tw.ended_by == "timer" and not tw.fin_again and tw.end is not None
    assert abs(tw.start - fins[0][0]) < 1e-6 and abs(tw.end - (fins[0][0] + 60)) < 1e-6
    assert "TIME-WAIT lasted 60.000 s (2×MSL)" in text
    assert "cut short" not in text and "did its job" not in text


def test_time_wait_acks_the_fin_that_came_again_and_restarts(tmp_path: Path) -> None:
    """--loss 0.2 --seed 6: the laptop's last ACK is lost, the server's FIN comes again —
    the case TIME-WAIT exists for. scapy: two FINs (one Seq) reach the laptop, the laptop
    ACKs each, only the second ACK reaches www; TIME-WAIT ends 2×MSL after the second FIN."""
    story, text, wire = _close_on_the_wire(tmp_path, 6, 0.2)
    fins = _fins_at_laptop(wire)
    assert len(fins) == 2 and fins[0][1].seq == fins[1][1].seq
    fin_ack = (fins[0][1].seq + 1) % 2**32
    acks_sent = [t for t, at, s in wire if at == "laptop/eth0" and s.dport == 443
                 and s.flags.A and not s.flags.F and s.ack == fin_ack]  # fmt: skip
    acks_in = [t for t, at, s in wire if at == "www/eth0" and s.dport == 443
               and s.flags.A and not s.flags.F and s.ack == fin_ack]  # fmt: skip
    assert len(acks_sent) == 2 and len(acks_in) == 1 and acks_in[0] > acks_sent[1]
    assert not [s for _, _, s in wire if s.flags.R]
    first, again = fins[0][0], fins[1][0]
    tw = story.facts.close.time_wait
    assert tw is not None and tw.end is not None and tw.ended_by == "timer"
    assert abs(tw.start - first) < 1e-6 and abs(tw.end - (again + 60)) < 1e-6
    assert f"the server's FIN came again at {again:.3f} s" in text
    assert f"TIME-WAIT lasted {tw.end - first:.3f} s in all: 2×MSL (60.000 s) from that" in text
    assert "TIME-WAIT lasted 60.000 s (2×MSL)" not in text
    assert (
        "TCP retransmits[/] its FIN at relative seq" in text
        and "retransmits[/] 0 bytes" not in text
    )


def test_rsa_cbc_secrets_show_mac_keys_and_the_page_does_not_claim_ecdhe(tmp_path: Path) -> None:
    run, _story, text, segs = _run(tmp_path, kex="rsa", cipher="TLS_RSA_WITH_AES_128_CBC_SHA")
    assert run.ok and run.page is not None
    assert b"from an ECDHE\nexchange" not in run.page.body
    assert "client_write_mac_key: " in text and "server_write_mac_key: " in text
    mac = text.split("client_write_mac_key: ")[1].split()[0]
    assert len(bytes.fromhex(mac)) == 20  # HMAC-SHA1 (RFC 5246 §6.2.3.1)
    assert "Client Random + Server Random" not in text  # EMS was agreed
    assert "extended master secret, RFC 7627" in text
    # the capture carries the CBC records the keys protect
    assert any(bytes(t.payload)[:1] == b"\x17" for t in segs)


def test_x25519_is_the_u_coordinate(tmp_path: Path) -> None:
    _, _story, text, _ = _run(tmp_path)
    assert "x25519 u-coordinate" in text and "x-coordinate" not in text


def test_listen_is_the_servers_passive_open_from_the_start(tmp_path: Path) -> None:
    run, _story, text, _ = _run(tmp_path)
    wire = _ip_tcp(tmp_path, run)
    assert any(t.flags.S and t.flags.A for src, t in wire if src == SERVER_IP)
    assert "LISTEN on port 443 since 0.000 s (the server's passive OPEN)" in text
    assert "CLOSED → [bold]LISTEN" not in text


def _loss(p: float):  # type: ignore[no-untyped-def]
    from minternet.sim.faults import Faults

    return Faults(loss=p)


def test_server_timeout_is_the_servers_deadline_not_a_certificate_warning(tmp_path: Path) -> None:
    run, story, text, _ = _run(tmp_path, scenario="server-timeout")
    wire = _ip_tcp(tmp_path, run)
    rst_from = [src for src, t in wire if t.flags.R]
    assert rst_from and set(rst_from) == {SERVER_IP}  # scapy: only the server sent RST
    assert not any(t.flags.F for _, t in wire)  # and nobody closed it with a FIN
    f = story.failure
    assert f is not None and f.kind == "tls-timeout" and f.where.startswith("www")
    assert "certificate warning" not in f.explanation
    assert "the browser sent no alert" in f.explanation
    assert all(c.ok for c in story.facts.cert_checks)
    assert "TLS handshake deadline fired" in text and "← RST received" in text


def test_heavy_loss_dns_failure_says_the_resolver_answered(tmp_path: Path) -> None:
    from scapy.layers.dns import DNS

    run = run_fetch(FetchOptions(seed=7, scenario="heavy-loss"))
    story = build_story(run)
    at_resolver, at_laptop = tmp_path / "resolver.pcapng", tmp_path / "laptop.pcapng"
    write_outputs(run, at_resolver, False, None, ("resolver",))
    write_outputs(run, at_laptop, False, None, ("laptop",))

    def answers(path: Path) -> list[DNS]:  # the resolver's (198.51.100.53) answers
        return [
            p[DNS]
            for p in rdpcap(str(path))
            if p.haslayer(DNS) and p[DNS].qr == 1 and p[IP].src == "198.51.100.53"
        ]

    sent = [d for d in answers(at_resolver) if d.ancount and d.rcode == 0]
    got = answers(at_laptop)
    f = story.failure
    assert f is not None and f.kind == "dns"
    # scapy: the resolver did send an answer with records, and none reached the laptop
    assert sent and not got
    assert "The resolver did find the answer" in f.explanation
    assert "no answer reached the laptop" in f.explanation
