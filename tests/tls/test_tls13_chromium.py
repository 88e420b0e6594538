"""Headless Chromium renders our page over TLS 1.3: ``minternet serve --https`` with its
own CA, which Chromium trusts through a fresh NSS database (certutil), nothing else
relaxed. The server's side says which version was negotiated: its key log has the TLS 1.3
labels (and no TLS 1.2 CLIENT_RANDOM line)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_tls_cli import _wait_port
from tls_support import _env

from clitools import free_port

pytestmark = pytest.mark.tools("chromium", "chromedriver", "certutil")

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@pytest.mark.slow
def test_chromium_renders_our_page_over_tls13(tmp_path: Path) -> None:
    # selenium is in the test extras `make install` installs: missing, it is a failure
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    port = free_port()
    ca, keylog = tmp_path / "ca.pem", tmp_path / "server-keys.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "minternet", "serve", "--https", str(port), "--ca-out", str(ca),
         "--keylog", str(keylog)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
    )  # fmt: skip
    home = tmp_path / "home"
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    try:
        _wait_port(port, server, 120)  # a fresh PKI: slow on a loaded machine
        # Chromium on Linux trusts what the user's NSS database trusts: our CA, and only it.
        subprocess.run(
            ["certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True, timeout=30
        )
        subprocess.run(
            ["certutil", "-d", f"sql:{nssdb}", "-A", "-n", "minternet CA", "-t", "C,,",
             "-i", str(ca)],
            check=True, timeout=30,
        )  # fmt: skip
        opts = webdriver.ChromeOptions()
        opts.binary_location = "/usr/bin/chromium"
        for flag in FLAGS:
            opts.add_argument(flag)
        opts.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
        opts.add_argument("--host-resolver-rules=MAP www.example.com 127.0.0.1")
        env = {**_env(), "HOME": str(home)}
        service = Service("/usr/bin/chromedriver", env=env)
        driver = webdriver.Chrome(options=opts, service=service)
        try:
            driver.set_page_load_timeout(60)
            driver.get(f"https://www.example.com:{port}/index.html")
            body = driver.find_element("tag name", "body").text
            title = driver.title
            source = driver.page_source
        finally:
            driver.quit()
    finally:
        server.kill()
        server.communicate()
    assert "privacy error" not in title.lower() and "ERR_" not in source, source[:500]
    assert body.strip(), source[:500]
    labels = {line.split()[0] for line in keylog.read_text().splitlines() if line.strip()}
    assert "SERVER_HANDSHAKE_TRAFFIC_SECRET" in labels and "CLIENT_TRAFFIC_SECRET_0" in labels
    assert "CLIENT_RANDOM" not in labels  # no connection fell back to TLS 1.2
