"""TLS edges of ``minternet serve --https`` (issue 14), against the real process.

The client side is raw bytes built here by hand (not our encoder) and what the server sends
is judged by tlslite-ng's parsers, cryptography's verifiers and ``openssl s_client``:

- no signature_algorithms → ServerKeyExchange signed {sha1, rsa} (RFC 5246 §7.4.1.4.1);
- SNI acknowledged only for a name the certificate covers (RFC 6066 §3);
- nothing after our close_notify (RFC 5246 §7.2.1);
- a warning alert before the ClientHello → a fatal alert, not a silent close (§7.2);
- a two-byte ChangeCipherSpec → unexpected_message (§7.1, §6.2.1);
- a ClientHello spread over many records, beyond the old 128 KiB cap, is parsed;
- x448 (RFC 7748, RFC 8422 §5.1.1) negotiates with OpenSSL;
- the handshake deadline is nginx's order (a handshake that pauses 11 s still completes)
  and a fatal alert is followed by our FIN at once.
"""

from __future__ import annotations

import socket
import ssl
import struct
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from tlslite.messages import Alert, ServerHello, ServerKeyExchange
from tlslite.utils.codec import Parser

from clitools import minternet_serve

HANDSHAKE, ALERT, CCS, APPDATA = 22, 21, 20, 23
ECDHE_RSA_AES128_GCM = 0xC02F
SNI, GROUPS, POINT_FORMATS, SIG_ALGS, PADDING = 0, 10, 11, 13, 21
X25519 = 29


# -- raw TLS by hand --------------------------------------------------------------------------
def ext(ext_type: int, data: bytes) -> bytes:
    return struct.pack(">HH", ext_type, len(data)) + data


def sni(host: str) -> bytes:
    name = host.encode()
    entry = b"\x00" + struct.pack(">H", len(name)) + name
    return ext(SNI, struct.pack(">H", len(entry)) + entry)


def u16_list(ext_type: int, values: list[int]) -> bytes:
    return ext(
        ext_type,
        struct.pack(">H", 2 * len(values)) + b"".join(struct.pack(">H", v) for v in values),
    )


def client_hello(
    extensions: list[bytes], suites: list[int] | None = None, tail: bytes = b""
) -> bytes:
    """A ClientHello handshake message (RFC 5246 §7.4.1.2), header included."""
    suites = suites or [ECDHE_RSA_AES128_GCM]
    exts = b"".join(extensions)
    body = (
        b"\x03\x03" + bytes(range(32)) + b"\x00"
        + struct.pack(">H", 2 * len(suites)) + b"".join(struct.pack(">H", s) for s in suites)
        + b"\x01\x00" + struct.pack(">H", len(exts)) + exts + tail
    )  # fmt: skip
    return bytes([1]) + len(body).to_bytes(3, "big") + body


def records(content_type: int, data: bytes, size: int = 1 << 14, version: int = 0x0301) -> bytes:
    """``data`` cut into records of at most ``size`` bytes (record version {3, 1}, as an
    initial ClientHello's, unless told)."""
    out = b""
    for i in range(0, len(data), size):
        chunk = data[i : i + size]
        out += struct.pack(">BHH", content_type, version, len(chunk)) + chunk
    return out


class Peer:
    """A raw TCP connection that reads whole records."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def record(self) -> tuple[int, bytes] | None:
        """The next record, or None at EOF (a reset counts as EOF)."""
        while True:
            if len(self.buf) >= 5:
                ct, _, length = struct.unpack(">BHH", self.buf[:5])
                if len(self.buf) >= 5 + length:
                    rec = self.buf[5 : 5 + length]
                    self.buf = self.buf[5 + length :]
                    return ct, rec
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                assert not self.buf, f"{len(self.buf)} bytes of a partial record before EOF"
                return None
            self.buf += chunk

    def server_flight(self) -> dict[int, bytes]:
        """The server's first flight up to ServerHelloDone: {handshake type: message}."""
        hs = b""
        msgs: dict[int, bytes] = {}
        while 14 not in msgs:
            rec = self.record()
            assert rec is not None, "EOF in the server's flight"
            ct, data = rec
            assert ct == HANDSHAKE, f"record type {ct}: {data.hex()}"
            hs += data
            while len(hs) >= 4 and len(hs) >= 4 + int.from_bytes(hs[1:4], "big"):
                n = 4 + int.from_bytes(hs[1:4], "big")
                msgs[hs[0]] = hs[:n]
                hs = hs[n:]
        return msgs

    def alert(self) -> Alert:
        rec = self.record()
        assert rec is not None, "the server closed without an alert"
        assert rec[0] == ALERT, f"record type {rec[0]}, not an alert"
        return Alert().parse(Parser(bytearray(rec[1])))

    def close(self) -> None:
        self.sock.close()


