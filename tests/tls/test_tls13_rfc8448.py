"""RFC 8448's TLS 1.3 traces reproduced byte for byte by our machines.

Each machine is driven only through what the trace gives as inputs — its randoms, its
ephemeral private keys, the server's RSA key and certificate, the RSA-PSS salt (recovered
from the trace's signature with the public key), the server's opaque ticket and cookie —
and every record it writes is compared with the trace's "complete record":

- §3 simple 1-RTT: ClientHello, the server's ServerHello and encrypted flight (one record),
  the client's Finished, NewSessionTicket, application data both ways, close_notify both ways;
- §4 resumption with 0-RTT: the ClientHello with early_data and its PSK binder, the 0-RTT
  application data record, the server's ServerHello choosing the PSK, its
  EncryptedExtensions (with early_data) and Finished, EndOfEarlyData, the client's Finished,
  application data both ways, close_notify both ways, every secret of the schedule (client
  early traffic and early exporter secrets included); and the same hello replayed to a
  server sharing the anti-replay store resumes without 0-RTT;
- §5 HelloRetryRequest: ClientHello 1, the HelloRetryRequest with its cookie, ClientHello 2
  (P-256 share, cookie, padding), the server's flight, the client's Finished, close_notify.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from rfc8448_vectors import RSA_KEY, TRACE

from minternet.tls import extensions as ext
from minternet.tls.antireplay import ClientHelloRecorder
from minternet.tls.client13 import ClientConfig13, TlsClient13
from minternet.tls.connection import ApplicationData, Closed, HandshakeComplete
from minternet.tls.connection13 import EarlyData, NewTicket, Ticket13, Tls13Info
from minternet.tls.extensions import Extension, ExtensionType, NamedGroup
from minternet.tls.schedule import KeySchedule
from minternet.tls.server import KeyAndChain
from minternet.tls.server13 import ServerConfig13, TlsServer13
from minternet.tls.suites13 import (
    TLS_AES_128_GCM_SHA256,
    TLS_AES_256_GCM_SHA384,
    TLS_CHACHA20_POLY1305_SHA256,
)

SUITES = (TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256, TLS_AES_256_GCM_SHA384)
SERVER_SUITES = (TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256)
# The client's signature_algorithms in every trace (NSS's list, SHA-1 schemes included).
SCHEMES = (
    0x0403, 0x0503, 0x0603, 0x0203, 0x0804, 0x0805, 0x0806,
    0x0401, 0x0501, 0x0601, 0x0201, 0x0402, 0x0502, 0x0602, 0x0202,
)  # fmt: skip
NSS_GROUPS = (29, 23, 24, 25, 256, 257, 258, 259, 260)


def get(section: int, step: str, label: str, n: int = 0) -> bytes:
    found = [bytes.fromhex(h) for s, lb, h in TRACE[section] if s.startswith(step) and lb == label]
    assert len(found) > n, (section, step, label, n)
    return found[n]


def record(section: int, who: str, kind: str, n: int = 0) -> bytes:
    return get(section, f"{{{who}}}  send {kind} record", "complete record", n)


def payload(section: int, who: str, kind: str, n: int = 0) -> bytes:
    return get(section, f"{{{who}}}  send {kind} record", "payload", n)


@dataclass
class ScriptedRandom:
    """A deterministic source that hands out the trace's values, stream by stream."""

    streams: dict[str, list[bytes]]
    label: str = ""
    deterministic: bool = True

    def random_bytes(self, n: int) -> bytes:
        queue = self.streams.get(self.label)
        assert queue, f"no scripted bytes for stream {self.label!r}"
        value = queue.pop(0)
        assert len(value) == n, (self.label, n, len(value))
        return value

    def randint(self, lo: int, hi: int) -> int:
        raise AssertionError("not used")

    def random(self) -> float:
        raise AssertionError("not used")

    def child(self, label: str) -> ScriptedRandom:
        return ScriptedRandom(self.streams, label)


@dataclass
class ScriptedSealer:
    """The server's opaque tickets/cookies, as the trace has them."""

    outputs: list[bytes]
    known: dict[bytes, bytes] = field(default_factory=dict)
    sealed: list[bytes] = field(default_factory=list)

    def seal(self, plaintext: bytes) -> bytes:
        self.sealed.append(plaintext)
        return self.outputs.pop(0)

    def open(self, sealed: bytes) -> bytes | None:
        return self.known.get(sealed)


