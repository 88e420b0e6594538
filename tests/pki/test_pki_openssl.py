"""OpenSSL and Python's ssl judge our certificates: the good chain passes, each bad one fails
for the reason we expect."""

from __future__ import annotations

import ssl
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from minternet.drivers.pem import write_credentials
from minternet.randomness import SeededRandom
from minternet.tls.pki import SIM_EPOCH, Credentials, Pki

HOST = "www.example.com"
ATTIME = str(int(SIM_EPOCH.timestamp()))

# What `openssl verify` says for each case of the negative matrix (X509_V_ERR_* numbers).
OPENSSL_ERRORS = {
    "expired": "error 10 at 0 depth lookup: certificate has expired",
    "not-yet-valid": "error 9 at 0 depth lookup: certificate is not yet valid",
    "wrong-host": "error 62 at 0 depth lookup: hostname mismatch",
    "unknown-ca": "error 20 at 1 depth lookup: unable to get local issuer certificate",
    "bad-signature": "error 7 at 0 depth lookup: certificate signature failure",
    "non-ca-intermediate": "at 1 depth lookup: invalid CA certificate",
    "self-signed": "error 18 at 0 depth lookup: self-signed certificate",
}


def openssl_verify(tmp: Path, root: Credentials, creds: Credentials, host: str) -> str:
    ca = tmp / "ca.pem"
    ca.write_bytes(root.cert_pem())
    leaf = tmp / "leaf.pem"
    leaf.write_bytes(Credentials(creds.chain[:1], creds.key).cert_pem())
    args = ["openssl", "verify", "-attime", ATTIME, "-CAfile", str(ca), "-purpose", "sslserver"]
    if len(creds.chain) > 1:
        untrusted = tmp / "untrusted.pem"
        untrusted.write_bytes(Credentials(creds.chain[1:], creds.key).cert_pem())
        args += ["-untrusted", str(untrusted)]
    args += ["-verify_hostname", host, str(leaf)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    return f"rc={out.returncode}\n{out.stdout}{out.stderr}"


@pytest.mark.parametrize("key_type", ["rsa", "ecdsa"])
def test_openssl_verify_accepts_the_good_chain(tmp_path: Path, pki: Pki, key_type: str) -> None:
    creds = pki.issue_server([HOST, "example.com"], key_type=key_type)  # type: ignore[arg-type]
    out = openssl_verify(tmp_path, pki.root, creds, HOST)
    assert out.startswith("rc=0\n") and "leaf.pem: OK" in out, out
    out = openssl_verify(tmp_path, pki.root, creds, "example.com")
    assert out.startswith("rc=0\n"), out


def test_openssl_verify_accepts_ecdsa_cas_and_ip_names(tmp_path: Path, ec_pki: Pki) -> None:
    creds = ec_pki.issue_server([HOST, "192.0.2.7"], key_type="ecdsa")
    assert openssl_verify(tmp_path, ec_pki.root, creds, HOST).startswith("rc=0\n")
    ca = tmp_path / "ca.pem"
    leaf = tmp_path / "leaf.pem"
    out = subprocess.run(
        ["openssl", "verify", "-attime", ATTIME, "-CAfile", str(ca), "-untrusted",
         str(tmp_path / "untrusted.pem"), "-verify_ip", "192.0.2.7", str(leaf)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out


@pytest.mark.parametrize("key_type", ["rsa", "ecdsa"])
def test_openssl_verify_refuses_each_bad_chain(tmp_path: Path, pki: Pki, key_type: str) -> None:
    for case in pki.negative_matrix(HOST, key_type=key_type):  # type: ignore[arg-type]
        root = pki.unknown_ca().root if case.name == "unknown-ca" else pki.root
        if case.name == "unknown-ca":
            # Judge against *our* root: the chain itself is fine under its own root.
            assert openssl_verify(tmp_path, root, case.credentials, HOST).startswith("rc=0\n")
            root = pki.root
        out = openssl_verify(tmp_path, root, case.credentials, case.host)
        assert not out.startswith("rc=0\n"), (case.name, out)
        assert OPENSSL_ERRORS[case.name] in out, (case.name, out)


def test_openssl_reads_every_certificate_and_key(tmp_path: Path, pki: Pki, ec_pki: Pki) -> None:
    for creds in (pki.root, pki.intermediate, pki.issue_server([HOST]),
                  ec_pki.issue_server([HOST], key_type="ecdsa")):  # fmt: skip
        write_credentials(creds, tmp_path / "c.pem", tmp_path / "k.pem")
        text = subprocess.run(
            ["openssl", "x509", "-noout", "-text", "-in", str(tmp_path / "c.pem")],
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout  # fmt: skip
        assert "X509v3 Subject Key Identifier" in text
        assert "X509v3 Basic Constraints: critical" in text
        # The key belongs to the certificate.
        pub_cert = subprocess.run(
            ["openssl", "x509", "-noout", "-pubkey", "-in", str(tmp_path / "c.pem")],
            capture_output=True, timeout=60, check=True,
        ).stdout  # fmt: skip
        pub_key = subprocess.run(
            ["openssl", "pkey", "-pubout", "-in", str(tmp_path / "k.pem")],
            capture_output=True, timeout=60, check=True,
        ).stdout  # fmt: skip
        assert pub_cert == pub_key


# --- Python's ssl (OpenSSL's TLS stack) handshakes with our certificates ------------------


def _pump(client: ssl.SSLObject, server: ssl.SSLObject, cin: ssl.MemoryBIO,
          cout: ssl.MemoryBIO, sin: ssl.MemoryBIO, sout: ssl.MemoryBIO) -> None:  # fmt: skip
    """Run both handshakes to completion by moving bytes between the BIOs."""
    done = {"c": False, "s": False}
    for _ in range(50):
        for name, obj in (("c", client), ("s", server)):
            if done[name]:
                continue
            try:
                obj.do_handshake()
                done[name] = True
            except ssl.SSLWantReadError:
                pass
        sin.write(cout.read())
        cin.write(sout.read())
        if all(done.values()):
            return
    raise AssertionError("handshake did not finish")


def handshake(tmp: Path, root: Credentials, creds: Credentials, host: str) -> str:
    write_credentials(creds, tmp / "chain.pem", tmp / "key.pem")
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(tmp / "chain.pem", tmp / "key.pem")
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.maximum_version = ssl.TLSVersion.TLSv1_2
    cctx.load_verify_locations(cadata=root.cert_pem().decode())
    assert cctx.check_hostname and cctx.verify_mode == ssl.CERT_REQUIRED
    cin, cout, sin, sout = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = cctx.wrap_bio(cin, cout, server_hostname=host)
    server = sctx.wrap_bio(sin, sout, server_side=True)
    _pump(client, server, cin, cout, sin, sout)
    client.write(b"ping")
    sin.write(cout.read())
    assert server.read() == b"ping"
    return f"{client.version()} {client.cipher()}"


@pytest.fixture(scope="module")
def live_pki() -> Pki:
    # Python's ssl checks validity against the real clock, so this PKI is minted "now"
    # (its keys are the same as the simulated PKI's: they depend on the seed only).
    return Pki.create(SeededRandom(2026), datetime.now(UTC))


@pytest.mark.parametrize("key_type", ["rsa", "ecdsa"])
def test_python_ssl_accepts_our_chain(tmp_path: Path, live_pki: Pki, key_type: str) -> None:
    creds = live_pki.issue_server([HOST, "127.0.0.1"], key_type=key_type)  # type: ignore[arg-type]
    info = handshake(tmp_path, live_pki.root, creds, HOST)
    assert info.startswith("TLSv1.2")
    assert ("ECDSA" in info) == (key_type == "ecdsa")
    handshake(tmp_path, live_pki.root, creds, "127.0.0.1")


def test_python_ssl_refuses_wrong_host_and_unknown_ca(tmp_path: Path, live_pki: Pki) -> None:
    creds = live_pki.issue_server([HOST])
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        handshake(tmp_path, live_pki.root, creds, "other.example.com")
    with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"):
        handshake(tmp_path, live_pki.unknown_ca().root, creds, HOST)
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate has expired"):
        handshake(tmp_path, live_pki.root, live_pki.issue_expired([HOST]), HOST)
