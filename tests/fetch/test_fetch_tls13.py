"""``minternet fetch --tls 1.3`` tells the TLS 1.3 handshake in the seed's four phases;
``--compare-tls`` puts 1.2 and 1.3 side by side on the same seed; the capture of a 1.3 run
opens decrypted in tshark from its Decryption Secrets Block. The default stays the seed's
TLS 1.2 story (the behaviour hashes guard its bytes)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from clitools import CliRunner


def test_tls13_story(run_cli: CliRunner) -> None:
    out = run_cli("fetch", "--tls", "1.3").stdout
    assert "Step 2 · TLS 1.3 handshake" in out
    for words in (
        "makes an ephemeral x25519 key pair",
        "ClientHello",
        "ServerHello (122 bytes, the last message in the clear)",
        "EncryptedExtensions (encrypted)",
        "Certificate (",
        "encrypted): an observer no longer sees",
        "CertificateVerify (encrypted): rsa_pss_rsae_sha256",
        "key schedule: handshake_secret",
        "CLIENT_TRAFFIC_SECRET_0",
        "from here on www sends encrypted records with handshake traffic keys",
        "TLS 1.3 established",
        "200 OK",
    ):
        assert words in out, words
    assert "value: " not in out.split("Phase 3")[0]  # secrets only with --secrets
    secrets = run_cli("fetch", "--tls", "1.3", "--secrets").stdout
    assert "value: " in secrets


def test_default_story_is_still_tls12(run_cli: CliRunner) -> None:
    out = run_cli("fetch", "-q").stdout
    assert "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" in out


def test_same_seed_same_tls13_bytes(run_cli: CliRunner) -> None:
    a = run_cli("fetch", "--tls", "1.3", "--json", "--seed", "3").stdout
    b = run_cli("fetch", "--tls", "1.3", "--json", "--seed", "3").stdout
    assert a == b


def test_compare_tls(run_cli: CliRunner) -> None:
    data = json.loads(run_cli("fetch", "--compare-tls", "--json").stdout)
    t12, t13 = data["tls12"], data["tls13"]
    assert (t12["version"], t13["version"]) == ("TLSv1.2", "TLSv1.3")
    assert (t12["handshake_round_trips"], t13["handshake_round_trips"]) == (2, 1)
    assert t13["bytes_in_the_clear"] < t12["bytes_in_the_clear"]
    assert "Certificate" in t12["messages_in_the_clear"]
    assert "Certificate" not in t13["messages_in_the_clear"]
    assert "Certificate" in t13["handshake_messages_encrypted"]
    assert t13["time_to_first_byte"] < t12["time_to_first_byte"]
    text = run_cli("fetch", "--compare-tls").stdout
    assert "handshake round trips" in text and "time to first byte" in text


def test_tls13_refuses_tls12_only_options(run_cli: CliRunner) -> None:
    bad = run_cli("fetch", "--tls", "1.3", "--kex", "rsa", check=False)
    assert bad.returncode == 2 and "TLS 1.3" in bad.stderr
    bad = run_cli("fetch", "--real", "--compare-tls", "https://localhost/", check=False)
    assert bad.returncode == 2


@pytest.mark.tools("tshark")
def test_tls13_capture_decrypts_from_the_dsb(tmp_path: Path, run_cli: CliRunner) -> None:
    pcap = tmp_path / "run.pcapng"
    run_cli("fetch", "-q", "--tls", "1.3", "--pcap", str(pcap), "--pcap-at", "laptop")
    out = subprocess.run(
        ["tshark", "-r", str(pcap), "-Y", "http"], capture_output=True, text=True, timeout=120
    ).stdout
    assert "GET /index.html HTTP/1.1" in out and "HTTP/1.1 200 OK" in out
    hs = subprocess.run(
        ["tshark", "-r", str(pcap), "-Y", "tls.handshake.type == 11"],
        capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    assert "Certificate" in hs  # the encrypted certificate, opened with the DSB's secrets


@pytest.mark.tools("tshark")
def test_compare_tls_writes_each_runs_files(tmp_path: Path, run_cli: CliRunner) -> None:
    """--compare-tls with --html/--pcap/--keylog: one page, capture and key log per run,
    named by its version; each capture decrypts in tshark with its own key log."""
    html, pcap, keys = tmp_path / "run.html", tmp_path / "run.pcapng", tmp_path / "keys.txt"
    run_cli("fetch", "--compare-tls", "--html", str(html), "--pcap", str(pcap),
            "--no-pcap-secrets", "--pcap-at", "laptop", "--keylog", str(keys))  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "keys-tls1.2.txt", "keys-tls1.3.txt", "run-tls1.2.html", "run-tls1.2.pcapng",
        "run-tls1.3.html", "run-tls1.3.pcapng",
    ]  # fmt: skip
    for v, secret in (("1.2", "CLIENT_RANDOM"), ("1.3", "CLIENT_TRAFFIC_SECRET_0")):
        log = tmp_path / f"keys-tls{v}.txt"
        assert secret in log.read_text()
        cap = tmp_path / f"run-tls{v}.pcapng"
        out = subprocess.run(
            ["tshark", "-r", str(cap), "-o", f"tls.keylog_file:{log}", "-Y", "http.request",
             "-T", "fields", "-e", "tls.record.version", "-e", "http.request.uri"],
            capture_output=True, text=True, check=True, timeout=120,
        ).stdout.split()  # fmt: skip
        assert out[-1] == "/index.html", out
        page = (tmp_path / f"run-tls{v}.html").read_text()
        assert f"TLS {v}" in page or f"TLSv{v}" in page
    bad = run_cli("fetch", "--compare-tls", "--tls", "1.3", check=False)
    assert bad.returncode == 2 and "--tls" in bad.stderr
    bad = run_cli("fetch", "--compare-tls", "-o", str(tmp_path / "body"), check=False)
    assert bad.returncode == 2 and "-o" in bad.stderr
