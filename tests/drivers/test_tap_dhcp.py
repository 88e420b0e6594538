"""DHCP against real implementations over a TAP device (issue 16). Needs root.

- Our client on our host gets a lease from Debian's ``dnsmasq`` running in the namespace on
  the kernel's end of the TAP: the address from dnsmasq's range, its router and DNS options,
  and the kernel then pings us at the leased address.
- A real client in the namespace gets a lease from our server on our host: busybox
  ``udhcpc`` (with and without asking for broadcast replies) and ISC ``dhclient``; what they
  applied is read from udhcpc's script environment and dhclient's lease file.
- INIT-REBOOT (RFC 2131 §3.2): dhclient started again with its lease file asks our server
  for its address (option 50, no server identifier) and is ACKed, and with a lease from
  another subnet is NAKed and discovers; our client rebooted against dnsmasq makes one
  REQUEST/ACK exchange. Read by tshark from dumpcap's capture on the kernel's end.
- RFC 5227 §2.4: scapy in the namespace claims our dnsmasq-leased address; our host
  defends it once, gives it up on the second claim within 10 s (DHCPDECLINE, which
  dnsmasq logs) and leases another.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_tap_host import run_while

from minternet import TraceBus
from minternet.dhcp.client import ClientConfig, Lease
from minternet.drivers.entropy import SystemRandom
from minternet.drivers.realtime import RealtimeLoop
from minternet.drivers.tap import TapLink, TapNetwork, TapPort, tap_network
from minternet.drivers.taphost import random_mac
from minternet.node.dhcp import (
    DhcpClientService,
    DhcpServerService,
    serve_dhcp,
    start_dhcp_client,
)
from minternet.node.host import Host
from minternet.trace.bus import EventLog
from required_tools import NETNS
from tshark_table import table

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


@contextmanager
def capture(tn: TapNetwork, keep: Path) -> Iterator[None]:
    """dumpcap on the kernel's end of the TAP, in the namespace, for the block; the capture
    is then at ``keep``. (dumpcap drops root's file privileges: it writes into a directory
    anyone may write.)"""
    capdir = Path(tempfile.mkdtemp(prefix="minternet-cap-"))
    capdir.chmod(0o777)
    pcap = capdir / "k.pcapng"
    proc = tn.ns.popen(
        ["dumpcap", "-q", "-i", tn.ifname, "-w", str(pcap)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while not pcap.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pcap.exists(), proc.stderr.read() if proc.stderr else "dumpcap did not start"
        time.sleep(0.3)
        yield
    finally:
        time.sleep(0.5)  # what the kernel has just seen reaches dumpcap's file
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(10)
        if proc.stderr is not None:
            proc.stderr.close()
        if pcap.exists():
            shutil.copy(pcap, keep)
        shutil.rmtree(capdir, ignore_errors=True)


DHCP_FIELDS = (
    "frame.time_relative", "eth.src", "dhcp.option.dhcp", "dhcp.ip.client", "dhcp.ip.your",
    "dhcp.option.requested_ip_address", "dhcp.option.dhcp_server_id",
)  # fmt: skip
ARP_FIELDS = ("eth.src", "arp.opcode", "arp.src.hw_mac", "arp.src.proto_ipv4",
              "arp.dst.proto_ipv4")  # fmt: skip


def dhcp_rows(pcap: Path) -> list[dict[str, str]]:
    """tshark's DHCP messages in ``pcap`` (``dhcp.option.dhcp``: 1 DISCOVER … 6 NAK)."""
    return [r for r in table(pcap, *DHCP_FIELDS) if r["dhcp.option.dhcp"]]


