"""Throughput over the TAP device: our whole stack against the kernel's, in the same run.

Download: curl, in the namespace, fetches SIZE bytes over HTTPS from our web server on our
host (TLS, HTTP, TCP, IPv4, Ethernet all ours, across the TAP) and, as the peer, the same
file from Debian's nginx running in the same namespace (the kernel's TCP, OpenSSL).

Upload: a kernel TCP client in the namespace sends SIZE bytes to our host's Discard service
(RFC 863, port 9) over the TAP and, as the peer, to a Discard server on the kernel's TCP in
the same namespace.

Prints medians and the ratios ours/peer. Needs root (and nginx + curl for the download).
Run: ``sudo python -m bench.tap_throughput [MiB]`` (default 64 MiB, median of 3).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from minternet.drivers.pem import write_credentials
from minternet.drivers.realtime import RealtimeLoop
from minternet.drivers.tap import TapNetwork
from minternet.drivers.taphost import TapHost, host_on_tap
from minternet.drivers.tapservices import start_services
from minternet.trace.bus import TraceBus

RUNS = 3

CLIENT = """
import socket, sys, time
size = int(sys.argv[2])
block = bytes(1 << 20)
c = socket.create_connection((sys.argv[1], 9), timeout=60)
t0 = time.perf_counter()
for _ in range(size >> 20):
    c.sendall(block)
c.shutdown(socket.SHUT_WR)
assert c.recv(1) == b""
print(size / (time.perf_counter() - t0) / 1e6)
"""

KERNEL_DISCARD = """
import socket, threading
srv = socket.create_server((__import__("sys").argv[1], 9))
print("ready", flush=True)
def drain(c):
    while c.recv(1 << 20):
        pass
    c.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=drain, args=(c,), daemon=True).start()
"""


def run_client(loop: RealtimeLoop, net: TapNetwork, target: str, size: int) -> float:
    """Run the kernel-side client while our host's loop keeps running; its MB/s."""
    proc = net.ns.popen(
        [sys.executable, "-c", CLIENT, target, str(size)], stdout=subprocess.PIPE, text=True
    )
    done = loop.create_future()

    def poll() -> None:
        if proc.poll() is None:
            loop.call_later(0.01, poll)
        else:
            done.set_result(None)

    poll()
    loop.run_until_complete(done, timeout=600)
    out, _ = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"client failed for {target}")
    return float(out)


def run_in_ns(loop: RealtimeLoop, net: TapNetwork, cmd: list[str]) -> str:
    """Run ``cmd`` in the namespace while our host's loop keeps running; its stdout."""
    proc = net.ns.popen(cmd, stdout=subprocess.PIPE, text=True)
    done = loop.create_future()

    def poll() -> None:
        if proc.poll() is None:
            loop.call_later(0.01, poll)
        else:
            done.set_result(None)

    poll()
    loop.run_until_complete(done, timeout=600)
    out, _ = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed in the namespace (exit {proc.returncode})")
    return out


def curl_speed(loop: RealtimeLoop, net: TapNetwork, ca: Path, pin: str | None) -> float:
    cmd = ["curl", "-sS", "--fail", "--cacert", str(ca), "-o", "/dev/null"]
    cmd += ["-w", "%{speed_download}", "https://www.example.com/big.bin"]
    if pin is not None:  # the peer: nginx on the kernel side
        cmd[1:1] = ["--resolve", f"www.example.com:443:{pin}"]
    return float(run_in_ns(loop, net, cmd)) / 1e6


def download(loop: RealtimeLoop, th: TapHost, tmp: Path, size: int) -> tuple[float, float]:
    from minternet.apps.site import DirectorySite
    from minternet.drivers.entropy import SystemRandom
    from minternet.tls.pki import Pki

    site = tmp / "site"
    site.mkdir()
    (site / "big.bin").write_bytes(os.urandom(size))
    (site / "index.html").write_text("<p>bench</p>\n")
    start_services(th, dns=True, https=True, site=DirectorySite(site), ca_out=tmp / "ours.pem")
    pki = Pki.create(SystemRandom(), datetime.now(UTC), name="bench-nginx")
    write_credentials(pki.issue_server(["www.example.com"]), tmp / "cert.pem", tmp / "key.pem")
    (tmp / "nginx-ca.pem").write_bytes(pki.root.cert_pem())
    (tmp / "nginx.conf").write_text(NGINX_CONF.format(d=tmp, addr=th.kernel_address))
    nginx = th.net.ns.popen(["nginx", "-c", str(tmp / "nginx.conf")])
    try:
        time.sleep(0.5)
        ours = [curl_speed(loop, th.net, tmp / "ours.pem", None) for _ in range(RUNS)]
        peer = [
            curl_speed(loop, th.net, tmp / "nginx-ca.pem", th.kernel_address) for _ in range(RUNS)
        ]
    finally:
        nginx.terminate()
        nginx.wait()
    return statistics.median(ours), statistics.median(peer)


NGINX_CONF = """
worker_processes 1;
daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d};
    uwsgi_temp_path {d}; scgi_temp_path {d};
    server {{
        listen {addr}:443 ssl;
        ssl_certificate {d}/cert.pem;
        ssl_certificate_key {d}/key.pem;
        ssl_protocols TLSv1.2;
        root {d}/site;
    }}
}}
"""


def main() -> None:
    if os.geteuid() != 0:
        print("tap_throughput: needs root (network namespace and TAP device); skipped")
        return
    size = (int(sys.argv[1]) if len(sys.argv) > 1 else 64) << 20
    loop = RealtimeLoop()
    with tempfile.TemporaryDirectory(prefix="minternet-bench-") as tmpdir:
        tmp = Path(tmpdir)
        tmp.chmod(0o755)  # nginx's worker reads the site as nobody
        with host_on_tap(loop, TraceBus()) as th:
            have_web = shutil.which("nginx") is not None and shutil.which("curl") is not None
            down = download(loop, th, tmp, size) if have_web else None
            if not have_web:
                start_services(th, dns=False, https=False)
            kernel_side = _kernel_discard(th)
            ours = [run_client(loop, th.net, th.address, size) for _ in range(RUNS)]
            peer = [run_client(loop, th.net, th.kernel_address, size) for _ in range(RUNS)]
            kernel_side.kill()
            kernel_side.wait()
    loop.close()
    mib = size >> 20
    if down is not None:
        o, p = down
        print(f"TAP download, {mib} MiB over HTTPS, curl in the namespace (median of {RUNS})")
        print(f"  ours (our TLS/HTTP/TCP/IPv4/Ethernet)  {o:8.1f} MB/s")
        print(f"  nginx (same namespace, kernel TCP)     {p:8.1f} MB/s   ratio {o / p:.3f}")
    o, p = statistics.median(ours), statistics.median(peer)
    print(f"TAP upload, {mib} MiB, kernel TCP client -> Discard (median of {RUNS})")
    print(f"  ours (our TCP/IPv4/Ethernet)           {o:8.1f} MB/s")
    print(f"  kernel (same namespace, its TCP)       {p:8.1f} MB/s   ratio {o / p:.3f}")


def _kernel_discard(th: TapHost) -> subprocess.Popen[str]:
    proc = th.net.ns.popen(
        [sys.executable, "-c", KERNEL_DISCARD, th.kernel_address],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


if __name__ == "__main__":
    main()
