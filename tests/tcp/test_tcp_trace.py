"""What the trace tells a learner: states with causes, segments with absolute and relative
numbers, retransmissions, duplicate ACKs, cwnd/ssthresh and RTO changes."""

from __future__ import annotations

from tcp_transfer import start_transfer

from minternet.sim.faults import Faults
from minternet.trace.bus import EventLog


def test_trace_of_a_lossy_transfer() -> None:
    t = start_transfer(2, size=300_000, faults=Faults(loss=0.05))
    log = EventLog()
    t.net.trace.subscribe(log)
    t.net.loop.run()
    assert t.intact
    tcp = log.of("tcp")
    kinds = {e.kind for e in tcp}
    assert {"state", "send", "recv", "retransmit", "dup-ack", "cwnd", "rtt"} <= kinds

    # The three-way handshake: SYN with ISN X, SYN,ACK acknowledging X + 1, relative 0/1.
    sends = [e for e in tcp if e.kind == "send"]
    syn = next(e for e in sends if e.fields["flags"] == "SYN")
    synack = next(e for e in sends if e.fields["flags"] == "SYN,ACK")
    assert syn.node == "laptop" and syn.fields["rel_seq"] == 0
    assert synack.fields["ack"] == (syn.fields["seq"] + 1) % 2**32
    assert synack.fields["rel_ack"] == 1 and synack.fields["rel_seq"] == 0
    assert syn.fields["options"][:2] == ["MSS=1460", "SACK_PERM"]

    # Every state change says why.
    states = [e for e in tcp if e.kind == "state"]
    assert all(e.why for e in states)
    laptop = [e.fields["new"] for e in states if e.node == "laptop"]
    assert laptop[:2] == ["SYN-SENT", "ESTABLISHED"]
    assert "TIME-WAIT" in laptop

    # Congestion control is visible: a loss halves ssthresh at some point.
    cwnd = [e for e in tcp if e.kind == "cwnd"]
    assert any("recovery" in (e.why or "") or "timeout" in (e.why or "") for e in cwnd)
    assert all({"cwnd", "ssthresh", "phase"} <= e.fields.keys() for e in cwnd)
    rtt = [e for e in tcp if e.kind == "rtt"]
    assert all(e.fields["rto"] >= 0.2 and e.fields["srtt"] > 0 for e in rtt)
    retx = [e for e in tcp if e.kind == "retransmit"]
    assert all(e.why for e in retx)
