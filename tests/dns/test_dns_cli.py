"""The commands: ``minternet dig`` in the simulated world and ``minternet serve --dns``
against the real ``dig`` and dnspython on loopback."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dns.message
import dns.query
import pytest

from clitools import CliRunner, minternet_serve_dns
from tshark_table import ERROR, has, severity_at_least, table


def test_dig_walks_from_the_root_and_answers(run_cli: CliRunner) -> None:
    out = run_cli("dig", "www.example.com", "--trace").stdout
    assert "93.184.216.34" in out and "status: NOERROR" in out
    root = out.index("(a.root-servers.net)")
    gtld = out.index("(a.gtld-servers.net)")
    iana = out.index("from 199.43.135.53#53(a.iana-servers.net)")
    assert root < gtld < iana
    assert "dropped (outside the bailiwick of com.)" in out


def test_dig_json_and_failures_explained(run_cli: CliRunner) -> None:
    nx = run_cli("dig", "nope.example.com", "--json", check=False)
    data = json.loads(nx.stdout)  # an outcome failure: exit 1, the JSON still printed
    assert nx.returncode == 1 and data["failure"] == "nope.example.com.: NXDOMAIN"
    assert data["status"] == "NXDOMAIN" and "does not exist" in data["explanation"]
    assert any(s["kind"] == "referral" for s in data["steps"])
    servfail = run_cli("dig", "www.example.com", "--stop", "a.iana-servers.net", check=False)
    assert servfail.returncode == 1 and servfail.stderr.count("\n") == 1
    assert "status: SERVFAIL" in servfail.stdout and "no answer from" in servfail.stdout
    out = run_cli("dig", "example.com", "MX", "--twice").stdout
    assert "from the cache" in out.split("asked again")[1]
    bad = run_cli("dig", "www.example.com", "NOTATYPE", check=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


@contextlib.contextmanager
def serving(*extra: str) -> Iterator[int]:
    """``minternet serve --dns PORT …`` in a subprocess, until the block ends."""
    with minternet_serve_dns(*extra) as (port, _):
        yield port


@pytest.fixture
def dns_server() -> Iterator[int]:
    with serving() as port:
        yield port


@pytest.mark.tools("dig")
def test_real_dig_gets_the_address_over_udp_and_tcp(dns_server: int) -> None:
    for extra in ([], ["+tcp"]):
        out = subprocess.run(
            ["dig", "@127.0.0.1", "-p", str(dns_server), "www.example.com", *extra,
             "+tries=1", "+time=5"],
            capture_output=True, text=True, timeout=30,
        ).stdout  # fmt: skip
        assert "status: NOERROR" in out and "flags: qr aa rd" in out
        assert "www.example.com.\t300\tIN\tA\t93.184.216.34" in out
    # the big TXT record: dig sees TC over UDP and retries over TCP by itself
    out = subprocess.run(
        ["dig", "@127.0.0.1", "-p", str(dns_server), "big.example.com", "TXT", "+tries=1"],
        capture_output=True, text=True, timeout=30,
    ).stdout  # fmt: skip
    assert "Truncated, retrying in TCP mode" in out and "ANSWER: 1" in out


def test_dnspython_queries_over_udp_and_tcp(dns_server: int) -> None:
    q = dns.message.make_query("nope.example.com", "A")
    r = dns.query.udp(q, "127.0.0.1", port=dns_server, timeout=5)
    assert r.rcode() == dns.rcode.NXDOMAIN and r.authority[0].rdtype == dns.rdatatype.SOA
    q = dns.message.make_query("example.com", "ANY")
    r = dns.query.tcp(q, "127.0.0.1", port=dns_server, timeout=5)
    types = {rrset.rdtype for rrset in r.answer}
    assert {dns.rdatatype.SOA, dns.rdatatype.NS, dns.rdatatype.A, dns.rdatatype.MX} <= types


def test_serve_a_zone_file_too(tmp_path: Path) -> None:
    zone = tmp_path / "test.zone"
    zone.write_text(
        "$ORIGIN test.\n$TTL 60\n@ IN SOA ns.test. me.test. 1 2 3 4 5\n@ IN NS ns.test.\n"
        'ns IN A 127.0.0.1\nhello IN TXT "hi from a zone file"\n'
    )
    with serving("--zone", str(zone), "--quiet") as port:
        r = dns.query.udp(dns.message.make_query("hello.test", "TXT"), "127.0.0.1", port=port)
        assert r.answer[0][0].strings == (b"hi from a zone file",)
        r = dns.query.udp(dns.message.make_query("www.example.com", "A"), "127.0.0.1", port=port)
        assert r.answer[0][0].address == "93.184.216.34"


def test_serve_refuses_non_loopback_and_bad_zone_files(run_cli: CliRunner, tmp_path: Path) -> None:
    bad = run_cli("serve", "--dns", "5353", "--host", "0.0.0.0", check=False)
    assert bad.returncode == 2 and "loopback" in bad.stderr and "Traceback" not in bad.stderr
    zone = tmp_path / "bad.zone"
    zone.write_text("$ORIGIN t.\nwww IN A 1.2.3\n")
    bad = run_cli("serve", "--dns", "5353", "--zone", str(zone), check=False)
    assert bad.returncode == 2 and "bad.zone:2" in bad.stderr and "Traceback" not in bad.stderr


def test_dig_is_deterministic_for_a_seed(run_cli: CliRunner) -> None:
    a = run_cli("dig", "www.example.com", "--trace", "--seed", "5").stdout
    b = run_cli("dig", "www.example.com", "--trace", "--seed", "5").stdout
    c = run_cli("dig", "www.example.com", "--trace", "--seed", "6").stdout
    assert a == b and a != c  # ids differ with the seed


@pytest.mark.tools("tshark")
def test_dig_pcap_opens_in_tshark_with_every_dns_hop(run_cli: CliRunner, tmp_path: Path) -> None:
    pcap = tmp_path / "dig.pcapng"
    run_cli("dig", "www.example.com", "--pcap", str(pcap))
    rows = table(pcap, "dns.flags.response", "ip.src", "dns.a", "_ws.malformed",
                 "_ws.expert.severity")  # fmt: skip
    answers = [r for r in rows if has(r, "dns.flags.response", "1")]
    sources = {r["ip.src"] for r in answers}
    assert {"198.41.0.4", "192.5.6.30", "199.43.135.53", "198.51.100.53"} <= sources
    assert any(has(r, "dns.a", "93.184.216.34") for r in answers), answers
    assert [r for r in rows if r["_ws.malformed"] or severity_at_least(r, ERROR)] == []


def test_dig_in_a_world_without_dns_says_so(run_cli: CliRunner) -> None:
    office = Path(__file__).resolve().parents[2] / "examples" / "office.toml"
    r = run_cli("dig", "www.example.com", "--world", str(office), check=False)
    assert r.returncode == 2 and "no node" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.tools("dig")
def test_a_real_dig_query_decodes_and_re_encodes_byte_for_byte() -> None:
    from minternet.dns import Message, RType

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(10)
        port = s.getsockname()[1]
        proc = subprocess.Popen(
            ["dig", "@127.0.0.1", "-p", str(port), "WWW.Example.com", "AAAA",
             "+tries=1", "+time=1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wire, _ = s.recvfrom(4096)
        finally:
            proc.wait(30)
    m = Message.decode(wire)
    assert m.questions[0].name.labels == (b"WWW", b"Example", b"com")
    assert m.questions[0].rtype == RType.AAAA and m.rd and not m.qr
    assert m.edns is not None and m.edns.udp_size == 1232
    assert [code for code, _ in m.edns.options] == [10]  # dig's DNS COOKIE (RFC 7873)
    assert m.encode() == wire


def test_resolve_shows_each_layer_then_the_caches(run_cli: CliRunner, tmp_path: Path) -> None:
    out = run_cli("resolve", "www.example.com", "--twice", "--later", "120").stdout
    first, second, third = out.split("\n\n")
    for layer in ("browser cache: miss", "OS cache: miss", "hosts file: miss"):
        assert layer in first
    assert "referral to com." in first and "referral to example.com." in first
    assert first.strip().endswith(
        "=> www.example.com. is 93.184.216.34 (from 198.51.100.53, TTL 300 s)"
    )
    assert "browser cache: hit" in second and "resolver" not in second
    assert "OS cache: hit" in third and "resolver" not in third  # the browser kept it 60 s
    hosts = tmp_path / "hosts"
    hosts.write_text("10.9.8.7 www.example.com\n")
    data = json.loads(run_cli("resolve", "www.example.com", "--hosts", str(hosts), "--json").stdout)
    assert data["source"] == "hosts" and data["addresses"] == ["10.9.8.7"]


def test_serve_survives_garbage_over_udp_and_tcp(dns_server: int) -> None:
    import random as _random

    from minternet.dns import Message, Rcode, RType, make_query

    rng = _random.Random(4)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        for _ in range(200):
            s.sendto(rng.randbytes(rng.randint(0, 80)), ("127.0.0.1", dns_server))
        loop_query = bytes.fromhex("abcd 0000 0001 0000 0000 0000") + b"\xc0\x0c\x00\x01\x00\x01"
        s.sendto(loop_query, ("127.0.0.1", dns_server))
        replies = []
        while True:
            try:
                data, _ = s.recvfrom(4096)
            except TimeoutError:
                break
            replies.append(Message.decode(data))
            if replies[-1].id == 0xABCD:
                break
        assert replies and replies[-1].rcode == Rcode.FORMERR
    for junk in (b"\x00", b"\x00\x05abc", b"\xff\xff" + b"x" * 10):
        with socket.create_connection(("127.0.0.1", dns_server), timeout=5) as c:
            c.sendall(junk)  # then close: a half message, never finished
    q = make_query("www.example.com", RType.A, 77).encode()
    with socket.create_connection(("127.0.0.1", dns_server), timeout=5) as c:
        c.sendall(len(q).to_bytes(2, "big") + q)
        head = c.recv(2)
        body = b""
        while len(body) < int.from_bytes(head, "big"):
            body += c.recv(4096)
    assert Message.decode(body).answers[0].rdata.to_text() == "93.184.216.34"
