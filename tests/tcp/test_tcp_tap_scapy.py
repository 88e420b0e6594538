"""Segments crafted by scapy in the kernel's namespace (not our codec, not the kernel's
TCP, whose RSTs an nftables rule drops) reach our host over the TAP: our SYN,ACK's first
ACK echoes the TSval of the peer's ACK (RFC 7323 §4.3), an old timestamp at the exact
sequence number is dropped with an ACK (PAWS, §5.3), an in-window RST draws a challenge
ACK (RFC 5961 §3.2), a zero-window probe carrying data is ACKed with the window still
zero (RFC 9293 §3.10.7.4), and a FIN beyond a hole is ACKed at once with a SACK block
covering it (RFC 5681 §4.2). Root only."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from minternet.drivers.entropy import SystemRandom
from minternet.drivers.realtime import RealtimeLoop
from minternet.drivers.tap import TapLink, TapPort, tap_network
from minternet.node.host import Host
from minternet.node.tcp_host import attach_tcp
from minternet.tcp.connection import TcpConfig
from minternet.trace.bus import TraceBus
from required_tools import NETNS

pytestmark = [pytest.mark.root, pytest.mark.tools(*NETNS, "nft")]

PEER = textwrap.dedent("""
    import json, sys
    from scapy.all import IP, TCP, Raw, conf, sr1, send, sniff, AsyncSniffer
    conf.verb = 0
    us, iface = sys.argv[1], sys.argv[2]
    out = {}
    def ts(p):
        return dict(p[TCP].options).get("Timestamp")
    def ask(seg, count=1):
        s = AsyncSniffer(iface=iface, count=count,
                         lfilter=lambda p: TCP in p and p[IP].src == us)
        s.start()
        import time; time.sleep(0.2)
        send(IP(dst=us) / seg)
        s.join(timeout=3)
        if s.running:
            s.stop()
        return (s.results or [])[:count]
    syn = TCP(sport=40001, dport=8080, flags="S", seq=1000, window=65535,
              options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1000, 0))])
    (synack,) = ask(syn)
    out["synack_tsecr"] = ts(synack)[1]
    isn = synack[TCP].seq
    send(IP(dst=us) / TCP(sport=40001, dport=8080, flags="A", seq=1001, ack=isn + 1,
                         window=65535, options=[("Timestamp", (2000, ts(synack)[0]))]))
    # an out-of-order segment: it does not update TS.Recent, so our answer echoes 2000
    (a,) = ask(TCP(sport=40001, dport=8080, flags="PA", seq=1501, ack=isn + 1, window=65535,
                   options=[("Timestamp", (2100, 0))]) / Raw(b"o" * 10))
    out["first_ack_tsecr"] = ts(a)[1]
    # PAWS: the exact sequence number, a TSval older than TS.Recent
    (a,) = ask(TCP(sport=40001, dport=8080, flags="PA", seq=1001, ack=isn + 1, window=65535,
                   options=[("Timestamp", (500, 0))]) / Raw(b"stale"))
    out["paws_ack"] = a[TCP].ack - 1001
    # RFC 5961: a RST inside the window but not at RCV.NXT
    (a,) = ask(TCP(sport=40001, dport=8080, flags="R", seq=1101, window=0))
    out["challenge_flags"] = str(a[TCP].flags)
    out["challenge_ack"] = a[TCP].ack - 1001
    # fill the 4096-byte window (the application does not read), then probe with data
    seq = 1001
    for n in (1448, 1448, 1200):
        send(IP(dst=us) / TCP(sport=40001, dport=8080, flags="PA", seq=seq, ack=isn + 1,
                              window=65535, options=[("Timestamp", (3000, 0))]) / Raw(b"d" * n))
        seq += n
    import time; time.sleep(0.5)
    (a,) = ask(TCP(sport=40001, dport=8080, flags="PA", seq=seq, ack=isn + 1, window=65535,
                   options=[("Timestamp", (3100, 0))]) / Raw(b"p"))
    out["probe_ack"] = a[TCP].ack - 1001
    out["probe_window"] = a[TCP].window
    # a second connection: its FIN before the 10 bytes in front of it (RFC 5681 §4.2: an
    # out-of-order segment is ACKed at once; the SACK block covers the FIN's number)
    (synack,) = ask(TCP(sport=40002, dport=8080, flags="S", seq=5000, window=65535,
                        options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (4000, 0))]))
    isn = synack[TCP].seq
    send(IP(dst=us) / TCP(sport=40002, dport=8080, flags="A", seq=5001, ack=isn + 1,
                         window=65535, options=[("Timestamp", (4001, ts(synack)[0]))]))
    (a,) = ask(TCP(sport=40002, dport=8080, flags="FA", seq=5011, ack=isn + 1, window=65535,
                   options=[("Timestamp", (4002, 0))]))
    out["ofo_fin_ack"] = a[TCP].ack - 5001
    out["ofo_fin_sack"] = [x - 5001 for x in dict(a[TCP].options).get("SAck", ())]
    (a,) = ask(TCP(sport=40002, dport=8080, flags="PA", seq=5001, ack=isn + 1, window=65535,
                   options=[("Timestamp", (4003, 0))]) / Raw(b"h" * 10))
    out["hole_filled_ack"] = a[TCP].ack - 5001
    print(json.dumps(out), flush=True)
""")


def test_crafted_segments_get_the_rfc_answers() -> None:
    with tap_network("10.84.0.0/24") as net:
        net.ns.run(["nft", "add", "table", "inet", "t"])
        net.ns.run(["nft", "add", "chain", "inet", "t", "o",
                    "{ type filter hook output priority 0 ; }"])  # fmt: skip
        net.ns.run(["nft", "add", "rule", "inet", "t", "o", "tcp", "flags", "rst", "drop"])
        loop = RealtimeLoop()
        trace = TraceBus()
        host = Host("us", loop, SystemRandom(), trace)
        iface = host.add_interface("eth0", "02:00:00:00:84:02", net.host_ip, net.prefixlen)
        config = TcpConfig(recv_buffer=4096, window_scaling=False, delayed_ack=0)
        tcp = attach_tcp(host, config)
        port = TapPort(loop, net.tap, trace=trace, node="us", iface="eth0")
        TapLink(port, iface)
        port.start()
        tcp.listen(8080)  # accepted connections are never read: the window closes
        proc = net.ns.popen(
            [sys.executable, "-c", PEER, net.host_ip, net.kernel_ifname],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        loop.run_forever(stop=lambda: proc.poll() is not None)
        out, err = proc.communicate(timeout=30)
        port.stop()
        loop.close()
    assert out, err
    got = json.loads(out)
    assert got["synack_tsecr"] == 1000
    assert got["first_ack_tsecr"] == 2000  # not the SYN's 1000
    assert got["paws_ack"] == 0  # "stale" was not accepted
    assert got["challenge_flags"] == "A" and got["challenge_ack"] == 0
    assert got["probe_ack"] == 4096 and got["probe_window"] == 0
    # the FIN held beyond a hole: ACKed at once with a SACK block of its sequence number;
    # the 10 bytes then take RCV.NXT past the FIN
    assert got["ofo_fin_ack"] == 0 and got["ofo_fin_sack"] == [10, 11]
    assert got["hole_filled_ack"] == 11
