"""Real clients against ``minternet serve`` and our browser against Debian's nginx, on loopback."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from http_peers import cli_env, minternet_serve, nginx

from clitools import run_in_process
from tshark_table import protocols, table

# Never ask a real DNS server: every name the tests fetch is pinned to loopback.
PIN = ["--resolve", "localhost:*:127.0.0.1"]
SITE = Path(__file__).resolve().parents[2] / "src" / "minternet" / "apps" / "site"

pytestmark = pytest.mark.tools("curl")


def curl(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["curl", "-sS", *args], capture_output=True, timeout=30, check=False)


def test_curl_and_urllib_get_the_page_over_http_byte_identical() -> None:
    with minternet_serve("--http", "0") as (ports, proc):
        base = f"http://127.0.0.1:{ports['http']}"
        for name in ("index.html", "style.css", "logo.svg"):
            got = curl(f"{base}/{name}")
            assert got.returncode == 0, got.stderr
            assert got.stdout == (SITE / name).read_bytes()
        with urllib.request.urlopen(f"{base}/index.html", timeout=10) as r:
            assert r.read() == (SITE / "index.html").read_bytes()
            assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        # curl reuses one connection for several URLs (keep-alive)
        got = curl("-v", f"{base}/", f"{base}/style.css", f"{base}/missing")
        assert b"Re-using existing connection" in got.stderr
        assert got.stdout.startswith((SITE / "index.html").read_bytes())
        assert b"404 Not Found" in got.stdout
        # traversal and methods, as curl sends them
        assert curl("--path-as-is", "-o", "/dev/null", "-w", "%{http_code}",
                    f"{base}/../../etc/passwd").stdout == b"400"  # fmt: skip
        assert curl("--path-as-is", "-o", "/dev/null", "-w", "%{http_code}",
                    f"{base}/%2e%2e/%2e%2e/etc/passwd").stdout == b"400"  # fmt: skip
        assert curl("-X", "POST", "-d", "x=1", "-o", "/dev/null", "-w", "%{http_code}",
                    f"{base}/").stdout == b"405"  # fmt: skip
        # conditional GET with curl's own validator handling
        etag = curl("-sI", f"{base}/").stdout.split(b"ETag: ")[1].split(b"\r\n")[0]
        assert curl("-H", f"If-None-Match: {etag.decode()}", "-o", "/dev/null", "-w",
                    "%{http_code}", f"{base}/").stdout == b"304"  # fmt: skip
        assert (
            curl("-r", "0-9", f"{base}/index.html").stdout
            == (SITE / "index.html").read_bytes()[:10]
        )
    assert proc.returncode is not None


def test_our_browser_fetches_from_nginx_byte_identical(tmp_path: Path) -> None:
    root = tmp_path / "www"
    root.mkdir()
    page = (SITE / "index.html").read_bytes()
    (root / "index.html").write_bytes(page)
    (root / "big.html").write_bytes(b"<p>" + bytes(range(32, 127)) * 2000 + b"</p>")
    with nginx(root, tmp_path) as port:
        out = tmp_path / "got.html"
        for name in ("index.html", "big.html"):
            run_in_process("fetch", "--real", *PIN, f"http://localhost:{port}/{name}", "-o",
                           str(out))  # fmt: skip
            assert out.read_bytes() == (root / name).read_bytes()
        # a directory without its slash: nginx answers 301, the browser follows it
        (root / "docs").mkdir()
        (root / "docs" / "index.html").write_bytes(b"<h1>Docs</h1>")
        proc = run_in_process("fetch", "--real", *PIN, f"http://localhost:{port}/docs")
        assert "DOCS" in proc.stdout
        log = (tmp_path / "access.log").read_text()
        assert "minternet-browser/0.1" in log


def test_fetch_without_real_is_the_simulated_story(run_cli: object) -> None:
    proc = run_cli("fetch", "-q", check=False)  # type: ignore[operator]
    assert proc.returncode == 0 and "IT WORKS" in proc.stdout
    proc = run_cli("fetch", "--real", "--scenario", "nxdomain", check=False)  # type: ignore[operator]
    assert proc.returncode == 2 and "simulated run" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_fetch_errors_are_one_line(run_cli: object) -> None:
    proc = run_cli("fetch", "--real", *PIN, "http://127.0.0.1:1/", check=False)  # type: ignore[operator]
    assert proc.returncode == 1 and "Traceback" not in proc.stderr  # refused: the outcome
    assert proc.stderr == "minternet: http://127.0.0.1:1/: connection refused\n"
    proc = run_cli("fetch", "--real", *PIN, "gopher://x/", check=False)  # type: ignore[operator]
    assert proc.returncode == 2 and "only http and https" in proc.stderr


def _pki_cert(tmp: Path) -> tuple[Path, Path, Path]:
    """A certificate for localhost from our PKI: (ca.pem, cert.pem, key.pem)."""
    from datetime import UTC, datetime

    from minternet.drivers.entropy import SystemRandom
    from minternet.drivers.pem import write_credentials
    from minternet.tls.pki import Pki

    pki = Pki.create(SystemRandom(), datetime.now(UTC))
    creds = pki.issue_server(["localhost", "www.example.com", "127.0.0.1"])
    ca, cert, key = tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem"
    ca.write_bytes(pki.root.cert_pem())
    write_credentials(creds, cert, key)
    return ca, cert, key


def test_curl_and_urllib_get_the_page_over_https_byte_identical(tmp_path: Path) -> None:
    import ssl

    ca = tmp_path / "ca.pem"
    with minternet_serve("--https", "0", "--ca-out", str(ca)) as (ports, _):
        base = f"https://localhost:{ports['https']}"
        got = curl("-v", "--cacert", str(ca), f"{base}/index.html")
        assert got.returncode == 0, got.stderr
        assert got.stdout == (SITE / "index.html").read_bytes()
        assert b"ALPN: server accepted http/1.1" in got.stderr
        assert b"SSL connection using TLSv1.3" in got.stderr  # serve --https prefers 1.3
        ctx = ssl.create_default_context(cafile=str(ca))
        for name in ("index.html", "style.css", "logo.svg"):
            with urllib.request.urlopen(f"{base}/{name}", context=ctx, timeout=10) as r:
                assert r.read() == (SITE / name).read_bytes()
        # keep-alive inside one TLS connection
        got = curl("-v", "--cacert", str(ca), f"{base}/", f"{base}/style.css")
        assert b"Re-using existing connection" in got.stderr
        # a client that does not trust our CA is refused by the client, and the server goes on
        assert curl(f"{base}/").returncode != 0
        assert (
            curl("--cacert", str(ca), f"{base}/style.css").stdout
            == (SITE / "style.css").read_bytes()
        )
        # our own browser, trusting the CA
        run_in_process("fetch", "--real", *PIN, "--cafile", str(ca), f"{base}/index.html",
                       "-o", str(tmp_path / "got.html"))  # fmt: skip
        assert (tmp_path / "got.html").read_bytes() == (SITE / "index.html").read_bytes()


def test_our_browser_fetches_from_nginx_over_https_byte_identical(tmp_path: Path) -> None:
    ca, cert, key = _pki_cert(tmp_path)
    root = tmp_path / "www"
    root.mkdir()
    (root / "index.html").write_bytes((SITE / "index.html").read_bytes())
    (root / "big.html").write_bytes(b"<p>" + bytes(range(32, 127)) * 3000 + b"</p>")
    with nginx(root, tmp_path, cert, key) as port:
        for name in ("index.html", "big.html"):
            out = tmp_path / f"got-{name}"
            run_in_process("fetch", "--real", *PIN, "--cafile", str(ca),
                           f"https://localhost:{port}/{name}", "-o", str(out))  # fmt: skip
            assert out.read_bytes() == (root / name).read_bytes()
        # without the CA: a one-line certificate error, not a traceback (a real process:
        # what it prints on stderr includes any warning a library would leak)
        proc = subprocess.run(
            [sys.executable, "-m", "minternet", "fetch", "--real", *PIN, "--cafile",
             "/etc/ssl/certs/ca-certificates.crt", f"https://localhost:{port}/"],
            capture_output=True, text=True, env=cli_env(), timeout=60, check=False,
        )  # fmt: skip
        assert proc.returncode == 1 and "Traceback" not in proc.stderr  # a TLS alert: outcome
        assert "unknown_ca" in proc.stderr or "not trusted" in proc.stderr
        assert proc.stderr.count("\n") == 1  # no CryptographyDeprecationWarning either


@pytest.mark.tools("dumpcap", "tshark")  # fmt: skip
def test_wireshark_decrypts_and_parses_our_https_exchange(tmp_path: Path) -> None:
    """tshark, given our key log, decrypts the capture and finds our request and response,
    each in one TLS record, with nothing malformed."""
    ca, keylog, cap = tmp_path / "ca.pem", tmp_path / "keys.txt", tmp_path / "cap.pcapng"
    with minternet_serve("--https", "0", "--ca-out", str(ca)) as (ports, _):
        port = ports["https"]
        dumpcap = subprocess.Popen(
            ["dumpcap", "-q", "-i", "lo", "-f", f"tcp port {port}", "-w", str(cap)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert dumpcap.stderr is not None
            time.sleep(1.0)  # dumpcap has no readiness signal on stdout in quiet mode
            run_in_process("fetch", "--real", *PIN, "--cafile", str(ca), "--keylog", str(keylog),
                           f"https://localhost:{port}/index.html", "--raw")  # fmt: skip
            time.sleep(0.5)
        finally:
            dumpcap.terminate()
            dumpcap.wait(10)
            if dumpcap.stderr is not None:
                dumpcap.stderr.close()
    # one pass with the key log: the HTTP messages, and nothing malformed in any frame
    frames = table(cap, "frame.protocols", "http.request.method", "http.request.uri",
                   "http.response.code", "http.content_length", "_ws.malformed",
                   options=["-o", f"tls.keylog_file:{keylog}"])  # fmt: skip
    rows = [
        [r["http.request.method"], r["http.request.uri"], r["http.response.code"],
         r["http.content_length"]]
        for r in frames if "http" in protocols(r)
    ]  # fmt: skip
    assert rows[0][:2] == ["GET", "/index.html"]
    assert rows[1][2:] == ["200", str(len((SITE / "index.html").read_bytes()))]
    assert [r for r in frames if r["_ws.malformed"]] == []


def test_serve_refuses_a_non_loopback_address(run_cli: object) -> None:
    proc = run_cli("serve", "--http", "0", "--host", "192.0.2.1", check=False)  # type: ignore[operator]
    assert proc.returncode == 2 and "not a loopback address" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_parse_resolve() -> None:
    from minternet.cli.fetch import parse_resolve
    from minternet.errors import ConfigError

    assert parse_resolve(("www.example.com:443:127.0.0.1", "LOCALHOST:*:127.0.0.2")) == {
        ("www.example.com", 443): "127.0.0.1",
        ("localhost", None): "127.0.0.2",
    }
    for bad in ("a:b:127.0.0.1", "a:1:not-an-ip", "a"):
        with pytest.raises(ConfigError):
            parse_resolve((bad,))
