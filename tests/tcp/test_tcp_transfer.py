"""1 MiB each way, byte-identical (sha256), under loss, reordering, duplication, corruption.

Issue 3 acceptance: loss of 0, 1, 10 and 30 % on every link and the other faults, over at
least 50 seeds each. Every case also checks both ends closed the normal way.
"""

from __future__ import annotations

import pytest
from tcp_transfer import run_transfer

from minternet.sim.faults import Faults
from minternet.tcp.connection import TcpConfig

PROFILES = {
    "clean": Faults(),
    "loss1": Faults(loss=0.01),
    "loss10": Faults(loss=0.10),
    "loss30": Faults(loss=0.30),
    "mixed": Faults(loss=0.02, reorder=0.1, duplicate=0.05, corrupt=0.02),
}
SEEDS = range(50)

CLIENT_STATES = [
    "CLOSED",
    "SYN-SENT",
    "ESTABLISHED",
    "FIN-WAIT-1",
    "FIN-WAIT-2",
    "TIME-WAIT",
    "CLOSED",
]
SERVER_STATES = [
    "CLOSED",
    "LISTEN",
    "SYN-RECEIVED",
    "ESTABLISHED",
    "CLOSE-WAIT",
    "LAST-ACK",
    "CLOSED",
]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("profile", list(PROFILES))
def test_one_mebibyte_each_way(profile: str, seed: int) -> None:
    # At 30 % loss in both directions a retransmission and its ACK both get through only
    # half the time, so allow more consecutive timeouts than the default 15 before giving up.
    cfg = TcpConfig(msl=5.0, max_retries=40 if profile == "loss30" else 15)
    t = run_transfer(seed, faults=PROFILES[profile], config=cfg)
    assert t.net.loop.failed_tasks == []
    assert sorted(t.done) == ["client", "server"]
    assert t.intact
    assert t.client is not None and t.server is not None
    client_states = [str(s) for _, s, _ in t.client.conn.history]
    server_states = [str(s) for _, s, _ in t.server.conn.history]
    # Under faults the peer's FIN may arrive before the ACK of ours (FIN-WAIT-1 -> CLOSING).
    assert client_states in (
        CLIENT_STATES,
        ["CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "CLOSING", "TIME-WAIT", "CLOSED"],
    )
    assert server_states == SERVER_STATES
    stats = t.net.wire.stats
    if profile == "clean":
        assert t.client.conn.retransmissions == t.server.conn.retransmissions == 0
    elif profile.startswith("loss"):
        assert stats.lost > 0
        assert t.client.conn.retransmissions + t.server.conn.retransmissions > 0
    if stats.corrupted:
        assert t.net.trace.counters.get("tcp.drop.bad-checksum", 0) > 0


@pytest.mark.parametrize(
    "config",
    [
        TcpConfig(msl=5.0, sack=False),
        TcpConfig(msl=5.0, timestamps=False),
        TcpConfig(msl=5.0, window_scaling=False, sack=False, timestamps=False),
        TcpConfig(msl=5.0, nagle=False, delayed_ack=0),
        TcpConfig(msl=5.0, recv_buffer=8192, send_buffer=8192, mss=536),
    ],
    ids=["newreno-no-sack", "no-timestamps", "rfc793-options", "no-nagle-no-delack", "tiny"],
)
@pytest.mark.parametrize("seed", range(6))
def test_option_combinations_under_loss(config: TcpConfig, seed: int) -> None:
    t = run_transfer(seed, size=256 * 1024, faults=Faults(loss=0.05, reorder=0.05), config=config)
    assert t.intact and sorted(t.done) == ["client", "server"]


def test_bandwidth_limited_link_fills_the_pipe() -> None:
    # 10 MB/s, 20 ms RTT: a bandwidth-delay product of 200 KB, within the 256 KiB buffers.
    t = run_transfer(3, size=4 << 20, bandwidth=10e6, latency=0.010)
    assert t.intact
    conn = t.client.conn  # type: ignore[union-attr]
    end = conn.history[-2][0]  # entering TIME-WAIT
    goodput = 2 * (4 << 20) / end
    assert goodput > 0.6 * 10e6, f"only {goodput / 1e6:.1f} MB/s on a 10 MB/s link"
