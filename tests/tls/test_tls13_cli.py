"""TLS 1.3 over loopback: ``minternet tls client/server`` against ``openssl s_server`` /
``s_client`` (each suite × group, HelloRetryRequest, resumption, KeyUpdate both ways),
curl against ``serve --https``, and tshark decrypting a 1.3 session from our key log."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from test_tls_cli import openssl_www, our_server
from tls_support import HOST, Certs, minternet

from clitools import minternet_serve

pytestmark = pytest.mark.tools("openssl", "ss")

SUITES = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]
GROUPS = {"X25519": "x25519", "P-256": "secp256r1", "P-384": "secp384r1", "X448": "x448"}


@contextmanager
def s_server(pki: Certs, *extra: str) -> Iterator[int]:
    with openssl_www(pki.rsa, "-tls1_3", *extra) as port:
        yield port


def _client(port: int, pki: Certs, *extra: str) -> dict[str, object]:
    res = minternet(
        "tls", "client", "127.0.0.1", str(port), "--sni", HOST, "--cafile", str(pki.root_path),
        "--json", "--stdin", "--wait", "4", *extra, input="GET / HTTP/1.0\r\n\r\n",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr + res.stdout
    rep: dict[str, object] = json.loads(res.stdout)
    return rep


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("group", list(GROUPS))
def test_our_client_against_openssl_s_server(pki: Certs, suite: str, group: str) -> None:
    with s_server(pki, "-ciphersuites", suite, "-groups", group) as port:
        rep = _client(port, pki)
    assert rep["version"] == "TLSv1.3"
    assert rep["cipher_suite"] == suite
    assert rep["key_exchange"] == f"ECDHE {GROUPS[group]}"
    assert rep["verified"] is True
    assert "TLSv1.3" in str(rep["received"])  # s_server -www reports the protocol
    # x25519 is our first share: any other group costs a HelloRetryRequest
    assert rep["hello_retry"] is (group != "X25519")


def test_our_client_key_update_with_openssl(pki: Certs) -> None:
    with s_server(pki) as port:
        rep = _client(port, pki, "--key-update")
    assert "200 ok" in str(rep["received"]).lower()


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("group", list(GROUPS))
def test_openssl_s_client_against_our_server(
    pki: Certs, suite: str, group: str, our_tls_server: int
) -> None:
    port = our_tls_server
    res = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_3",
         "-ciphersuites", suite, "-groups", group, "-servername", HOST,
         "-CAfile", str(pki.root_path), "-verify_return_error", "-verify_hostname", HOST],
        input="hello\n", capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    out = res.stdout
    assert f"New, TLSv1.3, Cipher is {suite}" in out, out + res.stderr
    assert "Verify return code: 0 (ok)" in out
    temp = {
        "X25519": "X25519",
        "P-256": "ECDH, prime256v1",
        "P-384": "ECDH, secp384r1",
        "X448": "X448",
    }
    assert f"Server Temp Key: {temp[group]}" in out


def test_openssl_s_client_hello_retry_and_resumption(pki: Certs, tmp_path: Path) -> None:
    """Our server prefers x25519: s_client, sharing only P-384 (its first group) but
    supporting x25519 too, gets a HelloRetryRequest; then its ticket resumes the session."""
    sess = tmp_path / "sess.pem"
    with our_server(pki) as (port, _proc):
        proc = subprocess.Popen(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_3",
             "-groups", "P-384:X25519", "-servername", HOST, "-CAfile", str(pki.root_path),
             "-sess_out", str(sess), "-msg"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(1.5)  # long enough to read the server's tickets before stdin ends
        out, err = proc.communicate("hello\n", timeout=20)
        first = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        second = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_3",
             "-servername", HOST, "-CAfile", str(pki.root_path), "-sess_in", str(sess)],
            input="hello\n", capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    assert "Server Temp Key: X25519" in first.stdout, first.stdout + first.stderr
    assert first.stdout.count("ClientHello") >= 2  # -msg: the second hello after the retry
    assert "Reused, TLSv1.3" in second.stdout, second.stdout + second.stderr


def test_openssl_s_client_key_update_to_our_server(pki: Certs) -> None:
    """s_client's "K" sends a KeyUpdate asking for ours; our echo still arrives after it."""
    with our_server(pki) as (port, _proc):
        proc = subprocess.Popen(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_3",
             "-servername", HOST, "-CAfile", str(pki.root_path), "-quiet", "-no_ign_eof"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert proc.stdin is not None
        time.sleep(1.0)
        proc.stdin.write("K\n")
        proc.stdin.flush()
        time.sleep(0.5)
        proc.stdin.write("after the update\n")
        proc.stdin.flush()
        time.sleep(1.0)
        out, err = proc.communicate(timeout=20)  # closes stdin: s_client then ends
    assert "KEYUPDATE" in err or "KEYUPDATE" in out, err
    assert "after the update" in out, out + err


def test_our_server_key_update_to_openssl(pki: Certs) -> None:
    """Our server updates its keys (asking s_client to update too) right after the
    handshake; what s_client sends afterwards still comes back."""
    with our_server(pki, "--key-update") as (port, _proc):
        proc = subprocess.Popen(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_3",
             "-servername", HOST, "-CAfile", str(pki.root_path), "-quiet", "-no_ign_eof"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert proc.stdin is not None
        time.sleep(1.0)
        proc.stdin.write("echo me\n")
        proc.stdin.flush()
        time.sleep(1.5)  # the echo comes back before stdin ends
        out, err = proc.communicate(timeout=20)
    assert "echo me" in out, out + err


def test_our_server_answers_tls12_clients_with_the_sentinel(pki: Certs) -> None:
    with our_server(pki) as (port, _proc):
        res = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_2",
             "-servername", HOST, "-CAfile", str(pki.root_path), "-msg"],
            input="hello\n", capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    assert "Protocol  : TLSv1.2" in res.stdout, res.stdout
    # the ServerHello random (bytes 6..38 of -msg's dump) ends with "DOWNGRD\x01" (§4.1.3)
    dump = res.stdout.split("ServerHello\n", 1)[1].split("<<<", 1)[0]
    server_hello = bytes.fromhex("".join(dump.split()))
    assert server_hello[6:38][-8:] == b"DOWNGRD\x01"


@contextmanager
def serve_https(tmp_path: Path, *extra: str) -> Iterator[int]:
    """``minternet serve --https 0``: the kernel picks the port, the server reports it."""
    with minternet_serve(
        "--https", "0", "--ca-out", str(tmp_path / "ca.pem"), "--quiet", *extra
    ) as (ports, _):
        yield ports["https"]


@pytest.mark.tools("curl")
@pytest.mark.parametrize("version", ["1.3", "1.2"])
def test_curl_against_serve_https(tmp_path: Path, version: str) -> None:
    with serve_https(tmp_path) as port:
        res = subprocess.run(
            ["curl", "-sS", f"--tlsv{version}", "--tls-max", version, "--cacert",
             str(tmp_path / "ca.pem"), "--resolve", f"www.example.com:{port}:127.0.0.1",
             "-m", "10", "-v", f"https://www.example.com:{port}/"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert f"SSL connection using TLSv{version}" in res.stderr, res.stderr
    assert "<html" in res.stdout.lower()


def test_serve_https_tls12_only(tmp_path: Path) -> None:
    with serve_https(tmp_path, "--tls", "1.2") as port:
        res = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername",
             "www.example.com", "-CAfile", str(tmp_path / "ca.pem")],
            input="", capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    assert "Protocol  : TLSv1.2" in res.stdout, res.stdout
