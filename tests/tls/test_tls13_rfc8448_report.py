"""The report's dissector opens the records of RFC 8448's traces with the secrets the RFC
lists, written as NSS key log lines: §3 (a simple 1-RTT handshake), §4 (resumption with
0-RTT data and EndOfEarlyData), §5 (a HelloRetryRequest). Every record travels in its own
TCP segment built by scapy; each decrypted handshake message must be the one the RFC
prints (its type, and the Finished verify_data byte for byte), each application record
its length, each alert close_notify. Then: a KeyUpdate moves the server to the next
generation of its secret (RFC 8446 §7.2), and a key log without a line says which.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

from rfc8448_vectors import TRACE
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether

from minternet.report.html.dissect import Dissection, Dissector
from minternet.tls.messages13 import KeyUpdate
from minternet.tls.record13 import Aead13
from minternet.tls.schedule import next_traffic_secret, traffic_keys
from minternet.tls.suites13 import TLS_AES_128_GCM_SHA256

CLIENT, SERVER = ("192.0.2.1", 49152), ("192.0.2.2", 443)
LABELS = {
    "c e traffic": "CLIENT_EARLY_TRAFFIC_SECRET",
    "c hs traffic": "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "s hs traffic": "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "c ap traffic": "CLIENT_TRAFFIC_SECRET_0",
    "s ap traffic": "SERVER_TRAFFIC_SECRET_0",
}


# What the dissector says of RFC 8448 §3's records after the server's flight
AFTER_SERVER_FLIGHT = [
    "Finished (decrypted)",
    "New Session Ticket (decrypted)",
    "Application Data (50 bytes decrypted)",
    "Application Data (50 bytes decrypted)",
    "Alert: close_notify",
    "Alert: close_notify",
]


def secret(section: int, label: str) -> bytes:
    step = f'derive secret "tls13 {label}":'
    (value,) = [bytes.fromhex(h) for s, lb, h in TRACE[section]
                if s.endswith(step) and lb == "expanded"]  # fmt: skip
    return value


def records(section: int) -> list[tuple[str, bytes]]:
    """The trace's records in the order sent: (``client`` or ``server``, bytes)."""
    return [(step[1:7], bytes.fromhex(h)) for step, lb, h in TRACE[section]
            if lb == "complete record"]  # fmt: skip


def message(section: int, who: str, name: str) -> bytes:
    (value,) = [bytes.fromhex(h) for step, lb, h in TRACE[section]
                if step.startswith(f"{{{who}}}  construct a {name}") and lb == name]  # fmt: skip
    return value


def keylog(section: int, client_random: bytes, leave_out: str = "") -> list[str]:
    """The NSS key log lines of the secrets the section derives (but ``leave_out``)."""
    derived = [
        label for label in LABELS if any(f'"tls13 {label}"' in s for s, _, _ in TRACE[section])
    ]
    return [f"{LABELS[label]} {client_random.hex()} {secret(section, label).hex()}"
            for label in derived if LABELS[label] != leave_out]  # fmt: skip


class Wire:
    """A TCP connection's frames as scapy builds them: the handshake, then one segment per
    record, each side's sequence numbers running on."""

    def __init__(self) -> None:
        self.seq = {"client": 1000, "server": 5000}

    def frame(self, who: str, payload: bytes = b"", flags: str = "PA") -> bytes:
        (src, sport), (dst, dport) = (CLIENT, SERVER) if who == "client" else (SERVER, CLIENT)
        other = "server" if who == "client" else "client"
        seg = TCP(sport=sport, dport=dport, seq=self.seq[who], ack=self.seq[other], flags=flags)
        if flags == "S":
            seg = TCP(sport=sport, dport=dport, seq=self.seq[who], flags="S")
        elif flags == "SA":
            seg = TCP(sport=sport, dport=dport, seq=self.seq[who], ack=self.seq[other], flags="SA")
        self.seq[who] += len(payload) + (1 if "S" in flags else 0)
        pkt = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src=src, dst=dst)
        return bytes(pkt / seg / payload)

    def opening(self) -> Iterator[bytes]:
        yield self.frame("client", flags="S")
        yield self.frame("server", flags="SA")


