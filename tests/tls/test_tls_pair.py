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


@pytest.mark.parametrize(
    "suite", ["ECDHE-RSA-AES128-SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", "AES128-SHA"]
)
def test_same_seed_same_bytes(pki: Certs, suite: str) -> None:
    def transcript(seed: int) -> bytes:
        c = _client(pki, seed=seed, suites=(suite_by_name(suite),))
        s = _server(pki, seed + 100)
        out = bytearray()
        for _ in range(3):
            a = c.data_to_send()
            s.receive_data(a)
            b = s.data_to_send()
            c.receive_data(b)
            out += a + b
        assert c.established
        c.send_application_data(b"same")
        return bytes(out + c.data_to_send())

    assert transcript(5) == transcript(5)
    assert transcript(5) != transcript(6)


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


def test_secrets_are_re_derivable(pki: Certs) -> None:
    from minternet.tls.prf import key_block, master_secret

    c, s = _client(pki, extended_master_secret=False), _server(pki)
    ce, _ = shuttle(c, s)
    info = _complete(ce).info
    assert not info.extended_master_secret
    assert info.pre_master_secret is not None
    h = info.suite.prf_hash
    ms = master_secret(h, info.pre_master_secret, info.client_random, info.server_random)
    assert ms == info.master_secret
    kb = key_block(
        h, ms, info.client_random, info.server_random,
        info.suite.mac_len, info.suite.key_len, info.suite.fixed_iv_len,
    )  # fmt: skip
    assert kb == info.keys
    d = info.as_dict(secrets=True)
    assert (
        d["master_secret"] == ms.hex()
        and d["keys"]["client_write_key"] == kb.client_write_key.hex()
    )


def test_server_picks_credentials_by_sni(pki: Certs) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from tls_support import _issue

    key = ec.generate_private_key(ec.SECP256R1())
    api = _issue(
        "api.example.com", key, pki.root.subject, pki.ecdsa.key, False, ["api.example.com"]
    )
    creds = [KeyAndChain(pki.ecdsa.chain, pki.ecdsa.key), KeyAndChain((api,), key)]

    def leaf_for(name: str) -> str:
        c = TlsClient(ClientConfig(SeededRandom(1), server_name=name))
        c.start()
        ce, _ = shuttle(c, TlsServer(ServerConfig(creds, SeededRandom(2))))
        der = _complete(ce).info.peer_chain[0]
        return x509.load_der_x509_certificate(der).subject.rfc4514_string()

    assert leaf_for("api.example.com") == "CN=api.example.com"
    assert leaf_for(HOST) == f"CN={HOST}"
    assert leaf_for("unknown.example") == f"CN={HOST}"  # the first one by default


def test_server_sets_no_downgrade_sentinel(pki: Certs) -> None:
    for seed in range(5):
        c, s = _client(pki, seed=seed), _server(pki, seed)
        ce, _ = shuttle(c, s)
        assert _complete(ce).info.server_random[-8:-1] != b"DOWNGRD"


def test_client_answers_hello_request_with_no_renegotiation(pki: Certs) -> None:
    from minternet.tls.messages import HelloRequest
    from minternet.tls.record import ContentType

    c, s = _client(pki), _server(pki)
    shuttle(c, s)
    s._out += s.records.encode(ContentType.handshake, HelloRequest().encode())
    ce, se = shuttle(c, s)
    assert not any(isinstance(e, Closed) for e in ce)
    assert [getattr(e, "description", None) for e in se] == [100]  # warning no_renegotiation
    assert c.established and s.established


def test_resuming_an_ems_session_without_ems_is_refused(pki: Certs) -> None:
    cache = SessionCache()
    c, s = _client(pki), _server(pki, session_cache=cache)
    ce, _ = shuttle(c, s)
    first = _complete(ce).info
    c2 = _client(pki, seed=3, session=first.session, extended_master_secret=False)
    ce, _ = shuttle(c2, _server(pki, 4, session_cache=cache))
    assert [e.alert for e in ce if isinstance(e, Closed)] == [40]


def test_application_data_in_the_same_read_as_finished(pki: Certs) -> None:
    c, s = _client(pki), _server(pki)
    s.receive_data(c.data_to_send())
    c.receive_data(s.data_to_send())
    s.receive_data(c.data_to_send())  # server sends CCS + Finished …
    s.send_application_data(b"early words")  # … and data right behind them
    events = c.receive_data(s.data_to_send() + b"")
    assert kinds(events) == ["HandshakeComplete", "ApplicationData"]
    assert events[1].data == b"early words"  # type: ignore[union-attr]


def test_hello_request_during_the_handshake_is_ignored(pki: Certs) -> None:
    import struct

    c, s = _client(pki), _server(pki)
    s.receive_data(c.data_to_send())
    hello_request = struct.pack(">BHH", 22, 0x0303, 4) + b"\x00\x00\x00\x00"
    assert c.receive_data(hello_request) == []
    ce, _ = shuttle(c, s)
    assert _complete(ce)
