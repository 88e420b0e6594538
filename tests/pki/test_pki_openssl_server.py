"""`openssl s_server` serves our chain over loopback; Python's ssl and our verifier accept it
with our root, and refuse it when it should."""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from clitools import free_port as _free_port
from minternet.randomness import SeededRandom
from minternet.tls.pki import Credentials, Pki
from minternet.tls.verify import verify_server_chain

HOST = "www.example.com"


@pytest.fixture(scope="module")
def live_pki() -> Pki:
    return Pki.create(SeededRandom(2026), datetime.now(UTC))


@contextlib.contextmanager
def s_server(tmp: Path, creds: Credentials, *extra: str) -> Iterator[int]:
    leaf, chain, key = tmp / "leaf.pem", tmp / "chain.pem", tmp / "key.pem"
    leaf.write_bytes(creds.chain[0].public_bytes(Encoding.PEM))
    chain.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in creds.chain[1:]))
    key.write_bytes(creds.key_pem())
    port = _free_port()
    args = ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", str(leaf),
            "-key", str(key), "-tls1_2", "-rev", "-quiet", *extra]  # fmt: skip
    if len(creds.chain) > 1:
        args += ["-cert_chain", str(chain)]
    proc = subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"s_server did not start: {proc.stderr!r}") from None
                time.sleep(0.05)
        yield port
    finally:
        proc.kill()
        proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()


def client_exchange(port: int, root: Credentials, host: str, cipher: str | None = None) -> str:
    ctx = ssl.create_default_context(cadata=root.cert_pem().decode())
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if cipher:
        ctx.set_ciphers(cipher)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as sock,
        ctx.wrap_socket(sock, server_hostname=host) as tls,
    ):
        tls.sendall(b"hello minternet\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = tls.recv(100)
            if not chunk:
                break
            data += chunk
        assert data == b"tenretnim olleh\n"  # s_server -rev reverses each line
        return f"{tls.version()} {tls.cipher()[0]}"  # type: ignore[index]


@pytest.mark.parametrize(
    ("key_type", "cipher"),
    [
        ("rsa", "ECDHE-RSA-AES128-GCM-SHA256"),
        ("rsa", "AES256-GCM-SHA384"),  # RSA key transport: needs keyEncipherment
        ("ecdsa", "ECDHE-ECDSA-AES128-GCM-SHA256"),
    ],
)
def test_python_ssl_validates_s_server_with_our_root(
    tmp_path: Path, live_pki: Pki, key_type: str, cipher: str
) -> None:
    creds = live_pki.issue_server([HOST, "127.0.0.1"], key_type=key_type)  # type: ignore[arg-type]
    with s_server(tmp_path, creds) as port:
        info = client_exchange(port, live_pki.root, HOST, cipher)
        assert info == f"TLSv1.2 {cipher}"
        client_exchange(port, live_pki.root, "127.0.0.1", cipher)


def test_our_verifier_accepts_what_s_server_sends(tmp_path: Path, live_pki: Pki) -> None:
    creds = live_pki.issue_server([HOST])
    with s_server(tmp_path, creds) as port:
        shown = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", HOST,
             "-showcerts", "-tls1_2"],
            input=b"", capture_output=True, timeout=30, check=False,
        ).stdout  # fmt: skip
    sent = x509.load_pem_x509_certificates(shown)
    assert [c.subject for c in sent] == [c.subject for c in creds.chain]
    der = [c.public_bytes(Encoding.DER) for c in sent]
    v = verify_server_chain(der, HOST, datetime.now(UTC), live_pki.trust_store())
    assert v.ok, v.reason


def test_python_ssl_refuses_bad_chains_from_s_server(tmp_path: Path, live_pki: Pki) -> None:
    cases = {
        "expired": ("certificate has expired", live_pki.issue_expired([HOST])),
        "self-signed": ("self-signed certificate", live_pki.issue_self_signed([HOST])),
        "bad-signature": ("certificate signature failure", live_pki.issue_bad_signature([HOST])),
    }
    for name, (message, creds) in cases.items():
        with (
            s_server(tmp_path, creds) as port,
            pytest.raises(ssl.SSLCertVerificationError, match=message),
        ):
            client_exchange(port, live_pki.root, HOST)
        # ...and our verifier refuses the same chain.
        v = verify_server_chain(creds.chain_der(), HOST, datetime.now(UTC), live_pki.trust_store())
        assert not v.ok, name
