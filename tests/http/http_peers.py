"""Real peers on loopback for the HTTP tests: our ``minternet serve`` and Debian's nginx.

Both run as child processes on a free high port and are stopped by their own pid.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from clitools import free_port, stop_process

# one runner for every test folder
from clitools import minternet_serve as minternet_serve

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env["NO_COLOR"] = "1"
    return env


NGINX_CONF = """
worker_processes 1;
daemon off;
master_process off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    types {{ text/html html; text/css css; image/svg+xml svg; }}
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port};
        {tls}
        root {root};
        index index.html;
    }}
}}
"""


@contextmanager
def nginx(root: Path, tmp: Path, cert: Path | None = None, key: Path | None = None
          ) -> Iterator[int]:  # fmt: skip
    """Debian's nginx serving ``root`` on a free loopback port (HTTPS if cert/key given)."""
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    tls = ""
    if cert is not None and key is not None:
        tls = (
            f"listen 127.0.0.1:{port + 0} ssl; ssl_certificate {cert}; ssl_certificate_key {key};"
            " ssl_protocols TLSv1.2;"
        )
    conf = NGINX_CONF.format(tmp=tmp, port=port, root=root, tls=tls)
    if tls:
        conf = conf.replace(f"listen 127.0.0.1:{port};\n", "")
    path = tmp / "nginx.conf"
    path.write_text(conf)
    proc = subprocess.Popen([exe, "-c", str(path), "-p", str(tmp)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = (tmp / "error.log").read_text() if (tmp / "error.log").exists() else ""
                    raise AssertionError(f"nginx did not start: {err}") from None
                time.sleep(0.05)
        yield port
    finally:
        stop_process(proc, signal.SIGQUIT)
