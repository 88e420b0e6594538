"""Our TLS client against nginx over loopback: RSA and ECDSA certificates served together,
TLS 1.2 only, a real HTTP response through our records, and nginx's access log agreeing."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tls_support import HOST, Certs, minternet

from clitools import free_port

pytestmark = pytest.mark.tools("nginx")

CONF = """
daemon off;
master_process off;
worker_processes 1;
error_log {d}/error.log warn;
pid {d}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log {d}/access.log combined;
    client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
    log_format tls '$ssl_protocol $ssl_cipher $ssl_server_name $request';
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name {host};
        ssl_protocols TLSv1.2;
        ssl_ciphers ALL;
        ssl_certificate {rsa_cert}; ssl_certificate_key {rsa_key};
        ssl_certificate {ec_cert}; ssl_certificate_key {ec_key};
        access_log {d}/tls.log tls;
        location / {{ return 200 "hello from nginx\\n"; }}
    }}
}}
"""


@pytest.fixture
def nginx(pki: Certs, tmp_path: Path) -> Iterator[tuple[int, Path]]:
    port = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        CONF.format(
            d=tmp_path, port=port, host=HOST,
            rsa_cert=pki.rsa.cert_path, rsa_key=pki.rsa.key_path,
            ec_cert=pki.ecdsa.cert_path, ec_key=pki.ecdsa.key_path,
        )
    )  # fmt: skip
    proc = subprocess.Popen(
        ["nginx", "-p", str(tmp_path), "-c", str(conf)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield port, tmp_path
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize(
    "cipher", ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-CHACHA20-POLY1305", "AES256-GCM-SHA384"]
)
def test_our_client_gets_a_page_from_nginx(
    nginx: tuple[int, Path], pki: Certs, cipher: str
) -> None:
    port, d = nginx
    res = minternet(
        "tls", "client", "127.0.0.1", str(port), "--sni", HOST, "--cafile", str(pki.root_path),
        "--cipher", cipher, "--json", "--stdin",
        input=f"GET /index.html HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n",
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    rep = json.loads(res.stdout)
    assert rep["verified"] is True
    assert rep["received"].startswith("HTTP/1.1 200 OK")
    assert rep["received"].endswith("hello from nginx\n")
    time.sleep(0.1)
    log = (d / "tls.log").read_text()
    assert f"TLSv1.2 {cipher} {HOST} GET /index.html HTTP/1.1" in log
