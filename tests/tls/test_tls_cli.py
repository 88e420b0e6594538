"""``minternet tls client/server`` over loopback against ``openssl s_server``/``s_client``
and Python's ssl; our key log lets tshark decrypt a session."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from tls_support import HOST, Certs, Creds, _env, minternet

from clitools import free_port
from required_tools import require_tools

pytestmark = pytest.mark.tools("openssl")


def _wait_port(port: int, proc: subprocess.Popen[str], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.communicate()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("server did not start")


@contextmanager
def s_server(pki: Certs, cipher: str) -> Iterator[int]:
    creds = pki.ecdsa if "ECDSA" in cipher else pki.rsa
    with openssl_www(creds, "-tls1_2", "-cipher", cipher) as port:
        yield port


@contextmanager
def openssl_www(creds: Creds, *args: str) -> Iterator[int]:
    """``openssl s_server -www`` with ``creds`` and ``args``, for one connection."""
    port = free_port()
    proc = subprocess.Popen(
        ["openssl", "s_server", "-accept", str(port), *args,
         "-cert", str(creds.cert_path), "-key", str(creds.key_path), "-www", "-naccept", "1"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_listening(port)
        yield port
    finally:
        proc.kill()
        proc.wait()


def wait_listening(port: int) -> None:
    """Until something listens on ``port`` (asked of ``ss``: probing would use up
    s_server's -naccept), at most 5 s."""
    for _ in range(100):
        out = subprocess.run(["ss", "-ltn"], capture_output=True, text=True).stdout
        if f":{port} " in out:
            return
        time.sleep(0.05)


CLIENT_SUITES = [
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "AES256-GCM-SHA384",
    "AES128-SHA",
    "ECDHE-RSA-AES128-SHA256",
]


@pytest.mark.parametrize("cipher", CLIENT_SUITES)
def test_our_client_against_openssl_s_server(pki: Certs, cipher: str, tmp_path: Path) -> None:
    keylog = tmp_path / "keys.log"
    with s_server(pki, cipher) as port:
        res = minternet(
            "tls", "client", "127.0.0.1", str(port), "--sni", HOST, "--cafile", str(pki.root_path),
            "--cipher", cipher, "--keylog", str(keylog), "--json", "--stdin",
            input="GET / HTTP/1.0\r\n\r\n",
        )  # fmt: skip
    assert res.returncode == 0, res.stderr + res.stdout
    rep = json.loads(res.stdout)
    assert rep["version"] == "TLSv1.2"
    assert rep["cipher_suite_openssl"] == cipher
    assert rep["verified"] is True and rep["failed_check"] is None
    assert rep["certificate_subject"] == f"CN={HOST}"
    assert rep["key_exchange"].startswith("ECDHE" if cipher.startswith("ECDHE") else "RSA")
    # s_server -www answers with a page that names the cipher it used
    assert "HTTP/1.0 200 ok" in rep["received"] and cipher in rep["received"]
    line = keylog.read_text().strip()
    assert line.startswith(f"CLIENT_RANDOM {rep['client_random']} ")


def test_our_client_trace_shows_each_step(pki: Certs) -> None:
    with s_server(pki, "ECDHE-RSA-AES128-GCM-SHA256") as port:
        res = minternet(
            "tls", "client", "127.0.0.1", str(port), "--sni", HOST,
            "--cafile", str(pki.root_path), "--trace",
        )  # fmt: skip
    assert res.returncode == 0, res.stderr
    steps = res.stderr
    for needle in ("-> client_hello", "<- server_hello", "<- certificate", "check: name=",
                   "<- server_key_exchange", "-> client_key_exchange", "master_secret:",
                   "-> ChangeCipherSpec", "<- finished", "established:"):  # fmt: skip
        assert needle in steps, needle


def test_our_client_json_reports_the_failing_check(pki: Certs) -> None:
    with s_server(pki, "ECDHE-RSA-AES128-GCM-SHA256") as port:
        res = minternet(
            "tls", "client", "127.0.0.1", str(port), "--sni", "wrong.example.com",
            "--cafile", str(pki.root_path), "--json",
        )  # fmt: skip
    assert res.returncode == 1
    rep = json.loads(res.stdout)
    assert rep["verified"] is False and rep["handshake"] == "failed"
    assert rep["failed_check"]["name"] == "hostname"
    assert rep["alert"] == {"description": "bad_certificate (42)", "direction": "sent"}
    assert rep["cipher_suite"] == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
    assert rep["certificate_subject"] == f"CN={HOST}"


def test_our_client_text_output_and_refusal(pki: Certs, other_pki: Certs) -> None:
    with s_server(pki, "ECDHE-RSA-AES128-GCM-SHA256") as port:
        res = minternet(
            "tls", "client", "127.0.0.1", str(port), "--sni", HOST,
            "--cafile", str(other_pki.root_path),
        )  # fmt: skip
    assert res.returncode == 1
    assert "FAIL" in res.stdout and "handshake failed (sent unknown_ca (48))" in res.stdout
    assert "Traceback" not in res.stderr


@contextmanager
def our_server(pki: Certs, *extra: str) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "minternet", "tls", "server", str(port),
         "--cert", str(pki.rsa.cert_path), "--key", str(pki.rsa.key_path),
         "--cert", str(pki.ecdsa.cert_path), "--key", str(pki.ecdsa.key_path), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
    )  # fmt: skip
    try:
        _wait_port(port, proc)
        yield port, proc
    finally:
        proc.kill()
        proc.communicate()


