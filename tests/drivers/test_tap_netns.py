"""Namespaces and TAP devices: created, used by the real kernel, and removed without trace.

These need root (CI runs as root); elsewhere they skip. The kernel inside a namespace we
create is the judge: it pings an address behind our TAP device, and a responder built from
scapy frames (independent of our codecs) answers through :class:`TapPort`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from minternet import ConfigError, TraceBus
from minternet.drivers import netns
from minternet.drivers.netns import Namespace, list_links, list_namespaces, remove_leftovers
from minternet.drivers.realtime import RealtimeLoop
from minternet.drivers.tap import TapDevice, TapPort, tap_network
from minternet.trace.bus import FrameRecord
from required_tools import NETNS

pytestmark = [
    pytest.mark.root,
    pytest.mark.tools(*NETNS),
]
SRC = Path(__file__).resolve().parents[2] / "src"


def test_namespace_is_created_used_and_removed_with_its_processes() -> None:
    with Namespace() as ns:
        assert ns.name.startswith("minternet-")
        assert ns.name in list_namespaces()
        assert ns.links() == ["lo"]
        sleeper = ns.popen(["sleep", "60"])
        pair = ns.veth()
        assert pair.inner in ns.links() and pair.outer in list_links()
        ns.add_address(pair.inner, "10.77.0.1/24")
        ns.up(pair.inner)
        out = ns.run(["ip", "-4", "-o", "addr", "show", "dev", pair.inner]).stdout
        assert "10.77.0.1/24" in out
        br = ns.bridge(ports=[pair.inner])
        assert br in ns.links()
    assert ns.name not in list_namespaces()
    assert pair.outer not in list_links()  # deleting the namespace deleted its veth peer
    assert sleeper.poll() is not None


def test_tap_device_disappears_when_closed() -> None:
    tap = TapDevice()
    assert tap.name.startswith("mnettap")
    assert tap.name in list_links()
    tap.close()
    assert tap.name not in list_links()


def test_tap_network_leaves_nothing_behind_even_after_an_error() -> None:
    with pytest.raises(RuntimeError), tap_network() as tn:
        name, ifname = tn.ns.name, tn.ifname
        assert tn.kernel_ip == "10.77.0.1" and tn.host_ip == "10.77.0.2"
        assert ifname in tn.ns.links() and ifname not in list_links()
        raise RuntimeError("boom")
    assert name not in list_namespaces()
    assert ifname not in list_links()


def test_bad_subnets_are_one_line_errors() -> None:
    for subnet, kw in [
        ("10.77.0.0/33", {}),
        ("10.77.0.1/32", {}),
        ("10.77.0.0/24", {"kernel_ip": "10.77.0.9", "host_ip": "10.77.0.9"}),
        ("10.77.0.0/24", {"host_ip": "10.78.0.2"}),
    ]:
        with pytest.raises(ConfigError), tap_network(subnet, **kw):
            pass
    assert not [n for n in list_namespaces() if n.startswith(f"minternet-{os.getpid()}x")]


def test_sigterm_cleans_up_a_running_tap_network(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys, time
        from minternet.drivers.interrupt import signals_as_interrupt
        from minternet.drivers.tap import tap_network
        with signals_as_interrupt():
            try:
                with tap_network() as tn:
                    print(tn.ns.name, tn.ifname, flush=True)
                    time.sleep(60)
            except KeyboardInterrupt:
                print("interrupted", flush=True)
        """
    )
    env = dict(os.environ, PYTHONPATH=str(SRC))
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    name, ifname = proc.stdout.readline().split()
    assert name in list_namespaces()
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    assert out.strip() == "interrupted"
    assert name not in list_namespaces()
    assert ifname not in list_links()


def test_a_killed_run_is_cleaned_by_remove_leftovers() -> None:
    ns = Namespace(f"minternet-killtest-{os.getpid()}")
    ns.create()
    netns._registry.discard(ns)  # as if the process had been SIGKILLed
    assert ns.name in list_namespaces()
    # (prefixes of this test only: the other test worker has namespaces and links too)
    removed = remove_leftovers(prefix=ns.name, link_prefix=f"mnetkill{os.getpid()}")
    assert removed == [ns.name]
    assert ns.name not in list_namespaces()
    with pytest.raises(ConfigError):
        remove_leftovers(prefix="eth")


