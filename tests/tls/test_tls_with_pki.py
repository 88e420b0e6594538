"""Our TLS with the project's PKI (``minternet.tls.pki``/``verify``/``signing``): the client
negative matrix end to end, RSA and ECDSA servers, and same seed ⇒ same bytes on the wire."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tls_pair import shuttle

from minternet.randomness import SeededRandom
from minternet.tls import (
    ClientConfig,
    Closed,
    HandshakeComplete,
    ServerConfig,
    TlsClient,
    TlsServer,
)
from minternet.tls import pki as pki_mod

HOST = "www.example.com"


@pytest.fixture(scope="module")
def world() -> Any:
    # tests/pki's seed: its keys are minted once a run (the run's key cache, tests/conftest)
    return pki_mod.Pki.create(SeededRandom(2026), pki_mod.SIM_EPOCH)


def _run(world: Any, creds: Any, host: str = HOST, seed: int = 1, **ckw: Any) -> tuple[Any, Any]:
    c = TlsClient(
        ClientConfig(
            random=SeededRandom(seed), server_name=host, trust=world.trust_store(),
            now=world.now + timedelta(hours=1), **ckw,
        )
    )  # fmt: skip
    s = TlsServer(ServerConfig([creds], SeededRandom(seed + 1)))
    c.start()
    return c, s


@pytest.mark.parametrize("key_type", ["rsa", "ecdsa"])
def test_handshake_with_pki_credentials(world: Any, key_type: str) -> None:
    creds = world.issue_server([HOST], key_type=key_type)
    c, s = _run(world, creds)
    ce, _ = shuttle(c, s)
    hc = [e for e in ce if isinstance(e, HandshakeComplete)]
    assert hc, ce
    info = hc[0].info
    assert info.verification.ok
    assert [ch.name for ch in info.verification.checks if not ch.ok] == []
    assert info.suite.auth == key_type.upper()


@pytest.mark.parametrize("suite", ["ECDHE-RSA-AES128-GCM-SHA256", "AES128-SHA"])
def test_same_seed_same_bytes_with_pki(world: Any, suite: str) -> None:
    from minternet.tls import suite_by_name

    creds = world.issue_server([HOST])

    def wire() -> bytes:
        c, s = _run(world, creds, suites=(suite_by_name(suite),))
        out = bytearray()
        for _ in range(4):
            a = c.data_to_send()
            s.receive_data(a)
            b = s.data_to_send()
            c.receive_data(b)
            out += a + b
        assert c.established
        return bytes(out)

    assert wire() == wire()


def test_client_negative_matrix(world: Any) -> None:
    cases = world.negative_matrix(HOST)
    assert len(cases) >= 7
    for case in cases:
        c, s = _run(world, case.credentials, host=case.host)
        ce, se = shuttle(c, s)
        closed = [e for e in ce if isinstance(e, Closed)]
        assert closed, case.name
        assert closed[0].alert == case.alert and closed[0].alert_sent, (case.name, closed[0])
        assert "\n" not in closed[0].reason and closed[0].reason
        failed = next(ch for ch in c.neg.verification.checks if not ch.ok)
        assert failed.name == case.check, (case.name, failed)
        # the server saw the alert and closed too
        assert any(isinstance(e, Closed) and e.alert == case.alert for e in se), case.name