@contextmanager
def dnsmasq(tn: TapNetwork, tmp_path: Path) -> Iterator[list[str]]:
    """Debian's dnsmasq serving 10.77.0.50–60 on the kernel's end of the TAP; the list
    holds its log once the block is over."""
    log: list[str] = []
    proc = tn.ns.popen(
        ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0", "--no-resolv",
         "--no-hosts", f"--interface={tn.ifname}", "--bind-interfaces",
         "--dhcp-range=10.77.0.50,10.77.0.60,255.255.255.0,10m",
         "--dhcp-option=option:router,10.77.0.1",
         "--dhcp-option=option:dns-server,10.77.0.53", "--domain=lan.example",
         f"--dhcp-leasefile={tmp_path / 'dnsmasq.leases'}",
         f"--pid-file={tmp_path / 'dnsmasq.pid'}", "--log-dhcp", "--log-facility=-"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        yield log
    finally:
        stop(proc)
        log.append(proc.communicate()[0])


def our_client(loop: RealtimeLoop, host: Host) -> tuple[DhcpClientService, Lease]:
    """Our client on our host's eth0, bound (RFC 5227's probes and all)."""
    mac = host.interfaces["eth0"].mac
    client = start_dhcp_client(
        host, "eth0", ClientConfig(mac, hostname="ours", initial_delay=(0.0, 0.2))
    )
    lease: Lease = loop.run_until_complete(client.wait_bound(30), timeout=40)
    settled = client.client.settled_at()  # and its RFC 5227 announcements are out
    if settled is not None:
        loop.run_until_complete(loop.sleep(settled - loop.now() + 0.1), timeout=10)
    return client, lease


@dataclass
class Leased:
    """Our host on the TAP, its client bound by dnsmasq; ``log`` holds dnsmasq's log once
    the block is over."""

    loop: RealtimeLoop
    tn: TapNetwork
    host: Host
    client: DhcpClientService
    lease: Lease
    log: list[str]

    @property
    def mac(self) -> str:
        return self.host.interfaces["eth0"].mac


@contextmanager
def leased_from_dnsmasq(tmp_path: Path) -> Iterator[Leased]:
    loop = RealtimeLoop()
    try:
        with (
            tap_network("10.77.0.0/24") as tn,
            dnsmasq(tn, tmp_path) as logged,
            our_host(loop, tn, None) as host,
        ):
            client, lease = our_client(loop, host)
            yield Leased(loop, tn, host, client, lease, logged)
    finally:
        loop.close()


@pytest.mark.slow
@pytest.mark.tools("dnsmasq")
def test_our_client_leases_from_dnsmasq(tmp_path: Path) -> None:
    with leased_from_dnsmasq(tmp_path) as d:
        ping = d.tn.ns.popen(
            ["ping", "-n", "-c", "2", "-i", "0.2", "-W", "2", d.lease.address],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        pinged = run_while(d.loop, ping, 20)
        d.client.release()
        d.loop.run_until_complete(d.loop.sleep(0.5), timeout=5)
    log, lease, ifname = d.log[0], d.lease, d.tn.ifname
    assert lease.address.startswith("10.77.0.") and 50 <= int(lease.address.split(".")[3]) <= 60
    assert lease.prefix_len == 24 and lease.server_id == "10.77.0.1"
    assert lease.routers == ("10.77.0.1",) and lease.dns_servers == ("10.77.0.53",)
    assert lease.domain_name == "lan.example" and lease.lease_time == 600
    assert "2 received" in pinged  # the kernel reaches us at the leased address
    assert f"DHCPACK({ifname}) {lease.address} {d.mac}" in log, log
    assert f"DHCPRELEASE({ifname}) {lease.address} {d.mac}" in log, log


@pytest.mark.tools("dnsmasq", "tshark")
def test_our_client_reboots_against_dnsmasq_with_one_request(tmp_path: Path) -> None:
    pcap = tmp_path / "reboot.pcapng"
    with leased_from_dnsmasq(tmp_path) as d, capture(d.tn, pcap):
        d.client.reboot()  # down and up again: INIT-REBOOT with the lease
        again: Lease = d.loop.run_until_complete(d.client.wait_bound(30), timeout=40)
    log, lease = d.log[0], d.lease
    assert again.address == lease.address
    rows = dhcp_rows(pcap)
    assert [r["dhcp.option.dhcp"] for r in rows] == ["3", "5"], rows  # REQUEST, ACK only
    req, ack = rows
    assert req["dhcp.option.requested_ip_address"] == lease.address
    assert req["dhcp.option.dhcp_server_id"] == ""  # RFC 2131 §4.4.2: MUST NOT
    assert req["dhcp.ip.client"] == "0.0.0.0"
    assert ack["dhcp.ip.your"] == lease.address and ack["dhcp.option.dhcp_server_id"] == "10.77.0.1"
    assert log.count(f"DHCPREQUEST({d.tn.ifname}) {lease.address}") == 2, log
    assert log.count("DHCPDISCOVER") == 1, log  # only the first boot's


def claims_from_namespace(tn: TapNetwork, address: str) -> subprocess.Popen[str]:
    """scapy in the namespace: another device gives ``address`` as its own in an ARP
    request, and again 2 s later in an ARP reply (within RFC 5227's DEFEND_INTERVAL)."""
    code = (
        "import time\nfrom scapy.all import ARP, Ether, sendp\n"
        "def claim(op):\n"
        f"    sendp(Ether(src={THIEF!r}, dst='ff:ff:ff:ff:ff:ff') / ARP(op=op, hwsrc={THIEF!r},"
        f" psrc={address!r}, pdst={address!r}), iface={tn.ifname!r}, verbose=False)\n"
        "claim('who-has')\ntime.sleep(2)\nclaim('is-at')\n"
    )
    return tn.ns.popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)  # fmt: skip


THIEF = "02:aa:bb:cc:dd:ee"


@pytest.mark.slow
@pytest.mark.tools("dnsmasq", "tshark")
def test_a_claimed_address_is_defended_once_then_given_up(tmp_path: Path) -> None:
    pcap = tmp_path / "defence.pcapng"
    log = EventLog()
    with leased_from_dnsmasq(tmp_path) as d, capture(d.tn, pcap):
        d.host.trace.subscribe(log)
        run_while(d.loop, claims_from_namespace(d.tn, d.lease.address), 30)
        d.loop.run_until_complete(d.loop.sleep(0.2), timeout=5)
        gone = list(d.host.addresses)
        recovered: Lease = d.loop.run_until_complete(d.client.wait_bound(60), timeout=70)
    dnsmasq_log, lease, ifname = d.log[0], d.lease, d.tn.ifname
    [defend] = log.of("dhcp", "defend")  # the first claim: defended, the address kept
    assert defend.fields == {"address": lease.address, "mac": THIEF}
    [conflict] = log.of("dhcp", "conflict")  # the second: the address given up
    assert conflict.fields["mac"] == THIEF and conflict.time - defend.time < 10
    taken_off = log.of("dhcp", "deconfigure")[0]
    assert taken_off.fields["address"] == lease.address
    assert 0 <= taken_off.time - conflict.time < 0.5  # at once (real time: same turn)
    assert gone == []
    arps = [r for r in table(pcap, *ARP_FIELDS) if r["arp.opcode"]]
    ours = [r for r in arps if r["eth.src"] == d.mac and r["arp.src.proto_ipv4"] == lease.address]
    # one announcement (sender = target = the address); the ARP reply our host gives the
    # claimant's request (RFC 826: it asked for our address) is no announcement
    defences = [r for r in ours if r["arp.dst.proto_ipv4"] == lease.address and
                r["arp.opcode"] == "1"]  # fmt: skip
    assert len(defences) == 1, arps
    assert f"DHCPDECLINE({ifname}) {lease.address} {d.mac}" in dnsmasq_log, dnsmasq_log
    assert recovered.address != lease.address and d.host.addresses == [recovered.address]
    assert f"DHCPACK({ifname}) {recovered.address} {d.mac}" in dnsmasq_log, dnsmasq_log


def serve(host: Host) -> DhcpServerService:
    """Our server on our host's end of the TAP: 10.77.0.100–110, 600 s leases."""
    return serve_dhcp(
        host, "eth0", pool=("10.77.0.100", "10.77.0.110"), dns_servers=("10.77.0.53",),
        domain_name="lan.example", lease_time=600,
    )  # fmt: skip


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
        service = serve(host)
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


def dhclient(loop: RealtimeLoop, tn: TapNetwork, tmp_path: Path) -> str:
    """ISC dhclient once (``-1``) in the namespace with the lease file
    ``tmp_path/dhclient.leases``, until it is bound; its output. The daemon it leaves
    behind is then stopped (by its pid) without releasing, as a host that goes down."""
    lease_file, pid_file = tmp_path / "dhclient.leases", tmp_path / "dhclient.pid"
    script = tmp_path / "noop.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    tn.ns.ip("addr", "flush", "dev", tn.ifname)
    proc = tn.ns.popen(
        ["dhclient", "-1", "-v", "-sf", str(script), "-lf", str(lease_file),
         "-pf", str(pid_file), tn.ifname],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        return run_while(loop, proc, 60)  # the parent exits once bound (daemonizes)
    finally:
        if pid_file.exists():  # the daemon dhclient left behind: ours, by its pid
            pid = int(pid_file.read_text().strip())
            os.kill(pid, signal.SIGKILL)
            pid_file.unlink()
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


@pytest.mark.tools("dhclient")
def test_dhclient_leases_from_our_server(tmp_path: Path) -> None:
    loop = RealtimeLoop()
    with tap_network("10.77.0.0/24") as tn, our_host(loop, tn, tn.host_ip) as host:
        serve(host)
        out = dhclient(loop, tn, tmp_path)
    loop.close()
    text = (tmp_path / "dhclient.leases").read_text()
    assert "fixed-address 10.77.0.100;" in text, text
    assert f"option routers {tn.host_ip};" in text
    assert "option domain-name-servers 10.77.0.53;" in text
    assert 'option domain-name "lan.example";' in text
    assert f"option dhcp-server-identifier {tn.host_ip};" in text
    assert "option dhcp-lease-time 600;" in text
    assert "DHCPACK" in out


def dhclient_on_the_wire(
    tmp_path: Path, prepare: Callable[[RealtimeLoop, TapNetwork], object]
) -> tuple[str, list[dict[str, str]], str]:
    """Our server on the TAP; ``prepare`` (a first run, a lease file), then dhclient once
    more under dumpcap: its output, tshark's DHCP messages, our server's address."""
    loop = RealtimeLoop()
    pcap = tmp_path / "dhclient.pcapng"
    with tap_network("10.77.0.0/24") as tn, our_host(loop, tn, tn.host_ip) as host:
        serve(host)
        prepare(loop, tn)
        with capture(tn, pcap):
            out = dhclient(loop, tn, tmp_path)
    loop.close()
    return out, dhcp_rows(pcap), tn.host_ip


@pytest.mark.tools("dhclient", "tshark")
def test_dhclient_started_again_reboots_and_our_server_acks(tmp_path: Path) -> None:
    # the first run writes the lease file; the second starts in INIT-REBOOT with it
    out, rows, server = dhclient_on_the_wire(
        tmp_path, lambda loop, tn: dhclient(loop, tn, tmp_path)
    )
    assert [r["dhcp.option.dhcp"] for r in rows] == ["3", "5"], (rows, out)  # no DISCOVER
    req, ack = rows
    assert req["dhcp.option.requested_ip_address"] == "10.77.0.100"
    assert req["dhcp.option.dhcp_server_id"] == "" and req["dhcp.ip.client"] == "0.0.0.0"
    assert ack["dhcp.ip.your"] == "10.77.0.100"
    assert ack["dhcp.option.dhcp_server_id"] == server
    assert "DHCPREQUEST for 10.77.0.100" in out and "DHCPACK of 10.77.0.100" in out, out


@pytest.mark.tools("dhclient", "tshark")
def test_dhclient_with_a_lease_of_another_subnet_is_naked_and_discovers(tmp_path: Path) -> None:
    def lease_elsewhere(_: RealtimeLoop, tn: TapNetwork) -> None:
        """The lease dhclient wrote on another network, unexpired (dhclient.leases(5))."""
        when = time.strftime("%w %Y/%m/%d %H:%M:%S", time.gmtime(time.time() + 3600))
        (tmp_path / "dhclient.leases").write_text(
            f'lease {{\n  interface "{tn.ifname}";\n  fixed-address 10.99.0.100;\n'
            "  option subnet-mask 255.255.255.0;\n  option routers 10.99.0.1;\n"
            "  option dhcp-lease-time 7200;\n  option dhcp-message-type 5;\n"
            "  option dhcp-server-identifier 10.99.0.1;\n"
            f"  renew {when};\n  rebind {when};\n  expire {when};\n}}\n"
        )

    out, rows, server = dhclient_on_the_wire(tmp_path, lease_elsewhere)
    assert [r["dhcp.option.dhcp"] for r in rows] == ["3", "6", "1", "2", "3", "5"], (rows, out)
    reboot, nak = rows[0], rows[1]
    assert reboot["dhcp.option.requested_ip_address"] == "10.99.0.100"
    assert reboot["dhcp.option.dhcp_server_id"] == "" and reboot["dhcp.ip.client"] == "0.0.0.0"
    assert nak["dhcp.option.dhcp_server_id"] == server
    assert rows[-1]["dhcp.ip.your"] == "10.77.0.100"
    text = (tmp_path / "dhclient.leases").read_text()
    last = text[text.rindex("lease {") :]
    assert "fixed-address 10.77.0.100;" in last, text
