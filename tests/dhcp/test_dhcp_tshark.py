"""tshark dissects every DHCP message of a ``fetch --pcap`` run (the default world and the
dhcp-conflict scenario): op, xid, flags, yiaddr and options 53/1/3/6/51/54 as we meant
them, UDP checksums verified, nothing malformed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from clitools import CliRunner

pytestmark = pytest.mark.tools("tshark")

FIELDS = (
    "frame.interface_name", "dhcp.type", "dhcp.option.dhcp", "dhcp.id", "dhcp.flags.bc",
    "ip.src", "ip.dst", "dhcp.ip.your", "dhcp.ip.client", "dhcp.option.subnet_mask",
    "dhcp.option.router", "dhcp.option.domain_name_server",
    "dhcp.option.ip_address_lease_time", "dhcp.option.dhcp_server_id",
    "dhcp.option.requested_ip_address", "udp.checksum.status", "_ws.malformed",
    "_ws.expert.severity",
)  # fmt: skip


def dissect(pcap: Path) -> list[dict[str, str]]:
    out = subprocess.run(
        ["tshark", "-r", str(pcap), "-o", "udp.check_checksum:TRUE", "-Y", "dhcp",
         "-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,",
         *(a for f in FIELDS for a in ("-e", f))],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    return [dict(zip(FIELDS, line.split("|"), strict=True)) for line in out.splitlines()]


@pytest.mark.parametrize(
    ("scenario", "types", "address"),
    [
        (None, ["1", "2", "3", "5"], "192.168.1.10"),
        ("dhcp-conflict", ["1", "2", "3", "5", "4", "1", "2", "3", "5"], "192.168.1.11"),
    ],
)
def test_tshark_reads_every_dhcp_message(
    tmp_path: Path, run_cli: CliRunner, scenario: str | None, types: list[str], address: str
) -> None:
    pcap = tmp_path / "run.pcapng"
    args = ["fetch", "-q", "--seed", "4", "--pcap", str(pcap), "--pcap-at", "laptop"]
    run_cli(*args, *(["--scenario", scenario] if scenario else []))
    rows = dissect(pcap)
    # each message once at the laptop's interface: sent by it or received from the router
    assert [r["dhcp.option.dhcp"] for r in rows] == types
    for r in rows:
        assert r["_ws.malformed"] == "" and r["udp.checksum.status"] == "1", r  # 1 = good
        assert "error" not in r["_ws.expert.severity"].lower()
        assert r["dhcp.flags.bc"] in ("0", "False")  # our client asks for unicast replies
    xids = {r["dhcp.id"] for r in rows}
    assert len(xids) == (1 if scenario is None else 3)  # DISCOVER…ACK, DECLINE, again
    ack = [r for r in rows if r["dhcp.option.dhcp"] == "5"][-1]
    assert ack["dhcp.type"] == "2"  # BOOTREPLY
    assert ack["dhcp.ip.your"] == address and ack["ip.dst"] == address
    assert ack["dhcp.option.subnet_mask"] == "255.255.255.0"
    assert ack["dhcp.option.router"] == "192.168.1.1"
    assert ack["dhcp.option.domain_name_server"] == "198.51.100.53"
    assert ack["dhcp.option.ip_address_lease_time"] == "86400"
    assert ack["dhcp.option.dhcp_server_id"] == "192.168.1.1"
    for r in rows:
        if r["dhcp.type"] == "1":
            assert (r["ip.src"], r["ip.dst"]) == ("0.0.0.0", "255.255.255.255")
    if scenario:
        decline = next(r for r in rows if r["dhcp.option.dhcp"] == "4")
        assert decline["dhcp.option.requested_ip_address"] == "192.168.1.10"
        assert decline["dhcp.option.dhcp_server_id"] == "192.168.1.1"