def rsa_key() -> rsa.RSAPrivateKey:
    k = {name: int(h, 16) for name, h in RSA_KEY.items()}
    pub = rsa.RSAPublicNumbers(k["public exponent"], k["modulus"])
    return rsa.RSAPrivateNumbers(
        k["prime1"], k["prime2"], k["private exponent"],
        k["exponent1"], k["exponent2"], k["coefficient"], pub,
    ).private_key()  # fmt: skip


def certificate(section: int) -> x509.Certificate:
    msg = get(section, "{server}  construct a Certificate", "Certificate")
    # type(1) length(3) context(1)=0 list length(3) cert length(3) cert
    n = int.from_bytes(msg[8:11], "big")
    return x509.load_der_x509_certificate(msg[11 : 11 + n])


def pss_salt(signature: bytes, key: rsa.RSAPrivateKey, h_len: int = 32) -> bytes:
    """The salt of an RSA-PSS signature (RFC 8017 §9.1.2), recovered with the public key."""
    pub = key.public_key().public_numbers()
    em_len = (key.key_size - 1 + 7) // 8
    em = pow(int.from_bytes(signature, "big"), pub.e, pub.n).to_bytes(em_len, "big")
    masked, digest = em[: em_len - h_len - 1], em[em_len - h_len - 1 : -1]
    mask = bytearray()
    counter = 0
    while len(mask) < len(masked):
        mask += hashlib.sha256(digest + counter.to_bytes(4, "big")).digest()
        counter += 1
    db = bytes(a ^ b for a, b in zip(masked, mask, strict=False))
    return db[-h_len:]


def cv_signature(section: int) -> bytes:
    cv = get(section, "{server}  construct a CertificateVerify", "CertificateVerify")
    return cv[8:]  # type(1) length(3) scheme(2) length(2)


def x25519_private(section: int, who: str) -> bytes:
    return get(section, f"{{{who}}}  create an ephemeral x25519", "private key")


def p256_stream(section: int, who: str) -> bytes:
    """The bytes that make EphemeralKey pick the trace's P-256 scalar k: k - 1, in 64 bytes."""
    k = int.from_bytes(get(section, f"{{{who}}}  create an ephemeral P-256", "private key"), "big")
    return (k - 1).to_bytes(64, "big")


def hello_random(section: int, step: str, label: str) -> bytes:
    return get(section, step, label)[6:38]


def client_config(section: int, **kw: object) -> ClientConfig13:
    extra = kw.pop("extra", ())
    return ClientConfig13(
        random=kw.pop("random"),  # type: ignore[arg-type]
        server_name="server",
        suites=SUITES,
        signature_schemes=SCHEMES,
        compatibility_mode=False,
        record_size_limit=0x4001,
        extra_extensions=(ext.renegotiation_info(), *extra),  # type: ignore[misc]
        **kw,  # type: ignore[arg-type]
    )


def groups_ext(groups: tuple[int, ...]) -> Extension:
    return ext.u16_list(ExtensionType.supported_groups, groups)


def server_for(
    section: int, groups: tuple[int, ...], sealer: ScriptedSealer, **kw: object
) -> TlsServer13:
    key = rsa_key()
    streams = {"": [hello_random(section, "{server}  construct a ServerHello", "ServerHello")]}
    if any(lb == "CertificateVerify" for _, lb, _ in TRACE[section]):
        streams["signature"] = [pss_salt(cv_signature(section), key)]
    streams.update(kw.pop("streams", {}))  # type: ignore[arg-type]
    return TlsServer13(
        ServerConfig13(
            credentials=[KeyAndChain((certificate(3),), key)],  # the same in every section
            random=ScriptedRandom(streams),
            suites=SERVER_SUITES,
            groups=groups,
            advertise_groups=True,
            ticket_sealer=sealer,
            **kw,  # type: ignore[arg-type]
        )
    )


def data(events: list[object]) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, ApplicationData))