SERVER_SUITES = [
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "AES128-GCM-SHA256",
]


@pytest.mark.parametrize("cipher", SERVER_SUITES)
def test_openssl_s_client_against_our_server(pki: Certs, cipher: str, our_tls_server: int) -> None:
    port = our_tls_server
    res = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_2", "-cipher", cipher,
         "-servername", HOST, "-CAfile", str(pki.root_path), "-verify_return_error",
         "-verify_hostname", HOST],
        input="hello\n", capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert f"Cipher is {cipher}" in res.stdout, res.stdout + res.stderr
    assert "Verify return code: 0 (ok)" in res.stdout
    assert "Protocol  : TLSv1.2" in res.stdout
    assert "Extended master secret: yes" in res.stdout


def test_python_ssl_socket_echo_against_our_server(pki: Certs) -> None:
    with our_server(pki) as (port, proc):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_verify_locations(pki.root_path)
        for _ in range(2):  # connection after connection
            with (
                socket.create_connection(("127.0.0.1", port)) as raw,
                ctx.wrap_socket(raw, server_hostname=HOST) as s,
            ):
                s.sendall(b"ping " * 10000)
                got = b""
                while len(got) < 50000:
                    got += s.recv(65536)
                assert got == b"ping " * 10000
                s.unwrap()  # close_notify answered
        proc.kill()
        out, _ = proc.communicate()
    assert out.count("TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256") == 2


def test_curl_against_our_server(pki: Certs) -> None:
    require_tools("curl")
    with our_server(pki, "--alpn", "http/1.1") as (port, _proc):
        res = subprocess.run(
            ["curl", "-sS", "--tlsv1.2", "--tls-max", "1.2", "--cacert", str(pki.root_path),
             "--resolve", f"{HOST}:{port}:127.0.0.1", "-m", "5", "-v", f"https://{HOST}:{port}/"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    # our server echoes the request instead of answering HTTP; the TLS part is what we check
    assert "SSL connection using TLSv1.2" in res.stderr, res.stderr
    assert "ALPN: server accepted http/1.1" in res.stderr or "ALPN, server accepted" in res.stderr


def test_bad_arguments_are_one_line(pki: Certs) -> None:
    res = minternet("tls", "client", "127.0.0.1", "1", "--cipher", "NOPE", "--no-verify")
    assert res.returncode == 2 and "unknown cipher suite" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    res = minternet("tls", "server", "0", "--cert", str(pki.rsa.cert_path),
                    "--key", str(pki.rsa.cert_path))  # fmt: skip
    assert res.returncode == 2 and "private key" in res.stderr


def test_project_pki_chain_with_intermediate_end_to_end(tmp_path: Path) -> None:
    """`minternet pki create` → our server serves leaf + intermediate → openssl s_client and
    our client both verify it against ca.pem alone."""
    res = minternet("pki", "create", str(tmp_path), "--host", HOST)
    assert res.returncode == 0, res.stderr
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "minternet", "tls", "server", str(port),
         "--cert", str(tmp_path / "server.pem"), "--key", str(tmp_path / "server.key")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
    )  # fmt: skip
    try:
        _wait_port(port, proc)
        ours = minternet(
            "tls", "client", "127.0.0.1", str(port), "--sni", HOST,
            "--cafile", str(tmp_path / "ca.pem"), "--json",
        )  # fmt: skip
        ossl = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_2",
             "-servername", HOST, "-CAfile", str(tmp_path / "ca.pem"), "-verify_return_error",
             "-verify_hostname", HOST],
            input="", capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    finally:
        proc.kill()
        proc.communicate()
    rep = json.loads(ours.stdout)
    assert rep["verified"] is True, rep
    assert len(rep["certificate_chain"]) == 2
    assert [c["name"] for c in rep["checks"] if not c["ok"]] == []
    assert "Verify return code: 0 (ok)" in ossl.stdout, ossl.stdout + ossl.stderr


def test_server_stops_cleanly_on_ctrl_c(pki: Certs) -> None:
    import signal

    with our_server(pki) as (_port, proc):
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert ("interrupted" in err or "aborted" in err) and "Traceback" not in err