def dissect(lines: list[str], sent: list[tuple[str, bytes]]) -> list[tuple[str, Dissection]]:
    """Each record of ``sent`` dissected, in order, each in its own segment."""
    d = Dissector(lines)
    wire = Wire()
    for frame in wire.opening():
        d.dissect(frame)
    return [(who, d.dissect(wire.frame(who, rec))) for who, rec in sent]


def texts(diss: Dissection, name: str) -> list[str]:
    return [f[4] for lay in diss.layers for f in lay.fields if f[0] == name and f[3] == "t"]


def client_random(section: int) -> bytes:
    return records(section)[0][1][11:43]  # record header 5, handshake header 4, version 2


def test_section3_simple_handshake_opens_with_the_rfcs_secrets() -> None:
    got = dissect(keylog(3, client_random(3)), records(3))
    infos = [d.info for _, d in got]
    assert infos == [
        "Client Hello (SNI=server)",
        "Server Hello",
        "Encrypted Extensions, Certificate, Certificate Verify, Finished (decrypted)",
        *AFTER_SERVER_FLIGHT,
    ]
    flight, client_fin, ticket = got[2][1], got[3][1], got[4][1]
    assert texts(flight, "Decrypted: Handshake type") == [
        "Encrypted Extensions (8)", "Certificate (11)", "Certificate Verify (15)", "Finished (20)"
    ]  # fmt: skip
    assert texts(flight, "Decrypted with") == ["SERVER_HANDSHAKE_TRAFFIC_SECRET, record 0"]
    assert texts(flight, "Decrypted: Certificate, certificate") == ["CN=rsa (issuer CN=rsa)"]
    assert texts(flight, "Decrypted: Certificate Verify, signature scheme") == [
        "rsa_pss_rsae_sha256 (0x0804)"
    ]
    assert texts(flight, "Decrypted: Finished, verify_data") == [
        message(3, "server", "Finished")[4:].hex()
    ]
    assert texts(client_fin, "Decrypted: Finished, verify_data") == [
        message(3, "client", "Finished")[4:].hex()
    ]
    assert texts(client_fin, "Decrypted with") == ["CLIENT_HANDSHAKE_TRAFFIC_SECRET, record 0"]
    nst = message(3, "server", "NewSessionTicket")
    assert texts(ticket, "Decrypted: New Session Ticket, ticket_lifetime") == [
        f"{int.from_bytes(nst[4:8], 'big')} s"
    ]
    assert texts(ticket, "Decrypted with") == ["SERVER_TRAFFIC_SECRET_0, record 0"]
    assert texts(got[6][1], "Decrypted with") == ["SERVER_TRAFFIC_SECRET_0, record 1"]
    assert texts(got[8][1], "Decrypted with") == ["SERVER_TRAFFIC_SECRET_0, record 2"]
    # the phases: the server's encrypted flight is handshake, the close is alerts
    assert got[2][1].tls == ("Encrypted Handshake Message",)
    assert got[7][1].tls == ("Encrypted Alert",)


def test_section4_zero_rtt_opens_with_the_early_secret() -> None:
    got = dissect(keylog(4, client_random(4)), records(4))
    assert [(who, d.info) for who, d in got] == [
        ("client", "Client Hello (SNI=server)"),
        ("client", "Application Data (6 bytes decrypted)"),
        ("server", "Server Hello"),
        ("server", "Encrypted Extensions, Finished (decrypted)"),
        ("client", "End of Early Data (decrypted)"),
        ("client", "Finished (decrypted)"),
        ("client", "Application Data (50 bytes decrypted)"),
        ("server", "Application Data (50 bytes decrypted)"),
        ("client", "Alert: close_notify"),
        ("server", "Alert: close_notify"),
    ]
    assert texts(got[1][1], "Decrypted with") == ["CLIENT_EARLY_TRAFFIC_SECRET, record 0"]
    assert texts(got[4][1], "Decrypted with") == ["CLIENT_EARLY_TRAFFIC_SECRET, record 1"]
    assert texts(got[5][1], "Decrypted with") == ["CLIENT_HANDSHAKE_TRAFFIC_SECRET, record 0"]
    assert texts(got[3][1], "Decrypted: Encrypted Extensions, extensions") == [
        "supported_groups, record_size_limit, server_name, early_data"
    ]
    assert texts(got[5][1], "Decrypted: Finished, verify_data") == [
        message(4, "client", "Finished")[4:].hex()
    ]


