"""``minternet pki create`` and ``minternet pki verify`` as a user runs them."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

NOW = "2026-06-01T00:00:00+00:00"


def openssl_verify(d: Path, leaf: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["openssl", "verify", "-attime", "1780272000", "-CAfile", str(d / "ca.pem"),
         "-untrusted", str(d / "intermediate.pem"), *extra, str(leaf)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_create_writes_files_openssl_accepts(
    tmp_path: Path, run_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    d = tmp_path / "pki"
    out = run_cli("pki", "create", str(d), "--seed", "2026", "--now", NOW, "--negatives")
    assert "wrote" in out.stdout and "CN=minternet Root CA" in out.stdout
    for name in ("ca.pem", "intermediate.pem", "server.pem", "server.key"):
        assert (d / name).stat().st_size > 0
    assert (d / "server.key").stat().st_mode & 0o077 == 0
    assert (d / "server.pem").read_bytes().count(b"BEGIN CERTIFICATE") == 2
    ok = openssl_verify(d, d / "server.pem", "-verify_hostname", "www.example.com")
    assert ok.returncode == 0, ok
    ok = openssl_verify(d, d / "server.pem", "-verify_ip", "127.0.0.1")
    assert ok.returncode == 0, ok
    bad = openssl_verify(d, d / "bad" / "expired" / "server.pem")
    assert bad.returncode != 0 and "certificate has expired" in bad.stderr

    # Same seed and date, same bytes; the JSON form says what was written.
    d2 = tmp_path / "again"
    js = run_cli("pki", "create", str(d2), "--seed", "2026", "--now", NOW, "--json")
    info = json.loads(js.stdout)
    assert info["server"]["subject"].startswith("CN=www.example.com,")
    for name in ("ca.pem", "intermediate.pem", "server.pem", "server.key"):
        assert (d / name).read_bytes() == (d2 / name).read_bytes(), name
        assert name in info["files"]


def test_verify_command(
    tmp_path: Path, run_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    d = tmp_path / "pki"
    run_cli(
        "pki",
        "create",
        str(d),
        "--now",
        NOW,
        "--negatives",
        "--key-type",
        "ecdsa",
        "--ca-key-type",
        "ecdsa",
    )
    good = run_cli(
        "pki", "verify", str(d / "server.pem"), "--cafile", str(d / "ca.pem"),
        "--host", "www.example.com", "--at", "2026-06-02",
    )  # fmt: skip
    assert "verified" in good.stdout and "[  ok] hostname" in good.stdout
    bad = run_cli(
        "pki", "verify", str(d / "bad" / "wrong-host" / "server.pem"), "--cafile",
        str(d / "ca.pem"), "--host", "www.example.com", "--at", "2026-06-02", "--json",
        check=False,
    )  # fmt: skip
    assert bad.returncode == 1
    info = json.loads(bad.stdout)
    assert info["verified"] is False and info["alert"] == 42
    assert info["reason"].startswith("wrong host name:")
    # A user's mistake is one line, not a traceback.
    junk = tmp_path / "junk.pem"
    junk.write_text("not pem")
    err = run_cli("pki", "verify", str(junk), "--cafile", str(d / "ca.pem"), check=False)
    assert err.returncode == 2 and "Traceback" not in err.stderr
    assert len(err.stderr.strip().splitlines()) == 1
    err = run_cli("pki", "create", str(tmp_path / "x"), "--now", "yesterday", check=False)
    assert err.returncode == 2 and "ISO date" in err.stderr