# -- §3 simple 1-RTT ----------------------------------------------------------------------
def test_section3_server() -> None:
    ticket = get(3, "{server}  construct a NewSessionTicket", "NewSessionTicket")
    sealer = ScriptedSealer([ticket[17 : 17 + 178]])
    server = server_for(
        3,
        NSS_GROUPS,
        sealer,
        streams={
            "keyshare-x25519": [x25519_private(3, "server")],
            "ticket": [bytes.fromhex("fad6aac5")],
        },
        tickets=1,
        ticket_lifetime=30,
        max_early_data=0x400,
    )
    assert server.receive_data(record(3, "client", "handshake")) == []
    assert server.data_to_send() == record(3, "server", "handshake", 0) + record(
        3, "server", "handshake", 1
    )
    events = server.receive_data(record(3, "client", "handshake", 1))
    assert any(isinstance(e, HandshakeComplete) for e in events)
    assert server.data_to_send() == record(3, "server", "handshake", 2)  # NewSessionTicket
    events = server.receive_data(record(3, "client", "application_data"))
    assert data(events) == payload(3, "client", "application_data")
    server.send_application_data(payload(3, "server", "application_data"))
    assert server.data_to_send() == record(3, "server", "application_data")
    events = server.receive_data(record(3, "client", "alert"))
    assert any(isinstance(e, Closed) and e.clean for e in events)
    assert server.data_to_send() == record(3, "server", "alert")
    info = server.info
    assert isinstance(info, Tls13Info)
    assert info.schedule.resumption_master_secret == get(
        3, '{client}  derive secret "tls13 res master"', "expanded"
    )


def test_section3_client() -> None:
    random = ScriptedRandom(
        {
            "": [hello_random(3, "{client}  construct a ClientHello", "ClientHello")],
            "keyshare-x25519": [x25519_private(3, "client")],
        }
    )
    client = TlsClient13(
        client_config(
            3,
            random=random,
            groups=(NamedGroup.x25519,),
            extra=(groups_ext(NSS_GROUPS), Extension(ExtensionType.session_ticket)),
            now=datetime(2026, 1, 1, tzinfo=UTC),
        )
    )
    client.start()
    assert client.data_to_send() == record(3, "client", "handshake", 0)
    events = client.receive_data(
        record(3, "server", "handshake", 0) + record(3, "server", "handshake", 1)
    )
    assert any(isinstance(e, HandshakeComplete) for e in events)
    assert client.data_to_send() == record(3, "client", "handshake", 1)  # Finished
    events = client.receive_data(record(3, "server", "handshake", 2))
    tickets = [e.ticket for e in events if isinstance(e, NewTicket)]
    assert len(tickets) == 1
    assert tickets[0].psk == get(
        3, '{server}  generate resumption secret "tls13 resumption"', "expanded"
    )
    assert tickets[0].age_add == 0xFAD6AAC5 and tickets[0].lifetime == 30
    assert tickets[0].max_early_data == 0x400
    client.send_application_data(payload(3, "client", "application_data"))
    assert client.data_to_send() == record(3, "client", "application_data")
    events = client.receive_data(record(3, "server", "application_data"))
    assert data(events) == payload(3, "server", "application_data")
    client.close()
    assert client.data_to_send() == record(3, "client", "alert")


# -- §4 resumption --------------------------------------------------------------------------
def section3_ticket(received_at: datetime) -> Ticket13:
    nst = get(3, "{server}  construct a NewSessionTicket", "NewSessionTicket")
    return Ticket13(
        ticket=nst[17 : 17 + 178],
        psk=get(3, '{server}  generate resumption secret "tls13 resumption"', "expanded"),
        suite=TLS_AES_128_GCM_SHA256,
        age_add=0xFAD6AAC5,
        lifetime=30,
        received_at=received_at,
        server_name="server",
        max_early_data=0x400,
    )


T0 = datetime(2026, 1, 1, tzinfo=UTC)  # when the §3 ticket was issued and received
TICKET_AGE = timedelta(milliseconds=6)  # the trace's ticket age (its obfuscated_ticket_age)


def section4_secrets(s: KeySchedule) -> None:
    """Every secret of the §4 schedule, 0-RTT ones included, as the trace derives them."""
    assert s.early_secret == get(4, '{client}  extract secret "early"', "secret")
    assert s.binder_key == get(4, "{client}  calculate PSK binder", "PRK")
    assert s.client_early_traffic_secret == get(
        4, '{client}  derive secret "tls13 c e traffic"', "expanded"
    )
    assert s.early_exporter_master_secret == get(
        4, '{client}  derive secret "tls13 e exp master"', "expanded"
    )
    for label, value in (
        ("c hs traffic", s.client_handshake_traffic_secret),
        ("s hs traffic", s.server_handshake_traffic_secret),
        ("c ap traffic", s.client_application_traffic_secret),
        ("s ap traffic", s.server_application_traffic_secret),
        ("exp master", s.exporter_master_secret),
    ):
        assert value == get(4, f'{{server}}  derive secret "tls13 {label}"', "expanded"), label
    assert s.handshake_secret == get(4, '{server}  extract secret "handshake"', "secret")
    assert s.master_secret == get(4, '{server}  extract secret "master"', "secret")
    assert s.resumption_master_secret == get(
        4, '{client}  derive secret "tls13 res master"', "expanded"
    )