def test_section5_hello_retry_request() -> None:
    got = dissect(keylog(5, client_random(5)), records(5))
    assert [d.info for _, d in got] == [
        "Client Hello (SNI=server)",
        "Hello Retry Request",
        "Client Hello (SNI=server)",
        "Server Hello",
        "Encrypted Extensions, Certificate, Certificate Verify, Finished (decrypted)",
        "Finished (decrypted)",
        "Alert: close_notify",
        "Alert: close_notify",
    ]
    assert texts(got[5][1], "Decrypted: Finished, verify_data") == [
        message(5, "client", "Finished")[4:].hex()
    ]


def test_key_update_moves_to_the_next_generation() -> None:
    """After §3's answer the server sends a KeyUpdate, sealed here with its application
    keys (record 2), then data under the next generation (record 0 again)."""
    suite = TLS_AES_128_GCM_SHA256
    s_ap = secret(3, "s ap traffic")
    now = Aead13(suite, traffic_keys(suite.hash_name, s_ap, suite.key_len))
    nxt = next_traffic_secret(suite.hash_name, s_ap)
    after = Aead13(suite, traffic_keys(suite.hash_name, nxt, suite.key_len))
    extra = [
        ("server", now.seal(2, KeyUpdate(False).encode() + b"\x16")),
        ("server", after.seal(0, b"after the update\x17" + bytes(7))),
    ]
    got = dissect(keylog(3, client_random(3)), records(3)[:-2] + extra)[-2:]
    update, data = got[0][1], got[1][1]
    assert update.info == "Key Update (decrypted)"
    assert texts(update, "Decrypted: Key Update, request_update") == ["update_not_requested (0)"]
    assert data.info == "Application Data (16 bytes decrypted)"
    assert texts(data, "Decrypted with") == [
        "SERVER_TRAFFIC_SECRET_0 after 1 KeyUpdate(s), record 0"
    ]
    assert texts(data, "Decrypted: padding") == ["7 zero bytes"]


def test_a_missing_line_is_named_and_the_rest_opens() -> None:
    lines = keylog(3, client_random(3), leave_out="SERVER_HANDSHAKE_TRAFFIC_SECRET")
    got = dissect(lines, records(3))
    flight = got[2][1]
    assert flight.info == "Application Data"
    assert texts(flight, "Decryption") == [
        "not opened (the key log has no SERVER_HANDSHAKE_TRAFFIC_SECRET line for this connection)"
    ]
    assert got[3][1].info == "Finished (decrypted)"  # the client's secrets are there
    # a wrong secret: the record does not authenticate
    wrong = [ln.replace(ln.split()[2], "00" * 32) if "CLIENT_HANDSHAKE" in ln else ln
             for ln in keylog(3, client_random(3))]  # fmt: skip
    assert texts(dissect(wrong, records(3))[3][1], "Decryption") == [
        "failed (the key log does not open it)"
    ]
    # no key log: the records stay sealed, and nothing is said about them
    plain = dissect([], records(3))
    assert plain[2][1].info == "Application Data"
    assert texts(plain[2][1], "Decryption") == []


def test_declined_early_data_then_handshake_keys() -> None:
    """§4 without its EndOfEarlyData (as a client whose 0-RTT was declined sends none):
    the client's Finished, which the early keys do not open, opens with its handshake
    keys, and the client goes on from there."""
    sent = [r for r in records(4) if r != ("client", records(4)[4][1])]
    assert len(sent) == len(records(4)) - 1
    got = dissect(keylog(4, client_random(4)), sent)
    assert [d.info for who, d in got if who == "client"][1:] == [
        "Application Data (6 bytes decrypted)",
        "Finished (decrypted)",
        "Application Data (50 bytes decrypted)",
        "Alert: close_notify",
    ]


