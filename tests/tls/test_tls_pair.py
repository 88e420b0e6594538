"""Our client with our server in memory: whole, byte by byte, resumption, ALPN, key log,
determinism (same seed, same bytes). OpenSSL judges us elsewhere; this checks the paths
OpenSSL cannot easily reach."""

from __future__ import annotations

from typing import Any

import pytest
from tls_pair import kinds, shuttle
from tls_support import HOST, NOW, Certs, make_trust

from minternet.randomness import SeededRandom
from minternet.tls import (
    SUITES,
    ApplicationData,
    ClientConfig,
    Closed,
    HandshakeComplete,
    ServerConfig,
    SessionCache,
    TlsClient,
    TlsServer,
    suite_by_name,
)
from minternet.tls.server import KeyAndChain


def _server(pki: Certs, seed: int = 2, **kw: Any) -> TlsServer:
    creds = [KeyAndChain(pki.rsa.chain, pki.rsa.key), KeyAndChain(pki.ecdsa.chain, pki.ecdsa.key)]
    return TlsServer(ServerConfig(credentials=creds, random=SeededRandom(seed), **kw))


def _client(pki: Certs, seed: int = 1, **kw: Any) -> TlsClient:
    kw.setdefault("server_name", HOST)
    c = TlsClient(
        ClientConfig(random=SeededRandom(seed), trust=make_trust([pki.root]), now=NOW, **kw)
    )
    c.start()
    return c


def _complete(events: list[Any]) -> HandshakeComplete:
    hc = [e for e in events if isinstance(e, HandshakeComplete)]
    assert hc, kinds(events)
    return hc[0]


@pytest.mark.parametrize("chunk", [None, 1, 7])
def test_pair_handshake_and_data(pki: Certs, chunk: int | None) -> None:
    c, s = _client(pki), _server(pki)
    ce, se = shuttle(c, s, chunk)
    ci, si = _complete(ce).info, _complete(se).info
    assert ci.suite == si.suite == SUITES[0]
    assert ci.master_secret == si.master_secret
    assert ci.extended_master_secret and si.extended_master_secret
    c.send_application_data(b"x" * 40000)
    ce, se = shuttle(c, s, chunk)
    assert b"".join(e.data for e in se if isinstance(e, ApplicationData)) == b"x" * 40000


SUITE_MODES = [(s, True) for s in SUITES] + [(s, False) for s in SUITES if not s.aead]


@pytest.mark.parametrize(
    ("suite", "etm"), SUITE_MODES, ids=[f"{s.name}-{'etm' if e else 'mte'}" for s, e in SUITE_MODES]
)
def test_pair_every_suite(pki: Certs, suite: Any, etm: bool) -> None:
    c, s = _client(pki, suites=(suite,), encrypt_then_mac=etm), _server(pki)
    ce, _se = shuttle(c, s)
    info = _complete(ce).info
    assert info.suite == suite
    assert info.encrypt_then_mac == (etm and not suite.aead)
    s.send_application_data(b"hello")
    ce, _ = shuttle(c, s)
    assert [e.data for e in ce if isinstance(e, ApplicationData)] == [b"hello"]


def test_same_seed_same_bytes(pki: Certs) -> None:
    def transcript() -> bytes:
        c, s = (
            _client(pki, seed=5, suites=(suite_by_name("ECDHE-RSA-AES128-SHA256"),)),
            _server(pki, 6),
        )
        out = bytearray()
        for _ in range(6):
            a, b = c.data_to_send(), s.data_to_send()
            out += a + b
            s.receive_data(a)
            c.receive_data(b)
        return bytes(out)

    t1, t2 = transcript(), transcript()
    # The server's RSA-PSS signature draws its salt from the pki signer; with the test
    # double (cryptography's own salt) compare the client's flights only.
    assert len(t1) == len(t2)
    c1 = _client(pki, seed=9).data_to_send()
    assert c1 == _client(pki, seed=9).data_to_send()
    assert c1 != _client(pki, seed=10).data_to_send()