def test_section4_client_zero_rtt() -> None:
    """§4 end to end from the client: ClientHello (early_data, PSK binder) and the 0-RTT
    record at once; the server accepts (early_data in its EncryptedExtensions); then
    EndOfEarlyData under the early keys, Finished, application data, close_notify."""
    random = ScriptedRandom(
        {
            "": [hello_random(4, "{client}  send handshake record", "payload")],
            "keyshare-x25519": [x25519_private(4, "client")],
        }
    )
    lines: list[str] = []
    client = TlsClient13(
        client_config(
            4,
            random=random,
            groups=(NamedGroup.x25519,),
            extra=(groups_ext(NSS_GROUPS),),
            session=section3_ticket(T0),
            now=T0 + TICKET_AGE,
            early_data=payload(4, "client", "application_data", 0),
            keylog=lines.append,
        )
    )
    client.start()
    assert client.data_to_send() == record(4, "client", "handshake", 0) + record(
        4, "client", "application_data", 0
    )
    events = client.receive_data(
        record(4, "server", "handshake", 0) + record(4, "server", "handshake", 1)
    )
    assert any(isinstance(e, HandshakeComplete) for e in events), events
    # EndOfEarlyData (its own record, under the early keys), then Finished.
    assert client.data_to_send() == record(4, "client", "handshake", 1) + record(
        4, "client", "handshake", 2
    )
    info = client.info
    assert info is not None and info.resumed and info.early_data == "accepted"
    assert info.early_data_bytes == 6
    section4_secrets(info.schedule)
    cr = hello_random(4, "{client}  send handshake record", "payload").hex()
    cets = get(4, '{client}  derive secret "tls13 c e traffic"', "expanded").hex()
    assert f"CLIENT_EARLY_TRAFFIC_SECRET {cr} {cets}" in lines
    client.send_application_data(payload(4, "client", "application_data", 1))
    assert client.data_to_send() == record(4, "client", "application_data", 1)
    events = client.receive_data(record(4, "server", "application_data"))
    assert data(events) == payload(4, "server", "application_data")
    client.close()
    assert client.data_to_send() == record(4, "client", "alert")
    events = client.receive_data(record(4, "server", "alert"))
    assert any(isinstance(e, Closed) and e.clean for e in events)


def section3_sealed_ticket() -> tuple[bytes, bytes]:
    """The §3 ticket's identity as the trace has it, and the state our §3 server sealed in
    it (issued at T0, max_early_data_size 0x400)."""
    nst = get(3, "{server}  construct a NewSessionTicket", "NewSessionTicket")
    first = ScriptedSealer([nst[17 : 17 + 178]])
    s3 = server_for(
        3,
        NSS_GROUPS,
        first,
        streams={
            "keyshare-x25519": [x25519_private(3, "server")],
            "ticket": [bytes.fromhex("fad6aac5")],
        },
        ticket_lifetime=30,
        max_early_data=0x400,
        now=lambda: T0,
    )
    s3.receive_data(record(3, "client", "handshake"))
    s3.receive_data(record(3, "client", "handshake", 1))
    assert s3.data_to_send().endswith(record(3, "server", "handshake", 2))  # the same ticket
    return nst[17 : 17 + 178], first.sealed[0]


def section4_server(recorder: ClientHelloRecorder, lines: list[str] | None = None) -> TlsServer13:
    identity, state = section3_sealed_ticket()
    return server_for(
        4,
        NSS_GROUPS,
        ScriptedSealer([], known={identity: state}),
        streams={"keyshare-x25519": [x25519_private(4, "server")]},
        tickets=0,
        max_early_data=0x400,
        anti_replay=recorder,
        now=lambda: T0 + TICKET_AGE,
        keylog=None if lines is None else lines.append,
    )


