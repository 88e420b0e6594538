"""The default fetch tells the whole seed: each named state and message, with real values."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from minternet.apps.fetch_run import FetchOptions, run_fetch
from minternet.apps.site import packaged_site
from minternet.report.story import build_story, story_lines
from minternet.report.summary import fetch_summary

SEED_WORDS = [
    "SYN",
    "SYN-ACK",
    "ACK",
    "SYN-SENT",
    "SYN-RECEIVED",
    "ESTABLISHED",
    "ClientHello",
    "ServerHello",
    "Certificate",
    "ServerKeyExchange",
    "ClientKeyExchange",
    "ChangeCipherSpec",
    "Finished",
    "Pre-Master Secret",
    "Master Secret",
    "GET /index.html",
    "FIN",
    "FIN-WAIT-1",
    "FIN-WAIT-2",
    "CLOSE-WAIT",
    "LAST-ACK",
    "TIME-WAIT",
    "client random",
    "server random",
    "93.184.216.34",
    "443",
    "TTL",
    "Ethernet",
    "browser cache",
    "hosts file",
    "referral",
    "SNI",
    "compression methods",
    "chosen cipher suite",
    "Phase 1",
    "Phase 2",
    "Phase 3",
    "Phase 4",
    "第一阶段",
    "第四阶段",
]


@pytest.fixture(scope="module")
def default_text() -> tuple[str, dict[str, object]]:
    run = run_fetch(FetchOptions(seed=1))
    story = build_story(run)
    text = "\n".join(story_lines(story))
    return text, fetch_summary(story)


def test_every_named_step_of_the_seed_is_told(default_text: tuple[str, dict[str, object]]) -> None:
    text, _ = default_text
    missing = [w for w in SEED_WORDS if w not in text]
    assert not missing, missing


def test_the_values_are_the_run_s(default_text: tuple[str, dict[str, object]]) -> None:
    text, summary = default_text
    tcp = summary["tcp"]
    assert isinstance(tcp, dict)
    x, y = tcp["client_isn"], tcp["server_isn"]
    assert f"SYN, Seq = X = {x}" in text
    assert f"SYN-ACK, Seq = Y = {y}, Ack = X + 1 = {(x + 1) % 2**32}" in text
    assert f"ACK, Seq = X + 1 = {(x + 1) % 2**32}, Ack = Y + 1 = {(y + 1) % 2**32}" in text
    tls = summary["tls"]
    assert isinstance(tls, dict)
    assert f"client random: {tls['client_random']}" in text
    assert f"server random: {tls['server_random']}" in text
    assert tls["kex"] == "ECDHE" and tls["cipher_suite"].startswith("TLS_ECDHE_RSA_WITH_AES")
    # the path: TTL 64 at the laptop, one less after each router, new MACs each hop
    hops = summary["hops"]
    assert isinstance(hops, list)
    assert [h["ttl"] for h in hops] == [64, 63, 62, 61, 60]
    assert [h["node"] for h in hops] == [
        "laptop",
        "home-router",
        "isp-router",
        "transit",
        "dc-router",
    ]
    assert len({h["src_mac"] for h in hops}) == len(hops)
    assert "www receives it with TTL 60 = 64 − 4 routers" in text
    # the secrets are not shown unless asked
    assert "value with --secrets" in text


def test_json_fields(default_text: tuple[str, dict[str, object]]) -> None:
    _, s = default_text
    site = packaged_site().files[("index.html",)]
    assert s["url"] == "https://www.example.com/index.html" and s["ip"] == "93.184.216.34"
    http = s["http"]
    assert isinstance(http, dict)
    assert http["status"] == 200 and http["body_bytes"] == len(site)
    assert http["body_sha256"] == hashlib.sha256(site).hexdigest()
    tcp = s["tcp"]
    assert isinstance(tcp, dict)
    assert tcp["client_states"] == [
        "CLOSED",
        "SYN-SENT",
        "ESTABLISHED",
        "FIN-WAIT-1",
        "FIN-WAIT-2",
        "TIME-WAIT",
        "CLOSED",
    ]
    assert tcp["server_states"] == [
        "CLOSED",
        "LISTEN",
        "SYN-RECEIVED",
        "ESTABLISHED",
        "CLOSE-WAIT",
        "LAST-ACK",
        "CLOSED",
    ]
    assert tcp["retransmissions"] == 0
    phases = s["phases"]
    assert isinstance(phases, list)
    bounds = [(p["start"], p["end"]) for p in phases]
    assert all(a is not None and b is not None and a <= b for a, b in bounds)
    assert all(bounds[i][1] <= bounds[i + 1][0] for i in range(3))
    assert bounds[3][1] - bounds[3][0] >= 60.0  # TIME-WAIT ran out: 2×MSL
    assert json.loads(json.dumps(s)) == s


def test_rsa_key_exchange_shows_the_encrypted_pre_master() -> None:
    run = run_fetch(FetchOptions(seed=1, kex="rsa"))
    text = "\n".join(story_lines(build_story(run, secrets=True)))
    assert run.ok
    assert "RSA-encrypted with the server's public key" in text
    assert "ServerKeyExchange (" not in text
    assert re.search(r"Pre-Master Secret.*RSA-encrypted to the server", text)
    assert re.search(r"value: [0-9a-f]{96}", text)  # 48 bytes, shown with --secrets
    assert "TLS_RSA_WITH_AES_128_GCM_SHA256" in text


def test_cipher_option_is_what_is_negotiated() -> None:
    run = run_fetch(FetchOptions(seed=2, cipher="ECDHE-RSA-CHACHA20-POLY1305"))
    summary = fetch_summary(build_story(run))
    assert summary["tls"]["cipher_suite"] == "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"  # type: ignore[index]


def test_loss_retransmits_and_the_page_arrives_intact() -> None:
    from minternet.sim.faults import Faults

    run = run_fetch(FetchOptions(seed=3, faults=Faults(loss=0.2)))
    summary = fetch_summary(build_story(run))
    site = packaged_site().files[("index.html",)]
    assert run.ok and run.page is not None and run.page.body == site
    assert summary["tcp"]["retransmissions"] > 0  # type: ignore[index]
    text = "\n".join(story_lines(build_story(run)))
    assert "retransmi" in text


def test_a_mebibyte_from_site_arrives_intact(tmp_path: Path) -> None:
    from minternet.sim.faults import Faults

    blob = bytes((i * 7919 + (i >> 8)) & 0xFF for i in range(1 << 20))
    (tmp_path / "big.bin").write_bytes(blob)
    run = run_fetch(
        FetchOptions(
            url="https://www.example.com/big.bin",
            seed=4,
            site_dir=tmp_path,
            faults=Faults(loss=0.02),
            wait_time_wait=False,
        )
    )
    assert run.ok and run.page is not None
    assert hashlib.sha256(run.page.body).digest() == hashlib.sha256(blob).digest()
    story = build_story(run)
    text = "\n".join(story_lines(story))
    assert re.search(r"cut into (\d+) application_data record", text)