def test_resumption_by_session_id(pki: Certs) -> None:
    cache = SessionCache()
    c, s = _client(pki), _server(pki, session_cache=cache)
    ce, _ = shuttle(c, s)
    first = _complete(ce).info
    assert len(cache) == 1 and len(first.session_id) == 32
    c2, s2 = _client(pki, seed=3, session=first.session), _server(pki, 4, session_cache=cache)
    ce, se = shuttle(c2, s2)
    second = _complete(ce).info
    assert second.resumed and _complete(se).info.resumed
    assert second.master_secret == first.master_secret
    assert second.client_random != first.client_random
    c2.send_application_data(b"again")
    _, se = shuttle(c2, s2)
    assert [e.data for e in se if isinstance(e, ApplicationData)] == [b"again"]


def test_unknown_session_id_gives_full_handshake(pki: Certs) -> None:
    c, s = _client(pki), _server(pki)
    ce, _ = shuttle(c, s)
    info = _complete(ce).info
    c2, s2 = _client(pki, 3, session=info.session), _server(pki, 7, session_cache=SessionCache())
    ce, _ = shuttle(c2, s2)
    assert not _complete(ce).info.resumed


def test_alpn(pki: Certs) -> None:
    c, s = _client(pki, alpn=("h2", "http/1.1")), _server(pki, alpn=("http/1.1",))
    ce, se = shuttle(c, s)
    assert _complete(ce).info.alpn == "http/1.1" == _complete(se).info.alpn


def test_no_common_alpn_is_refused(pki: Certs) -> None:
    c, s = _client(pki, alpn=("h2",)), _server(pki, alpn=("http/1.1",))
    ce, _se = shuttle(c, s)
    closed = [e for e in ce if isinstance(e, Closed)]
    assert closed and closed[0].alert == 120


def test_keylog_lines(pki: Certs) -> None:
    lines: list[str] = []
    c, s = _client(pki, keylog=lines.append), _server(pki)
    ce, _ = shuttle(c, s)
    info = _complete(ce).info
    assert lines == [f"CLIENT_RANDOM {info.client_random.hex()} {info.master_secret.hex()}"]


def test_close_notify_both_ways(pki: Certs) -> None:
    c, s = _client(pki), _server(pki)
    shuttle(c, s)
    c.close()
    ce, se = shuttle(c, s)
    assert any(isinstance(e, Closed) and e.clean for e in se)
    assert any(isinstance(e, Closed) and e.clean for e in ce)
    assert c.state.name == s.state.name == "CLOSED"


def test_trace_shows_the_steps(pki: Certs) -> None:
    steps: list[tuple[str, dict[str, Any]]] = []
    c = TlsClient(
        ClientConfig(
            random=SeededRandom(1), server_name=HOST, trust=make_trust([pki.root]), now=NOW
        ),
        trace=lambda k, f, w: steps.append((k, f)),
    )
    c.start()
    s = _server(pki)
    shuttle(c, s)
    kinds_ = [k for k, _ in steps]
    for k in ("send", "server_hello", "certificate", "check", "server_key_exchange",
              "pre_master_secret", "master_secret", "keys", "finished", "established"):  # fmt: skip
        assert k in kinds_, k
    keys = next(f for k, f in steps if k == "keys")
    assert len(bytes.fromhex(keys["client_write_key"])) == 16


def test_empty_input_is_nothing_and_eof_is_truncation(pki: Certs) -> None:
    c, s = _client(pki), _server(pki)
    assert s.receive_data(b"") == []
    shuttle(c, s)
    events = s.receive_eof()
    assert isinstance(events[0], Closed) and not events[0].clean
    assert s.receive_eof() == []


def test_eof_after_our_close_notify_is_clean(pki: Certs) -> None:
    c, s = _client(pki), _server(pki)
    shuttle(c, s)
    c.close()
    events = c.receive_eof()
    assert isinstance(events[0], Closed) and events[0].clean
