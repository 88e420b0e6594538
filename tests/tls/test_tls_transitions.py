"""Every (state, message) pair the transition tables do not list is an unexpected_message
(style.md §3): the machines are driven into each handshake state, then fed each message
type, and ChangeCipherSpec, that the state does not expect."""

from __future__ import annotations

import struct

import pytest
from tls_support import HOST, NOW, Certs, make_trust

from minternet.randomness import SeededRandom
from minternet.tls import ClientConfig, Closed, ServerConfig, TlsClient, TlsServer, suite_by_name
from minternet.tls.connection import CCS, State
from minternet.tls.messages import HandshakeType
from minternet.tls.server import KeyAndChain

PLAINTEXT_CLIENT_STATES = [
    State.WAIT_SERVER_HELLO,
    State.WAIT_CERTIFICATE,
    State.WAIT_SERVER_KEY_EXCHANGE,
    State.WAIT_SERVER_HELLO_DONE,
]
PLAINTEXT_SERVER_STATES = [State.WAIT_CLIENT_HELLO, State.WAIT_CLIENT_KEY_EXCHANGE]


def _records(flight: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(flight):
        n = int.from_bytes(flight[pos + 3 : pos + 5], "big")
        out.append(flight[pos : pos + 5 + n])
        pos += 5 + n
    return out


def _split_messages(flight: bytes) -> list[bytes]:
    """Server flight → one record per handshake message (so each state can be reached)."""
    out = []
    for rec in _records(flight):
        body, pos = rec[5:], 0
        while pos < len(body):
            n = int.from_bytes(body[pos + 1 : pos + 4], "big")
            msg = body[pos : pos + 4 + n]
            out.append(struct.pack(">BHH", 22, 0x0303, len(msg)) + msg)
            pos += 4 + n
    return out


def _pair(pki: Certs) -> tuple[TlsClient, TlsServer]:
    c = TlsClient(
        ClientConfig(SeededRandom(1), HOST, make_trust([pki.root]), NOW,
                     suites=(suite_by_name("ECDHE-RSA-AES128-GCM-SHA256"),))
    )  # fmt: skip
    s = TlsServer(ServerConfig([KeyAndChain(pki.rsa.chain, pki.rsa.key)], SeededRandom(2)))
    return c, s


def _msg(t: int) -> bytes:
    body = bytes(12) if t == HandshakeType.finished else b""
    m = bytes([t]) + len(body).to_bytes(3, "big") + body
    return struct.pack(">BHH", 22, 0x0303, len(m)) + m


CCS_RECORD = struct.pack(">BHH", 20, 0x0303, 1) + b"\x01"


def _client_in(pki: Certs, state: State) -> TlsClient:
    c, s = _pair(pki)
    c.start()
    s.receive_data(c.data_to_send())
    for rec in [b"", *_split_messages(s.data_to_send())]:
        if rec:
            c.receive_data(rec)
        if c.state is state:
            return c
    raise AssertionError(f"never reached {state}")


def _server_in(pki: Certs, state: State) -> TlsServer:
    c, s = _pair(pki)
    c.start()
    if state is State.WAIT_CLIENT_HELLO:
        return s
    s.receive_data(c.data_to_send())
    assert s.state is state
    return s


@pytest.mark.parametrize("state", PLAINTEXT_CLIENT_STATES, ids=lambda s: s.name)
def test_client_refuses_every_unlisted_message(pki: Certs, state: State) -> None:
    table = TlsClient.TRANSITIONS[state]
    for t in [*HandshakeType, CCS]:
        if t in table or t == HandshakeType.hello_request:
            continue  # HelloRequest may come any time (RFC 5246 §7.4.1.1)
        c = _client_in(pki, state)
        events = c.receive_data(CCS_RECORD if t == CCS else _msg(t))
        closed = [e for e in events if isinstance(e, Closed)]
        assert closed and closed[0].alert == 10, (state, t, events)


@pytest.mark.parametrize("state", PLAINTEXT_SERVER_STATES, ids=lambda s: s.name)
def test_server_refuses_every_unlisted_message(pki: Certs, state: State) -> None:
    table = TlsServer.TRANSITIONS[state]
    for t in [*HandshakeType, CCS]:
        if t in table:
            continue
        s = _server_in(pki, state)
        events = s.receive_data(CCS_RECORD if t == CCS else _msg(t))
        closed = [e for e in events if isinstance(e, Closed)]
        assert closed and closed[0].alert == 10, (state, t, events)


def test_tables_cover_the_handshake_states() -> None:
    client_states = set(TlsClient.TRANSITIONS)
    server_states = set(TlsServer.TRANSITIONS)
    assert State.WAIT_CHANGE_CIPHER_SPEC in client_states & server_states
    assert State.WAIT_FINISHED in client_states & server_states
    assert set(PLAINTEXT_CLIENT_STATES) <= client_states
    assert set(PLAINTEXT_SERVER_STATES) <= server_states