@contextmanager
def serve(*extra: str, log: Path | None = None) -> Iterator[int]:
    if log is None:
        with minternet_serve("--https", "0", *extra) as (ports, _):
            yield ports["https"]
        return
    with log.open("w") as out, minternet_serve("--https", "0", *extra, stdout=out) as (ports, _):
        yield ports["https"]


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with serve() as p:
        yield p


def leaf_key(certificate_msg: bytes) -> rsa.RSAPublicKey:
    first_len = int.from_bytes(certificate_msg[7:10], "big")
    cert = x509.load_der_x509_certificate(certificate_msg[10 : 10 + first_len])
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    return key


# -- the tests --------------------------------------------------------------------------------
def test_no_signature_algorithms_gets_sha1_rsa(port: int) -> None:
    """RFC 5246 §7.4.1.4.1: without the extension the server assumes {sha1, rsa}."""
    peer = Peer(port)
    hello = client_hello([u16_list(GROUPS, [X25519]), ext(POINT_FORMATS, b"\x01\x00")])
    peer.send(records(HANDSHAKE, hello))
    flight = peer.server_flight()
    peer.close()
    ske = ServerKeyExchange(ECDHE_RSA_AES128_GCM, (3, 3)).parse(Parser(bytearray(flight[12][1:])))
    assert (ske.hashAlg, ske.signAlg) == (2, 1)  # sha1, rsa: rsa_pkcs1_sha1 (0x0201)
    server_random = flight[2][6:38]
    params = flight[12][4 : 4 + 4 + flight[12][7]]
    leaf_key(flight[11]).verify(
        bytes(ske.signature), bytes(range(32)) + server_random + params,
        padding.PKCS1v15(), hashes.SHA1(),
    )  # fmt: skip

    # With the extension, the client's preference still decides (here PKCS#1 SHA-256).
    peer = Peer(port)
    hello = client_hello([u16_list(GROUPS, [X25519]), u16_list(SIG_ALGS, [0x0401])])
    peer.send(records(HANDSHAKE, hello))
    flight = peer.server_flight()
    peer.close()
    ske = ServerKeyExchange(ECDHE_RSA_AES128_GCM, (3, 3)).parse(Parser(bytearray(flight[12][1:])))
    assert (ske.hashAlg, ske.signAlg) == (4, 1)


@pytest.mark.parametrize(
    ("host", "acknowledged"),
    [("www.example.com", True), ("localhost", True), ("www.other.test", False)],
)
def test_sni_acknowledged_only_for_a_name_the_certificate_covers(
    port: int, host: str, acknowledged: bool
) -> None:
    """RFC 6066 §3: an empty server_name in the ServerHello says the server used the name."""
    peer = Peer(port)
    peer.send(records(HANDSHAKE, client_hello([sni(host), u16_list(GROUPS, [X25519])])))
    flight = peer.server_flight()
    peer.close()
    sh = ServerHello().parse(Parser(bytearray(flight[2][1:])))
    assert (sh.getExtension(SNI) is not None) is acknowledged


