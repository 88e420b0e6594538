"""Links and switches: timing, queues, faults, determinism."""

from __future__ import annotations

from netutil import run, two_hosts

from minternet.apps.ping import ping
from minternet.loop import LoopTimeout
from minternet.sim.faults import Faults
from minternet.trace.bus import EventLog


def test_latency_and_serialisation_delay_add_up_exactly() -> None:
    w = two_hosts(latency_ms=10, bandwidth_mbps=1)
    r = run(w, ping(w.node("a"), "10.0.0.2", count=2, interval=1.0))
    # 56 data bytes: ICMP 64 + IPv4 20 + Ethernet 14 = 98-byte frame; +24 bytes on the wire.
    one_way = 0.010 + (98 + 24) * 8 / 1e6
    second = r.replies[1]
    assert second.rtt is not None and abs(second.rtt - 2 * one_way) < 1e-9
    assert second.ttl == 64  # no router in between


async def _blast(w, n: int, size: int = 100, gap: float = 0.0):  # type: ignore[no-untyped-def]
    a, b = w.node("a"), w.node("b")
    rx = b.udp_socket(("0.0.0.0", 9000))
    tx = a.udp_socket()
    for _ in range(20):  # resolve ARP first (the warm-up itself may be lost)
        tx.sendto(b"warm-up", ("10.0.0.2", 9000))
        try:
            await rx.recvfrom(timeout=3.5)
            break
        except LoopTimeout:
            continue
    got: list[int] = []

    async def reader() -> None:
        while True:
            try:
                data, _ = await rx.recvfrom(timeout=2.0)
            except LoopTimeout:
                return
            if data != b"warm-up":
                got.append(int.from_bytes(data[:4], "big"))

    done = w.loop.create_task(reader())
    for i in range(n):
        tx.sendto(i.to_bytes(4, "big") + bytes(size), ("10.0.0.2", 9000))
        if gap:
            await w.loop.sleep(gap)
    await done
    return got


def test_drop_tail_queue_drops_and_counts() -> None:
    w = two_hosts(latency_ms=1, bandwidth_mbps=1, queue=10)
    got = run(w, _blast(w, 100, size=1000))
    assert 10 <= len(got) <= 12
    assert got == sorted(got) and got[0] == 0
    assert w.trace.counters["drop.queue-full"] == 100 - len(got)


def test_loss_of_thirty_percent_loses_about_that_share() -> None:
    w = two_hosts(loss=0.3)
    n = 2000
    got = run(w, _blast(w, n, gap=0.0001))
    share = 1 - len(got) / n
    assert 0.26 < share < 0.34, share
    assert w.trace.counters["drop.loss"] >= n - len(got)


def test_duplicate_reorder_corrupt() -> None:
    w = two_hosts(duplicate=1.0)
    got = run(w, _blast(w, 20, gap=0.001))
    assert sorted(got) == sorted(list(range(20)) * 2)

    w = two_hosts(reorder=0.3, latency_ms=1)
    got = run(w, _blast(w, 200, gap=0.0001))
    assert sorted(got) == list(range(200)) and got != sorted(got)

    w = two_hosts(corrupt=1.0)
    log = EventLog()
    w.trace.subscribe(log)
    a = w.node("a")
    a.udp_socket().sendto(b"x" * 100, ("10.0.0.2", 9))
    w.run(until=5)
    # Every frame had a bit flipped after the Ethernet header: checksums caught them all.
    drops = log.of(kind="drop")
    assert drops and all(e.why for e in drops)
    reasons = {e.fields["reason"] for e in drops}
    assert reasons <= {
        "ip-bad-checksum",
        "udp-bad-checksum",
        "arp-malformed",
        "ip-malformed",
        "ip-truncated",
        "not-for-us",
        "udp-port-unreachable",
        "unknown-ethertype",
        "no-arp-answer",
    }


def test_same_seed_same_run_different_seed_different_run() -> None:
    def trace(seed: int) -> list[tuple[float, str, str]]:
        from netutil import chain

        w = chain(faults=Faults(loss=0.2, reorder=0.1, duplicate=0.1), seed=seed)
        log = EventLog()
        w.trace.subscribe(log)
        run(w, ping(w.node("h1"), "10.3.0.10", count=30, interval=0.05))
        return [(e.time, e.node, e.kind) for e in log.events]

    assert trace(7) == trace(7)
    assert trace(7) != trace(8)


def test_switch_learns_and_floods_unknown() -> None:
    from minternet.sim.world import World

    w = World.from_dict(
        {
            "nodes": {"a": {}, "b": {}, "c": {}, "sw": {"kind": "switch"}},
            "links": [
                {"a": "a", "a_ip": "10.0.0.1/24", "b": "sw"},
                {"a": "b", "a_ip": "10.0.0.2/24", "b": "sw"},
                {"a": "c", "a_ip": "10.0.0.3/24", "b": "sw"},
            ],
        }
    )
    r = run(w, ping(w.node("a"), "10.0.0.2", count=3, interval=0.1))
    assert r.received == 3
    sw = w.switches[0]
    table = sw.mac_table()
    assert table[w.node("a").interfaces["eth0"].mac] == "port0"
    assert table[w.node("b").interfaces["eth0"].mac] == "port1"
    c = w.node("c")
    # c heard the broadcast ARP request but none of the unicast pings once b was learnt.
    assert c.interfaces["eth0"].frames_in == 1
