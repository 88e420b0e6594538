"""Our host on a TAP device, judged by the Linux kernel on the other side (issue 8).

The kernel in a namespace we create pings our host (our ARP, IPv4 and ICMP answer it), our
host pings the kernel, and a kernel UDP socket talks to a UDP socket of ours. Needs root.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest

from minternet import TraceBus
from minternet.apps.ping import ping
from minternet.drivers.entropy import SystemRandom
from minternet.drivers.netns import netem_available
from minternet.drivers.realtime import RealtimeLoop
from minternet.drivers.taphost import TapHost, host_on_tap, random_mac
from minternet.trace.bus import FrameRecord
from required_tools import NETNS

pytestmark = [
    pytest.mark.root,
    pytest.mark.tools(*NETNS),
]


def run_while(loop: RealtimeLoop, proc: subprocess.Popen[str], timeout: float = 30) -> str:
    """Run our host's loop until the kernel-side process ``proc`` exits; its stdout."""
    done = loop.create_future()

    def poll() -> None:
        if proc.poll() is None:
            loop.call_later(0.01, poll)
        else:
            done.set_result(proc.returncode)

    poll()
    loop.run_until_complete(done, timeout=timeout)
    out, _ = proc.communicate()
    assert proc.returncode == 0, out
    return out


def test_random_mac_is_locally_administered_unicast() -> None:
    for _ in range(50):
        first = int(random_mac(SystemRandom()).split(":")[0], 16)
        assert first & 0x02 and not first & 0x01


def test_the_kernel_pings_our_host() -> None:
    loop = RealtimeLoop()
    trace = TraceBus()
    frames: list[FrameRecord] = []
    trace.subscribe_frames(frames.append)
    with host_on_tap(loop, trace) as th:
        proc = th.net.ns.popen(
            ["ping", "-n", "-c", "3", "-i", "0.2", "-W", "2", th.address],
            stdout=subprocess.PIPE,
            text=True,
        )
        out = run_while(loop, proc)
        mac = th.host.interfaces["eth0"].mac
        neigh = th.net.ns.ip("neigh", "show", th.address)
    loop.close()
    assert "3 packets transmitted, 3 received" in out
    assert re.findall(r"ttl=(\d+)", out) == ["64"] * 3
    assert mac in neigh  # the kernel learned our MAC from our ARP reply
    # the host's interface reported the frames both ways (what --pcap writes)
    assert {(f.node, f.iface) for f in frames} == {("ours", "eth0")}
    assert sum(f.direction == "out" for f in frames) >= 4


def test_our_host_pings_the_kernel() -> None:
    loop = RealtimeLoop()
    with host_on_tap(loop, TraceBus()) as th:
        task = loop.create_task(
            ping(th.host, th.kernel_address, count=3, interval=0.1, timeout=1.0)
        )
        result = loop.run_until_complete(task, timeout=20)
    loop.close()
    assert result.received == 3
    assert all(r.ttl == 64 and r.source == "10.77.0.1" for r in result.replies)


def test_kernel_udp_socket_talks_to_our_udp_socket() -> None:
    loop = RealtimeLoop()
    with host_on_tap(loop, TraceBus()) as th:
        sock = th.host.udp_socket(("0.0.0.0", 7))

        async def echo(n: int) -> None:
            for _ in range(n):
                data, peer = await sock.recvfrom(timeout=10)
                sock.sendto(data.upper(), peer)

        server = loop.create_task(echo(3))
        client = textwrap.dedent(
            f"""
            import socket
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(5)
            for msg in (b"one", b"two", b"x" * 1400):
                s.sendto(msg, ("{th.address}", 7))
                data, peer = s.recvfrom(2000)
                assert data == msg.upper() and peer == ("{th.address}", 7), (data, peer)
            print("ok")
            """
        )
        proc = th.net.ns.popen([sys.executable, "-c", client], stdout=subprocess.PIPE, text=True)
        out = run_while(loop, proc)
        loop.run_until_complete(server, timeout=5)
    loop.close()
    assert out.strip() == "ok"


def test_nothing_is_left_behind() -> None:
    loop = RealtimeLoop()
    with host_on_tap(loop, TraceBus()) as th:
        name, ifname = th.net.ns.name, th.net.ifname
        assert isinstance(th, TapHost)
    loop.close()
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    links = subprocess.run(["ip", "link"], capture_output=True, text=True).stdout
    assert name not in names and ifname not in links


def test_netem_delay_on_the_kernel_side_shows_in_ping_times() -> None:
    if not netem_available():
        # A kernel feature, not a tool: stays a skip under MINTERNET_REQUIRE_TOOLS=1.
        pytest.skip("kernel feature missing: sch_netem (tc qdisc netem)")
    loop = RealtimeLoop()
    with host_on_tap(loop, TraceBus()) as th:
        th.net.ns.netem(th.net.ifname, delay=0.05)
        proc = th.net.ns.popen(
            ["ping", "-n", "-c", "2", "-i", "0.2", "-W", "2", th.address],
            stdout=subprocess.PIPE,
            text=True,
        )
        out = run_while(loop, proc)
    loop.close()
    rtts = [float(t) for t in re.findall(r"time=([0-9.]+) ms", out)]
    assert len(rtts) == 2 and all(t >= 50 for t in rtts)