def openssl_handshake(
    peer: Peer, version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2
) -> tuple[ssl.SSLObject, ssl.MemoryBIO, ssl.MemoryBIO]:
    """A handshake by OpenSSL (Python's ssl on memory BIOs) over ``peer`` (TLS 1.2 unless
    ``version`` says otherwise), so the test still sees every record the server sends."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.maximum_version = version
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    while True:
        try:
            tls.do_handshake()
            return tls, incoming, outgoing
        except ssl.SSLWantReadError:
            peer.send(outgoing.read())
            rec = peer.record()
            assert rec is not None, "EOF during the handshake"
            incoming.write(records(rec[0], rec[1], version=0x0303))


@pytest.mark.parametrize(
    "version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["1.2", "1.3"]
)
def test_nothing_after_our_close_notify(port: int, version: ssl.TLSVersion) -> None:
    """RFC 5246 §7.2.1, RFC 8446 §6.1: after close_notify the sender sends nothing — no
    fatal alert for the garbage record the client sends once it has seen ours (OpenSSL is
    the client)."""
    peer = Peer(port)
    tls, incoming, outgoing = openssl_handshake(peer, version)
    tls.write(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    peer.send(outgoing.read())
    while True:  # until OpenSSL reads the server's close_notify (read() gives b"")
        rec = peer.record()
        assert rec is not None, "EOF before close_notify"
        incoming.write(records(rec[0], rec[1], version=0x0303))
        try:
            while tls.read(65536):
                pass
            break
        except ssl.SSLWantReadError:
            continue
    with suppress(BrokenPipeError, ConnectionResetError):
        peer.send(struct.pack(">BHH", APPDATA, 0x0303, 40) + bytes(40))  # fails to decrypt
    after = peer.record()
    peer.close()
    assert after is None, f"the server sent a record of type {after[0]} after close_notify"


def test_warning_alert_before_client_hello_gets_a_fatal_alert(port: int) -> None:
    """RFC 5246 §7.2: a party that will not proceed after a warning SHOULD send a fatal
    alert, rather than close silently."""
    peer = Peer(port)
    peer.send(records(ALERT, b"\x01\x5a"))  # warning user_canceled
    alert = peer.alert()
    assert alert.level == 2
    assert peer.record() is None
    peer.close()


def test_two_byte_change_cipher_spec_gets_unexpected_message(port: int) -> None:
    """RFC 5246 §7.1: ChangeCipherSpec is one byte; a two-byte record holds a second one
    where none may come (as OpenSSL answers, and RFC 8446 §5)."""
    peer = Peer(port)
    peer.send(records(CCS, b"\x01\x01"))
    alert = peer.alert()
    assert (alert.level, alert.description) == (2, 10)  # fatal unexpected_message
    peer.close()


def test_largest_client_hello_spread_over_records_is_parsed(port: int) -> None:
    """The largest well-formed ClientHello (RFC 5246 §7.4.1.2: 2^16 - 2 bytes of suites and
    2^16 - 1 of extensions, 131,400 bytes — over the old 128 KiB cap) in 600-byte records."""
    suites = [0x0A0A + i for i in range(32766)] + [ECDHE_RSA_AES128_GCM]
    groups = u16_list(GROUPS, [X25519])
    pad = ext(PADDING, bytes(65535 - len(groups) - 4))
    hello = client_hello([groups, pad], suites)
    assert len(hello) == 4 + 2 + 32 + 1 + 2 + 65534 + 1 + 1 + 2 + 65535
    peer = Peer(port)
    peer.send(records(HANDSHAKE, hello, 600))
    flight = peer.server_flight()
    peer.close()
    sh = ServerHello().parse(Parser(bytearray(flight[2][1:])))
    assert sh.cipher_suite == ECDHE_RSA_AES128_GCM


def test_200_kib_client_hello_is_read_whole_and_judged_on_its_content(tmp_path: Path) -> None:
    """A 200 KiB ClientHello over 13 records is reassembled and parsed. No ClientHello that
    long is well formed (its vectors hold at most 131,396 bytes), so the answer is the
    decode_error RFC 5246 §7.4.1.2 requires for bytes after the extensions — not a refusal of
    its length, as the old 128 KiB cap gave."""
    hello = client_hello([u16_list(GROUPS, [X25519])], tail=bytes(200 * 1024))
    log = tmp_path / "serve.log"
    with serve(log=log) as port:
        peer = Peer(port)
        peer.send(records(HANDSHAKE, hello))
        alert = peer.alert()
        peer.close()
        assert (alert.level, alert.description) == (2, 50)  # fatal decode_error
        deadline = time.monotonic() + 10
        while "handshake-failed" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
    line = next(ln for ln in log.read_text().splitlines() if "handshake-failed" in ln)
    assert "204800 trailing bytes" in line, line


@pytest.mark.tools("openssl")
def test_x448_negotiates_with_openssl(port: int) -> None:
    res = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_2", "-groups", "X448",
         "-servername", "localhost"],
        input="", capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert "Server Temp Key: X448, 448 bits" in res.stdout, res.stdout + res.stderr
    assert "Cipher is ECDHE-" in res.stdout


@pytest.mark.slow
def test_handshake_survives_an_11_s_pause(port: int) -> None:
    """The handshake deadline is nginx's order (60 s), not 10 s from accept: a client whose
    ClientHello is held up 11 s (TCP backing off under loss) still gets the ServerHello."""
    peer = Peer(port)
    hello = records(HANDSHAKE, client_hello([u16_list(GROUPS, [X25519])]))
    peer.send(hello[:20])
    time.sleep(11)
    peer.send(hello[20:])
    flight = peer.server_flight()
    peer.close()
    assert 2 in flight


def test_handshake_timeout_is_configurable() -> None:
    """``--handshake-timeout 1``: a client that stops mid-ClientHello is dropped at ~1 s."""
    with serve("--handshake-timeout", "1") as port:
        peer = Peer(port)
        peer.send(records(HANDSHAKE, client_hello([u16_list(GROUPS, [X25519])]))[:20])
        start = time.monotonic()
        assert peer.record() is None
        elapsed = time.monotonic() - start
        peer.close()
    assert 0.5 < elapsed < 10, elapsed


def test_fin_follows_a_fatal_alert_at_once(port: int) -> None:
    """After our fatal alert on an established connection the server closes as soon as
    the alert is out (it used to wait 1 s for the client's FIN)."""
    peer = Peer(port)
    _, _, outgoing = openssl_handshake(peer)
    peer.send(outgoing.read())
    peer.send(struct.pack(">BHH", APPDATA, 0x0303, 40) + bytes(40))  # fails to decrypt
    start = time.monotonic()
    rec = peer.record()
    assert rec is not None and rec[0] == ALERT  # encrypted: bad_record_mac
    assert peer.record() is None
    elapsed = time.monotonic() - start
    peer.close()
    assert elapsed < 0.5, f"FIN {elapsed:.2f} s after the fatal alert"
