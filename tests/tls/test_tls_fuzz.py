"""Mutated bytes into client and server in every state: alerts and closed connections,
never an exception, and never internal_error (which would mean an error path we missed).

Deterministic: each case draws its mutations from a seeded generator.
"""

from __future__ import annotations

import contextlib
import random
from typing import Any

import pytest
from tls_support import HOST, NOW, Certs, make_trust

from minternet.errors import DecodeError
from minternet.randomness import SeededRandom
from minternet.tls import ClientConfig, Closed, ServerConfig, TlsAlert, TlsClient, TlsServer
from minternet.tls.alerts import Alert
from minternet.tls.extensions import Extension, parse_alpn, parse_server_name, parse_u16_list
from minternet.tls.messages import (
    Certificate,
    CertificateRequest,
    ClientEcdhPublic,
    ClientHello,
    EncryptedPreMasterSecret,
    Finished,
    ServerHello,
    ServerHelloDone,
    ServerKeyExchange,
)
from minternet.tls.record import Record
from minternet.tls.server import KeyAndChain
from minternet.tls.suites import SUITES, suite_by_name

ROUNDS = 60


def _mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    op = rng.randrange(5)
    if op == 0 and b:  # flip bits
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif op == 1 and b:  # truncate
        del b[rng.randrange(len(b)) :]
    elif op == 2:  # insert garbage
        pos = rng.randrange(len(b) + 1)
        b[pos:pos] = rng.randbytes(rng.randint(1, 20))
    elif op == 3 and b:  # set a byte to an extreme (lengths!)
        b[rng.randrange(len(b))] = rng.choice([0, 1, 0x7F, 0x80, 0xFF])
    else:  # replace a run
        if b:
            pos = rng.randrange(len(b))
            n = rng.randint(1, 8)
            b[pos : pos + n] = rng.randbytes(n)
    return bytes(b)


def _records(flight: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(flight):
        n = int.from_bytes(flight[pos + 3 : pos + 5], "big")
        out.append(flight[pos : pos + 5 + n])
        pos += 5 + n
    return out


def _flights(pki: Certs, suite: Any) -> tuple[list[bytes], list[bytes]]:
    """A good handshake's records, one by one, so that every state is reached:
    (client→server records, server→client records)."""
    c, s = _make(pki, suite)
    to_server, to_client = [], []
    c.start()
    for _ in range(4):
        a = c.data_to_send()
        if a:
            to_server.append(a)
            s.receive_data(a)
        b = s.data_to_send()
        if b:
            to_client.append(b)
            c.receive_data(b)
    assert c.established and s.established
    c.send_application_data(b"data")
    s.send_application_data(b"data")
    to_server.append(c.data_to_send())
    to_client.append(s.data_to_send())
    return [r for f in to_server for r in _records(f)], [r for f in to_client for r in _records(f)]


def _make(pki: Certs, suite: Any) -> tuple[TlsClient, TlsServer]:
    c = TlsClient(
        ClientConfig(
            random=SeededRandom(1), server_name=HOST, trust=make_trust([pki.root]), now=NOW,
            suites=(suite,),
        )
    )  # fmt: skip
    s = TlsServer(
        ServerConfig(
            credentials=[KeyAndChain(pki.rsa.chain, pki.rsa.key),
                         KeyAndChain(pki.ecdsa.chain, pki.ecdsa.key)],
            random=SeededRandom(2),
        )
    )  # fmt: skip
    return c, s


def _check(events: list[Any], conn: Any) -> None:
    for e in events:
        if isinstance(e, Closed) and e.alert_sent:
            assert e.alert != 80, f"internal_error: {e.reason}"


FUZZ_SUITES = [
    suite_by_name("ECDHE-RSA-AES128-GCM-SHA256"),
    suite_by_name("ECDHE-ECDSA-CHACHA20-POLY1305"),
    suite_by_name("AES128-SHA"),
]


@pytest.mark.parametrize("suite", FUZZ_SUITES, ids=[s.name for s in FUZZ_SUITES])
def test_fuzz_server_every_state(pki: Certs, suite: Any) -> None:
    to_server, _to_client = _flights(pki, suite)
    rng = random.Random(f"server-{suite.name}")
    states = set()
    for k in range(len(to_server)):
        for _ in range(ROUNDS):
            c, s = _make(pki, suite)
            c.start()
            c.data_to_send()
            for f in to_server[:k]:
                s.receive_data(f)
            states.add(s.state.name)
            bad = _mutate(rng, to_server[k])
            events = s.receive_data(bad)
            events += s.receive_data(bad)  # and again after whatever state it reached
            _check(events, s)
            s.data_to_send()
    assert states == {
        "WAIT_CLIENT_HELLO", "WAIT_CLIENT_KEY_EXCHANGE", "WAIT_CHANGE_CIPHER_SPEC",
        "WAIT_FINISHED", "ESTABLISHED",
    }  # fmt: skip


@pytest.mark.parametrize("suite", FUZZ_SUITES, ids=[s.name for s in FUZZ_SUITES])
def test_fuzz_client_every_state(pki: Certs, suite: Any) -> None:
    _to_server, to_client = _flights(pki, suite)
    rng = random.Random(f"client-{suite.name}")
    states = set()
    for k in range(len(to_client)):
        for _ in range(ROUNDS):
            c, _s = _make(pki, suite)
            c.start()
            for f in to_client[:k]:
                c.receive_data(f)
            states.add(c.state.name)
            c.data_to_send()
            events = c.receive_data(_mutate(rng, to_client[k]))
            _check(events, c)
    expected = {"WAIT_SERVER_HELLO", "WAIT_CERTIFICATE", "WAIT_SERVER_HELLO_DONE",
                "WAIT_CHANGE_CIPHER_SPEC", "WAIT_FINISHED", "ESTABLISHED"}  # fmt: skip
    if suite.kx == "ECDHE":
        expected.add("WAIT_SERVER_KEY_EXCHANGE")
    assert states == expected


def test_fuzz_client_byte_by_byte_garbage(pki: Certs) -> None:
    rng = random.Random(7)
    for _ in range(200):
        c, _s = _make(pki, SUITES[0])
        c.start()
        events: list[Any] = []
        for byte in rng.randbytes(rng.randint(1, 40)):
            events += c.receive_data(bytes([byte]))
        _check(events, c)


DECODERS: list[Any] = [
    ClientHello.decode_body,
    ServerHello.decode_body,
    Certificate.decode_body,
    ServerKeyExchange.decode_body,
    CertificateRequest.decode_body,
    ServerHelloDone.decode_body,
    EncryptedPreMasterSecret.decode_body,
    ClientEcdhPublic.decode_body,
    Finished.decode_body,
    Alert.decode,
    Record.decode,
    Extension.decode,
    parse_server_name,
    parse_alpn,
    lambda d: parse_u16_list(d, "list"),
]


@pytest.mark.parametrize("decode", DECODERS)
def test_fuzz_decoders_raise_only_typed_errors(decode: Any, pki: Certs) -> None:
    to_server, to_client = _flights(pki, SUITES[0])
    seeds = [m for f in to_server[:1] + to_client[:4] for m in (f[9:], f[5:], f)]
    rng = random.Random(repr(decode))
    for _ in range(400):
        data = (
            _mutate(rng, rng.choice(seeds))
            if rng.random() < 0.7
            else rng.randbytes(rng.randint(0, 60))
        )
        with contextlib.suppress(DecodeError, TlsAlert):
            decode(data)