def _scapy_responder(port: TapPort, host_ip: str, host_mac: str) -> None:
    """Answer ARP and ICMP echo for ``host_ip`` with frames built by scapy."""
    from scapy.layers.inet import ICMP, IP
    from scapy.layers.l2 import ARP, Ether

    def deliver(frame: bytes) -> None:
        eth = Ether(frame)
        if ARP in eth and eth[ARP].op == 1 and eth[ARP].pdst == host_ip:
            a = eth[ARP]
            reply = Ether(dst=eth.src, src=host_mac) / ARP(
                op=2, hwsrc=host_mac, psrc=host_ip, hwdst=a.hwsrc, pdst=a.psrc
            )
            port.send(bytes(reply))
        elif ICMP in eth and eth[IP].dst == host_ip and eth[ICMP].type == 8:
            ip, icmp = eth[IP], eth[ICMP]
            reply = (
                Ether(dst=eth.src, src=host_mac)
                / IP(src=host_ip, dst=ip.src, ttl=64)
                / ICMP(type=0, id=icmp.id, seq=icmp.seq)
                / bytes(icmp.payload)
            )
            port.send(bytes(reply))

    port.deliver = deliver


def test_the_kernel_pings_through_our_tap_port() -> None:
    loop = RealtimeLoop()
    trace = TraceBus()
    frames: list[FrameRecord] = []
    trace.subscribe_frames(frames.append)
    host_mac = "02:00:00:77:00:02"
    with tap_network() as tn:
        port = TapPort(loop, tn.tap, trace=trace, node="ours", iface="tap0")
        _scapy_responder(port, tn.host_ip, host_mac)
        port.start()
        ping = tn.ns.popen(
            ["ping", "-n", "-c", "3", "-i", "0.2", "-W", "2", tn.host_ip],
            stdout=subprocess.PIPE,
            text=True,
        )
        done = loop.create_future()

        def poll() -> None:
            if ping.poll() is None:
                loop.call_later(0.02, poll)
            else:
                done.set_result(ping.returncode)

        poll()
        t0 = time.monotonic()
        rc = loop.run_until_complete(done, timeout=20)
        out, _ = ping.communicate()
        port.stop()
        loop.close()
    assert rc == 0, out
    assert "3 received" in out
    assert time.monotonic() - t0 < 10
    ins = [f for f in frames if f.direction == "in"]
    outs = [f for f in frames if f.direction == "out"]
    assert len(outs) >= 4 and len(ins) >= 4  # ARP + 3 echoes each way
    assert {f.node for f in frames} == {"ours"} and {f.iface for f in frames} == {"tap0"}
    assert port.frames_out == len(outs) and port.frames_in == len(ins)


def test_use_resolver_points_programs_in_the_namespace_at_our_files() -> None:
    with Namespace() as ns:
        ns.use_resolver("10.77.0.2", {"www.example.com": "10.77.0.2"})
        conf = ns.run(["cat", "/etc/resolv.conf"]).stdout
        hosts = ns.run(["getent", "hosts", "www.example.com"]).stdout
        etc = netns.ETC_NETNS / ns.name
        assert etc.is_dir()
    assert conf.startswith("nameserver 10.77.0.2\n")
    assert hosts.split() == ["10.77.0.2", "www.example.com"]
    assert not etc.exists()


@pytest.mark.tools("nft")
def test_kernel_side_loss_drops_frames_both_ways_and_only_the_veth_answers_arp() -> None:
    """``tap_network(kernel_loss=…)``: the kernel's address moves to a veth bridged to the
    TAP; nftables on the bridge drops frames in both directions (counted per direction).
    ARP requests written to the TAP (scapy frames, not our codec) are answered — when
    neither request nor reply is dropped — by the veth's MAC only, never by the bridge's:
    otherwise our frames would reach the kernel without crossing the lossy forward path."""
    import json
    import select

    from scapy.layers.l2 import ARP, Ether

    with tap_network("10.85.0.0/24", kernel_loss=0.3) as tn:
        assert tn.kernel_ifname != tn.ifname and tn.kernel_loss == 0.3
        link = json.loads(tn.ns.ip("-json", "link", "show", tn.kernel_ifname))[0]
        kernel_mac = link["address"]
        ours = "02:00:00:00:85:02"
        n = 60
        for _ in range(n):
            req = Ether(dst="ff:ff:ff:ff:ff:ff", src=ours) / ARP(
                op=1, hwsrc=ours, psrc=tn.host_ip, pdst=tn.kernel_ip
            )
            assert tn.tap.write(bytes(req))
            time.sleep(0.002)
        replies: list[str] = []
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            select.select([tn.tap], [], [], 0.05)
            while (frame := tn.tap.read()) is not None:
                pkt = Ether(frame)
                if ARP in pkt and pkt[ARP].op == 2:
                    replies.append(pkt[ARP].hwsrc)
        counts = tn.loss_counters()
    assert set(replies) == {kernel_mac}
    seen_in, dropped_in = counts["to-kernel"]
    seen_out, dropped_out = counts["to-host"]
    assert seen_in == n and 5 <= dropped_in <= 35, counts
    assert n - dropped_in <= seen_out <= n - dropped_in + 2 and dropped_out >= 1, counts
    assert len(replies) == seen_out - dropped_out


def test_kernel_side_loss_must_be_a_probability() -> None:
    with pytest.raises(ConfigError), tap_network(kernel_loss=1.0):
        pass
