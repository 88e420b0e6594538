"""DHCP against real implementations over a TAP device (issue 16). Needs root.

- Our client on our host gets a lease from Debian's ``dnsmasq`` running in the namespace on
  the kernel's end of the TAP: the address from dnsmasq's range, its router and DNS options,
  and the kernel then pings us at the leased address.
- A real client in the namespace gets a lease from our server on our host: busybox
  ``udhcpc`` (with and without asking for broadcast replies) and ISC ``dhclient``; what they
  applied is read from udhcpc's script environment and dhclient's lease file.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from test_tap_host import run_while

from minternet import TraceBus
from minternet.dhcp.client import ClientConfig, Lease
from minternet.drivers.entropy import SystemRandom
from minternet.drivers.realtime import RealtimeLoop
from minternet.drivers.tap import TapLink, TapNetwork, TapPort, tap_network
from minternet.drivers.taphost import random_mac
from minternet.node.dhcp import serve_dhcp, start_dhcp_client
from minternet.node.host import Host
from required_tools import NETNS

pytestmark = [pytest.mark.root, pytest.mark.tools(*NETNS)]


@contextmanager
def our_host(loop: RealtimeLoop, tn: TapNetwork, address: str | None) -> Iterator[Host]:
    """Our host cabled to the TAP: with ``address`` (a server) or none (a DHCP client)."""
    rnd = SystemRandom()
    host = Host("ours", loop, rnd, TraceBus(), hostname="ours")
    iface = host.add_interface("eth0", random_mac(rnd), address, tn.prefixlen)
    port = TapPort(loop, tn.tap, trace=host.trace, node="ours", iface="eth0", random=rnd)
    TapLink(port, iface)
    port.start()
    try:
        yield host
    finally:
        port.stop()


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.mark.slow
@pytest.mark.tools("dnsmasq")
def test_our_client_leases_from_dnsmasq(tmp_path: Path) -> None:
    loop = RealtimeLoop()
    with tap_network("10.77.0.0/24") as tn:
        leases = tmp_path / "dnsmasq.leases"
        dnsmasq = tn.ns.popen(
            ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0", "--no-resolv",
             "--no-hosts", f"--interface={tn.ifname}", "--bind-interfaces",
             "--dhcp-range=10.77.0.50,10.77.0.60,255.255.255.0,10m",
             "--dhcp-option=option:router,10.77.0.1",
             "--dhcp-option=option:dns-server,10.77.0.53", "--domain=lan.example",
             f"--dhcp-leasefile={leases}", f"--pid-file={tmp_path / 'dnsmasq.pid'}",
             "--log-dhcp", "--log-facility=-"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            with our_host(loop, tn, None) as host:
                mac = host.interfaces["eth0"].mac
                client = start_dhcp_client(
                    host, "eth0", ClientConfig(mac, hostname="ours", initial_delay=(0.0, 0.2))
                )
                lease: Lease = loop.run_until_complete(client.wait_bound(30), timeout=40)
                ping = tn.ns.popen(
                    ["ping", "-n", "-c", "2", "-i", "0.2", "-W", "2", lease.address],
                    stdout=subprocess.PIPE, text=True,
                )  # fmt: skip
                pinged = run_while(loop, ping, 20)
                client.release()
                loop.run_until_complete(loop.sleep(0.5), timeout=5)
        finally:
            stop(dnsmasq)
            log = dnsmasq.communicate()[0]
    loop.close()
    assert lease.address.startswith("10.77.0.") and 50 <= int(lease.address.split(".")[3]) <= 60
    assert lease.prefix_len == 24 and lease.server_id == "10.77.0.1"
    assert lease.routers == ("10.77.0.1",) and lease.dns_servers == ("10.77.0.53",)
    assert lease.domain_name == "lan.example" and lease.lease_time == 600
    assert "2 received" in pinged  # the kernel reaches us at the leased address
    assert f"DHCPACK({tn.ifname}) {lease.address} {mac}" in log, log
    assert f"DHCPRELEASE({tn.ifname}) {lease.address} {mac}" in log, log


def _script(tmp_path: Path) -> tuple[Path, Path]:
    out = tmp_path / "applied.env"
    script = tmp_path / "script.sh"
    script.write_text(f'#!/bin/sh\necho "$1 ip=$ip subnet=$subnet router=$router dns=$dns '
                      f'domain=$domain lease=$lease serverid=$serverid" >> {out}\n')  # fmt: skip
    script.chmod(0o755)
    return script, out


@pytest.mark.tools("udhcpc")
@pytest.mark.parametrize("broadcast", [False, True])
def test_udhcpc_leases_from_our_server(tmp_path: Path, broadcast: bool) -> None:
    loop = RealtimeLoop()
    script, applied = _script(tmp_path)
    with tap_network("10.77.0.0/24") as tn, our_host(loop, tn, tn.host_ip) as host:
        service = serve_dhcp(
            host, "eth0", pool=("10.77.0.100", "10.77.0.110"), dns_servers=("10.77.0.53",),
            domain_name="lan.example", lease_time=600,
        )  # fmt: skip
        tn.ns.ip("addr", "flush", "dev", tn.ifname)  # the client starts without an address
        argv = ["udhcpc", "-f", "-q", "-n", "-i", tn.ifname, "-s", str(script), "-t", "5",
                "-T", "2", "-x", "hostname:kernel"]  # fmt: skip
        if broadcast:
            argv.append("-B")
        proc = tn.ns.popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        run_while(loop, proc, 40)
        bindings = service.server.bindings(loop.now())
    loop.close()
    env = applied.read_text()
    bound = next(line for line in env.splitlines() if line.startswith("bound "))
    assert "ip=10.77.0.100 " in bound and "subnet=255.255.255.0 " in bound
    assert f"router={tn.host_ip} " in bound and "dns=10.77.0.53 " in bound
    assert "domain=lan.example " in bound and "lease=600 " in bound
    assert f"serverid={tn.host_ip}" in bound
    assert [(b.address, b.state) for b in bindings] == [("10.77.0.100", "bound")]


@pytest.mark.tools("dhclient")
def test_dhclient_leases_from_our_server(tmp_path: Path) -> None:
    loop = RealtimeLoop()
    lease_file, pid_file = tmp_path / "dhclient.leases", tmp_path / "dhclient.pid"
    script = tmp_path / "noop.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    with tap_network("10.77.0.0/24") as tn, our_host(loop, tn, tn.host_ip) as host:
        serve_dhcp(
            host, "eth0", pool=("10.77.0.100", "10.77.0.110"), dns_servers=("10.77.0.53",),
            domain_name="lan.example", lease_time=600,
        )  # fmt: skip
        tn.ns.ip("addr", "flush", "dev", tn.ifname)
        proc = tn.ns.popen(
            ["dhclient", "-1", "-v", "-sf", str(script), "-lf", str(lease_file),
             "-pf", str(pid_file), tn.ifname],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            out = run_while(loop, proc, 60)  # the parent exits once bound (daemonizes)
            text = lease_file.read_text()
        finally:
            if pid_file.exists():  # the daemon dhclient left behind: ours, by its pid
                os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
    loop.close()
    assert "fixed-address 10.77.0.100;" in text, text
    assert f"option routers {tn.host_ip};" in text
    assert "option domain-name-servers 10.77.0.53;" in text
    assert 'option domain-name "lan.example";' in text
    assert f"option dhcp-server-identifier {tn.host_ip};" in text
    assert "option dhcp-lease-time 600;" in text
    assert "DHCPACK" in out
