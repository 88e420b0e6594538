"""``minternet serve --dns`` against ``dig`` and dnspython on loopback (issue 14):

- an RRset appears once, with one TTL (RFC 2181 §5): ``NS example.com`` gives
  ``a.iana-servers.net A`` once, and a CNAME loop is answered with each CNAME once;
- TC only when the answer itself does not fit; additional data goes first (RFC 2181 §9),
  except a referral's in-domain glue (RFC 9471 §3);
- over TCP a client must send a whole query within the deadline: one byte every 6 s is
  cut off.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from collections.abc import Iterator

import dns.flags
import dns.message
import dns.query
import dns.rdatatype
import pytest

from clitools import minternet_serve_dns

LOOP_ZONE = """$ORIGIN loop.test.
$TTL 300
@    IN SOA ns1 hostmaster 1 3600 600 86400 300
@    IN NS  ns1
ns1  IN A   127.0.0.2
a    IN CNAME b
b    IN CNAME c
c    IN CNAME a
"""


def many_zone() -> str:
    """12 name servers, each with A and AAAA; a delegation ``sub`` to 12 in-domain ones; a
    TXT RRset too big for 512 bytes."""
    lines = ["$ORIGIN many.test.", "$TTL 300", "@ IN SOA ns0 hostmaster 1 3600 600 86400 300"]
    for i in range(12):
        lines += [f"@ IN NS ns{i}", f"ns{i} IN A 10.0.0.{i}", f"ns{i} IN AAAA 2001:db8::{i}"]
        lines += [f"sub IN NS ns{i}.sub", f"ns{i}.sub IN A 10.0.1.{i}"]
        lines += [f"ns{i}.sub IN AAAA 2001:db8:1::{i}"]
    lines += [f'big IN TXT "{i:02d}{"x" * 60}"' for i in range(10)]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    d = tmp_path_factory.mktemp("zones")
    (d / "loop.zone").write_text(LOOP_ZONE)
    (d / "many.zone").write_text(many_zone())
    args = ["--zone", str(d / "loop.zone"), "--zone", str(d / "many.zone")]
    with minternet_serve_dns(*args) as (port, _):
        yield port


def ask(port: int, name: str, rtype: str, edns: bool = True) -> tuple[dns.message.Message, int]:
    """The UDP answer, each record kept apart (dnspython would otherwise merge duplicates
    into one RRset and hide them), and its size."""
    q = dns.message.make_query(name, rtype, use_edns=0 if edns else False)
    q.flags &= ~dns.flags.RD
    wire = q.to_wire()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(wire, ("127.0.0.1", port))
        data = s.recv(65535)
    return dns.message.from_wire(data, one_rr_per_rrset=True), len(data)


def records(section: list[dns.rrset.RRset]) -> list[tuple[str, str, int, str]]:
    return [(str(rs.name), dns.rdatatype.to_text(rs.rdtype), rs.ttl, r.to_text())
            for rs in section for r in rs]  # fmt: skip


def test_ns_example_com_lists_each_address_once(port: int) -> None:
    """RFC 2181 §5.2 / §5.4.1: one RRset, one TTL — the authoritative iana-servers.net data,
    not also the net zone's glue with TTL 172800."""
    msg, _ = ask(port, "example.com.", "NS")
    extra = [r for r in records(msg.additional) if r[0] == "a.iana-servers.net." and r[1] == "A"]
    assert len(extra) == 1, extra
    assert extra[0][2] == 3600


@pytest.mark.tools("dig")
def test_dig_sees_no_duplicate_in_any_section(port: int) -> None:
    for name, rtype in (("example.com", "NS"), ("a.loop.test", "A"), ("many.test", "NS")):
        out = subprocess.run(
            ["dig", "@127.0.0.1", "-p", str(port), name, rtype, "+norec", "+tries=1", "+time=5"],
            capture_output=True, text=True, timeout=30,
        ).stdout  # fmt: skip
        rrs = [ln.split() for ln in out.splitlines() if ln and not ln.startswith(";")]
        keys = [(f[0], f[3], " ".join(f[4:])) for f in rrs]
        assert len(keys) == len(set(keys)), out
        for owner, rtype_, _ in keys:  # one TTL per RRset
            assert len({f[1] for f in rrs if (f[0], f[3]) == (owner, rtype_)}) == 1, out


def test_cname_loop_answered_with_each_cname_once(port: int) -> None:
    msg, _ = ask(port, "a.loop.test.", "A")
    assert records(msg.answer) == [
        ("a.loop.test.", "CNAME", 300, "b.loop.test."),
        ("b.loop.test.", "CNAME", 300, "c.loop.test."),
        ("c.loop.test.", "CNAME", 300, "a.loop.test."),
    ]


def test_additional_data_truncated_before_tc(port: int) -> None:
    """RFC 2181 §9: the 12 NS records fit 512 bytes; addresses that do not are left out,
    and TC stays clear."""
    msg, size = ask(port, "many.test.", "NS", edns=False)
    assert size <= 512
    assert not msg.flags & dns.flags.TC
    assert len(msg.answer) == 12
    assert 0 < len(msg.additional) < 24
    full, _ = ask(port, "many.test.", "NS")  # with EDNS (1232 bytes) all fit
    assert len(full.additional) == 24 and not full.flags & dns.flags.TC


def test_tc_when_the_answer_itself_does_not_fit(port: int) -> None:
    msg, size = ask(port, "big.many.test.", "TXT", edns=False)
    assert size <= 512 and msg.flags & dns.flags.TC and not msg.answer
    msg = dns.query.tcp(dns.message.make_query("big.many.test.", "TXT"), "127.0.0.1", 5, port)
    assert len(msg.answer[0]) == 10


def test_tc_when_a_referrals_in_domain_glue_does_not_fit(port: int) -> None:
    """RFC 9471 §3: all in-domain glue, or TC — a referral without it cannot be followed."""
    msg, size = ask(port, "www.sub.many.test.", "A", edns=False)
    assert size <= 512 and msg.flags & dns.flags.TC
    full, _ = ask(port, "www.sub.many.test.", "A")
    assert not full.flags & dns.flags.TC and len(full.additional) == 24


@pytest.mark.slow
def test_tcp_client_trickling_a_byte_every_6_s_is_cut_off(port: int) -> None:
    """RFC 7766 §6.2.3: the server bounds a TCP client's time, per whole query (10 s), not
    per read — it used to wait for ever for a client sending a byte every 6 s."""
    query = dns.message.make_query("www.example.com.", "A").to_wire()
    framed = len(query).to_bytes(2, "big") + query
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        start = time.monotonic()
        closed_at = None
        for i in range(4):
            try:
                s.sendall(framed[i : i + 1])
                s.settimeout(6)
                if s.recv(100) == b"":
                    closed_at = time.monotonic() - start
                    break
            except TimeoutError:
                continue
            except (ConnectionResetError, BrokenPipeError):
                closed_at = time.monotonic() - start
                break
    assert closed_at is not None, "still open after 4 bytes in 24 s"
    assert 9 < closed_at < 13, closed_at


def test_tcp_queries_still_answered(port: int) -> None:
    msg = dns.query.tcp(dns.message.make_query("www.example.com.", "A"), "127.0.0.1", 5, port)
    assert re.search(r"93\.184\.216\.34", msg.to_text())