def test_a_retransmitted_record_is_shown_again() -> None:
    """The same segment twice (a retransmission): the same decrypted layers both times,
    and the records after it still open (it is not counted as a record of its own)."""
    d = Dissector(keylog(3, client_random(3)))
    wire = Wire()
    for frame in wire.opening():
        d.dissect(frame)
    frames = [(who, wire.frame(who, rec)) for who, rec in records(3)]
    seen = [d.dissect(f) for _, f in frames[:3]]
    again = d.dissect(frames[2][1])
    assert again.info == seen[2].info
    assert [lay.as_row() for lay in again.layers] == [lay.as_row() for lay in seen[2].layers]
    rest = [d.dissect(f).info for _, f in frames[3:]]
    assert rest[-2:] == ["Alert: close_notify", "Alert: close_notify"]


def test_a_lost_finished_still_changes_the_keys() -> None:
    """§3 without the server's encrypted flight (a record the capture lacks): its
    Finished is not seen, yet the NewSessionTicket after it opens with the application
    secret, the next one of that direction, record 0."""
    sent = records(3)[:2] + records(3)[3:]
    got = dissect(keylog(3, client_random(3)), sent)
    ticket = got[3][1]
    assert ticket.info == "New Session Ticket (decrypted)"
    assert texts(ticket, "Decrypted with") == ["SERVER_TRAFFIC_SECRET_0, record 0"]
    assert [d.info for _, d in got][-2:] == ["Alert: close_notify", "Alert: close_notify"]


def test_server_flight_reassembled_when_its_first_segment_comes_last() -> None:
    """§3's server flight (ServerHello and the encrypted flight, one byte stream) cut in
    three segments that reach the capture point last first: the segment at ISN + 1 (the
    flow's first data: TLS or not is not known before it) comes after the two behind it,
    and the encrypted record starts inside the first of those. The two early ones are held;
    the third completes both records, and they are told there as tshark tells them
    ("Reassembled in" that frame): the ServerHello in its bytes, the flight decrypted; the
    client's Finished and the rest then open as in order."""
    d = Dissector(keylog(3, client_random(3)))
    wire = Wire()
    for frame in wire.opening():
        d.dissect(frame)
    sent = records(3)
    flight = sent[1][1] + sent[2][1]
    cut = [0, len(sent[1][1]) - 20, len(sent[1][1]) + 200, len(flight)]
    assert cut[1] < len(sent[1][1]) < cut[2]  # the encrypted record starts in piece 2
    d.dissect(wire.frame("client", sent[0][1]))
    pieces = [wire.frame("server", flight[a:b]) for a, b in pairwise(cut)]
    early = [d.dissect(pieces[1]), d.dissect(pieces[2])]
    for held in early:
        assert held.tls == ()
        assert held.layers[-1].title.startswith("TCP segment held for reassembly")
    last = d.dissect(pieces[0])
    assert last.info == (
        "Server Hello, Encrypted Extensions, Certificate, Certificate Verify, Finished (decrypted)"
    )
    assert [lay.title for lay in last.layers[3:]] == [
        "Reassembled TLS record: Handshake, 90 bytes",  # starts here, ends in piece 2
        "Reassembled TLS record: Application Data, 674 bytes",
    ]
    assert texts(last, "Decrypted with") == ["SERVER_HANDSHAKE_TRAFFIC_SECRET, record 0"]
    assert texts(last, "Decrypted: Finished, verify_data") == [
        message(3, "server", "Finished")[4:].hex()
    ]
    rest = [d.dissect(wire.frame(who, rec)) for who, rec in sent[3:]]
    assert [r.info for r in rest] == AFTER_SERVER_FLIGHT


def test_a_server_hello_again_after_the_handshake_changes_no_keys() -> None:
    """The ServerHello's segment captured again after the answer began (a retransmission):
    told again, it does not take the server back to its handshake keys, so its next
    application record still opens as record 1 of SERVER_TRAFFIC_SECRET_0."""
    d = Dissector(keylog(3, client_random(3)))
    wire = Wire()
    for frame in wire.opening():
        d.dissect(frame)
    frames = [(who, wire.frame(who, rec)) for who, rec in records(3)]
    for _, f in frames[:6]:
        d.dissect(f)
    assert d.dissect(frames[1][1]).info == "Server Hello"
    answer = d.dissect(frames[6][1])
    assert answer.info == "Application Data (50 bytes decrypted)"
    assert texts(answer, "Decrypted with") == ["SERVER_TRAFFIC_SECRET_0, record 1"]