def test_section4_server_zero_rtt() -> None:
    """§4 end to end from the server: it resumes from its own §3 ticket, accepts the 0-RTT
    data (anti-replay: fresh age, hello not seen), sends ServerHello and EncryptedExtensions
    (with early_data) + Finished byte for byte, reads EndOfEarlyData, the client's Finished,
    application data and close_notify."""
    lines: list[str] = []
    server = section4_server(ClientHelloRecorder(), lines)
    events = server.receive_data(
        record(4, "client", "handshake", 0) + record(4, "client", "application_data", 0)
    )
    assert [e for e in events if isinstance(e, EarlyData)] == [
        EarlyData(payload(4, "client", "application_data", 0))
    ]
    assert server.data_to_send() == record(4, "server", "handshake", 0) + record(
        4, "server", "handshake", 1
    )
    assert server.neg.resumed and server.neg.early_data == "accepted"
    events = server.receive_data(
        record(4, "client", "handshake", 1) + record(4, "client", "handshake", 2)
    )
    assert any(isinstance(e, HandshakeComplete) for e in events), events
    info = server.info
    assert info is not None and info.early_data == "accepted" and info.early_data_bytes == 6
    section4_secrets(info.schedule)
    assert any(ln.startswith("CLIENT_EARLY_TRAFFIC_SECRET ") for ln in lines)
    events = server.receive_data(record(4, "client", "application_data", 1))
    got = [e for e in events if isinstance(e, ApplicationData)]
    assert got and not any(isinstance(e, EarlyData) for e in got)
    assert data(events) == payload(4, "client", "application_data", 1)
    server.send_application_data(payload(4, "server", "application_data"))
    assert server.data_to_send() == record(4, "server", "application_data")
    events = server.receive_data(record(4, "client", "alert"))
    assert any(isinstance(e, Closed) and e.clean for e in events)
    assert server.data_to_send() == record(4, "server", "alert")


def test_section4_replayed_hello_gets_no_zero_rtt() -> None:
    """The same §4 ClientHello and 0-RTT record replayed to a server sharing the anti-replay
    store (§8.2): it still resumes, but declines early data — no early_data in its
    EncryptedExtensions, the early record skipped, not delivered."""
    recorder = ClientHelloRecorder()
    first = section4_server(recorder)
    hello = record(4, "client", "handshake", 0) + record(4, "client", "application_data")
    first.receive_data(hello)
    assert first.neg.early_data == "accepted"
    replay = section4_server(recorder)
    events = replay.receive_data(hello)
    assert events == [] and replay.closed is None
    assert replay.neg.resumed and replay.neg.early_data == "rejected"
    out = replay.data_to_send()
    assert out.startswith(record(4, "server", "handshake", 0))  # the same ServerHello
    assert out != record(4, "server", "handshake", 0) + record(4, "server", "handshake", 1)


# -- §5 HelloRetryRequest ---------------------------------------------------------------
def test_section5_server() -> None:
    hrr = get(5, "{server}  construct a ServerHello", "ServerHello", 0)
    cookie = hrr[56 : 56 + 0x72]  # after key_share (6 bytes) and cookie's type and lengths
    server = server_for(
        5,
        (NamedGroup.secp256r1, NamedGroup.secp384r1, NamedGroup.x25519),
        ScriptedSealer([cookie]),
        streams={
            "": [get(5, "{server}  construct a ServerHello", "ServerHello", 1)[6:38]],
            "keyshare-secp256r1": [p256_stream(5, "server")],
        },
        hrr_cookie=True,
        tickets=0,
    )
    server.receive_data(record(5, "client", "handshake", 0))
    assert server.data_to_send() == record(5, "server", "handshake", 0)  # HelloRetryRequest
    server.receive_data(record(5, "client", "handshake", 1))
    assert server.data_to_send() == record(5, "server", "handshake", 1) + record(
        5, "server", "handshake", 2
    )
    events = server.receive_data(record(5, "client", "handshake", 2))
    assert any(isinstance(e, HandshakeComplete) for e in events)
    events = server.receive_data(record(5, "client", "alert"))
    assert server.data_to_send() == record(5, "server", "alert")


def test_section5_client() -> None:
    random = ScriptedRandom(
        {
            "": [hello_random(5, "{client}  construct a ClientHello", "ClientHello")],
            "keyshare-x25519": [x25519_private(5, "client")],
            "keyshare-secp256r1": [p256_stream(5, "client")],
        }
    )
    client = TlsClient13(
        client_config(
            5,
            random=random,
            groups=(NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1),
        )
    )
    client.start()
    assert client.data_to_send() == record(5, "client", "handshake", 0)
    client.receive_data(record(5, "server", "handshake", 0))
    assert client.data_to_send() == record(5, "client", "handshake", 1)  # ClientHello 2
    events = client.receive_data(
        record(5, "server", "handshake", 1) + record(5, "server", "handshake", 2)
    )
    assert any(isinstance(e, HandshakeComplete) for e in events), events
    assert client.data_to_send() == record(5, "client", "handshake", 2)
    client.close()
    assert client.data_to_send() == record(5, "client", "alert")
