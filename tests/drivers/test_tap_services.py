"""Issue 8 from the kernel's side: ``minternet tap up`` runs our host with our DNS and web
server; the Linux kernel, in the namespace, pings it, resolves names with ``dig`` and
fetches pages with ``curl`` — every byte above the kernel's socket API is ours. Needs root.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from minternet.drivers.netns import list_namespaces, nft_available
from minternet.drivers.pem import write_credentials
from required_tools import NETNS

pytestmark = [
    pytest.mark.root,
    pytest.mark.tools(*NETNS),
]
SRC = Path(__file__).resolve().parents[2] / "src"
SITE_INDEX = SRC / "minternet" / "apps" / "site" / "index.html"
HOST = "10.77.0.2"
_count = 0


@contextmanager
def tap_up(*extra: str, output: list[str] | None = None) -> Iterator[tuple[str, Path]]:
    """Run ``minternet tap up`` until the block ends; yields (namespace, CA file). Its
    standard output, once it has stopped, is appended to ``output``."""
    global _count
    _count += 1
    ns = f"minternet-svc-{os.getpid()}-{_count}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "minternet", "tap", "up", "--netns", ns, "--duration", "300",
         *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(SRC)),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = []
        while not lines or not lines[-1].startswith("  stop:"):
            line = proc.stdout.readline()
            assert line, "tap up ended early: " + (proc.stderr.read() if proc.stderr else "")
            lines.append(line)
        ca = Path(next(w for w in " ".join(lines).split() if w.endswith("-ca.pem")))
        yield ns, ca
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        if output is not None:
            output.append(out)
        assert proc.returncode == 0, err
        assert f"removed namespace {ns}" in out
        assert ns not in list_namespaces()


def in_ns(ns: str, *cmd: str, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["ip", "netns", "exec", ns, *cmd], capture_output=True, timeout=timeout, check=False
    )


@pytest.mark.tools("dig", "tshark")
def test_kernel_pings_resolves_and_fetches_from_our_host(tmp_path: Path) -> None:
    pcap = tmp_path / "tap.pcapng"
    with tap_up("--pcap", str(pcap), "--keylog", str(tmp_path / "keys.log")) as (ns, ca):
        ping = in_ns(ns, "ping", "-n", "-c", "2", "-i", "0.2", "-W", "2", HOST)
        udp = in_ns(ns, "dig", "+short", "+tries=1", f"@{HOST}", "www.example.com")
        tcp = in_ns(ns, "dig", "+short", "+tcp", "+tries=1", f"@{HOST}", "www.example.com")
        nx = in_ns(ns, "dig", "+tries=1", f"@{HOST}", "nope.example.com")
        big = in_ns(ns, "dig", "+tries=1", f"@{HOST}", "big.example.com", "TXT")
        getent = in_ns(ns, "getent", "ahostsv4", "www.example.com")
        upload = in_ns(ns, sys.executable, "-c", UPLOAD.format(host=HOST, size=4 << 20))
        # the namespace resolves through our DNS server: no --resolve, no hosts entry
        # curl offers TLS 1.3 and 1.2 and gets 1.3, as from `serve --https`; 1.2 when capped
        page = in_ns(ns, "curl", "-sSv", "--max-time", "20", "--cacert", str(ca),
                     "https://www.example.com/")  # fmt: skip
        head = in_ns(ns, "curl", "-sSvI", "--tls-max", "1.2", "--max-time", "20",
                     "--cacert", str(ca), "https://www.example.com/index.html")  # fmt: skip
    assert ping.returncode == 0 and b"2 received" in ping.stdout
    assert udp.stdout.split() == [HOST.encode()]
    assert tcp.stdout.split() == [HOST.encode()]
    assert b"status: NXDOMAIN" in nx.stdout and b"flags: qr aa" in nx.stdout
    # too big for UDP: dig got TC and retried over TCP (our TCP, the kernel's dig)
    assert big.returncode == 0 and big.stdout.count(b"TXT") >= 2, big.stdout
    assert getent.stdout.split()[0] == HOST.encode()
    assert upload.stdout.strip() == b"ok", upload.stderr
    assert page.returncode == 0, page.stderr
    assert page.stdout == SITE_INDEX.read_bytes()
    assert b"SSL connection using TLSv1.3" in page.stderr, page.stderr
    assert head.stdout.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"SSL connection using TLSv1.2" in head.stderr, head.stderr
    # our capture carries our key log: tshark decrypts our TLS 1.3 and 1.2 and reads our HTTP
    keys = (tmp_path / "keys.log").read_text()
    assert keys.count("CLIENT_RANDOM") == 1 and keys.count("CLIENT_TRAFFIC_SECRET_0") == 1
    http = subprocess.run(
        ["tshark", "-r", str(pcap), "-Y", "http.response.code == 200", "-T", "fields",
         "-e", "http.response.code", "-e", "_ws.malformed"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.split()  # fmt: skip
    assert http == ["200", "200"]


# the kernel's TCP sends to our Discard service (RFC 863), then waits for our FIN
UPLOAD = """
import socket
c = socket.create_connection(("{host}", 9), timeout=30)
c.sendall(bytes(range(256)) * ({size} // 256))
c.shutdown(socket.SHUT_WR)
assert c.recv(100) == b""  # discard sends nothing, then closes cleanly
print("ok")
"""


@pytest.mark.slow
def test_ten_mebibytes_under_five_percent_loss_arrive_byte_identical(tmp_path: Path) -> None:
    """Issue 8 asks for ``tc netem`` loss; this kernel may lack ``sch_netem``. Preferred:
    the kernel drops (nftables on a bridge in the namespace, both directions — the kernel's
    TCP sees real network loss); fallback when nft is unusable: our TapPort drops."""
    site = tmp_path / "site"
    site.mkdir()
    blob = os.urandom(10 * 1024 * 1024)
    (site / "big.bin").write_bytes(blob)
    (site / "index.html").write_text("<p>big</p>\n")
    by_kernel = nft_available()
    loss = ("--kernel-loss" if by_kernel else "--loss", "0.05")
    output: list[str] = []
    with tap_up("--site", str(site), *loss, output=output) as (ns, ca):
        started = time.monotonic()
        got = in_ns(ns, "curl", "-sS", "--max-time", "240", "--cacert", str(ca),
                    "https://www.example.com/big.bin", timeout=260)  # fmt: skip
        elapsed = time.monotonic() - started
    assert got.returncode == 0, got.stderr
    assert hashlib.sha256(got.stdout).digest() == hashlib.sha256(blob).digest()
    print(f"10 MiB, 5 % loss by {'the kernel (nft)' if by_kernel else 'our TapPort'}: "
          f"{len(blob) / elapsed / 1e6:.2f} MB/s")  # fmt: skip
    if by_kernel:  # the loss really happened, in both directions, frame by frame
        drops = dict(re.findall(r"kernel-side loss (\S+): dropped (\d+ of \d+)", output[0]))
        assert set(drops) == {"to-kernel", "to-host"}, output
        for way, counts in drops.items():
            dropped, seen = (int(n) for n in counts.split(" of "))
            assert seen > (7000 if way == "to-kernel" else 2000), (way, counts)
            assert 0.03 < dropped / seen < 0.07, (way, counts)


NGINX_CONF = """
worker_processes 1;
daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 64; }}
http {{
    log_format proto '$ssl_protocol $status';
    access_log {d}/access.log proto;
    client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d};
    uwsgi_temp_path {d}; scgi_temp_path {d};
    types {{ text/html html; }}
    server {{
        listen {addr}:443 ssl;
        server_name www.example.com;
        ssl_certificate {d}/cert.pem;
        ssl_certificate_key {d}/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        root {d}/site;
    }}
}}
"""


def _wait_for(cond: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.tools("nginx", "tshark")
def test_our_browser_fetches_from_nginx_and_closes_cleanly(tmp_path: Path) -> None:
    from minternet.drivers.entropy import SystemRandom
    from minternet.tls.pki import Pki

    d = tmp_path
    (d / "site").mkdir()
    page = b"<!doctype html><title>nginx</title><p>" + os.urandom(30000).hex().encode() + b"\n"
    (d / "site" / "index.html").write_bytes(page)
    pki = Pki.create(SystemRandom(), datetime.now(UTC), name="tap-test")
    write_credentials(pki.issue_server(["www.example.com"]), d / "cert.pem", d / "key.pem")
    (d / "ca.pem").write_bytes(pki.root.cert_pem())
    (d / "nginx.conf").write_text(NGINX_CONF.format(d=d, addr="10.77.0.1"))
    ns = f"minternet-client-{os.getpid()}"
    ready = d / "ready"
    proc = subprocess.Popen(
        [sys.executable, "-m", "minternet", "tap", "up", "--netns", ns, "--json",
         "--client", "https://www.example.com/index.html", "--cafile", str(d / "ca.pem"),
         "-o", str(d / "got.html"), "--ready-file", str(ready), "--duration", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONPATH=str(SRC)),
    )  # fmt: skip
    nginx = capture = None
    # dumpcap drops root's file privileges: give it a directory anyone may write
    capdir = Path(tempfile.mkdtemp(prefix="minternet-cap-"))
    capdir.chmod(0o777)
    kpcap = capdir / "k.pcapng"
    try:
        _wait_for(lambda: ns in list_namespaces(), "the namespace")

        def tap_configured() -> bool:
            out = subprocess.run(["ip", "-n", ns, "-o", "addr"], capture_output=True, text=True)
            return "10.77.0.1/24" in out.stdout

        _wait_for(tap_configured, "the kernel side's address")
        links = subprocess.run(["ip", "-n", ns, "-o", "link"], capture_output=True, text=True)
        tap = next(w.rstrip(":") for w in links.stdout.split() if w.startswith("mnettap"))
        nginx = subprocess.Popen(["ip", "netns", "exec", ns, "nginx", "-c", str(d / "nginx.conf")])
        capture = subprocess.Popen(
            ["ip", "netns", "exec", ns, "dumpcap", "-q", "-i", tap, "-w", str(kpcap)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        _wait_for(lambda: b":443" in in_ns(ns, "ss", "-ltn").stdout, "nginx to listen")
        _wait_for(lambda: kpcap.exists() or capture.poll() is not None, "dumpcap")
        assert capture.poll() is None, capture.stderr.read() if capture.stderr else ""
        time.sleep(0.5)
        ready.touch()
        out, err = proc.communicate(timeout=60)
    finally:
        for p in (capture, nginx):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGINT)
                p.wait(10)
        if capture is not None and capture.stderr is not None:
            capture.stderr.close()
        if proc.poll() is None:  # SIGTERM: tap up removes what it made (SIGKILL could not)
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if kpcap.exists():
            shutil.copy(kpcap, d / "k.pcapng")
        shutil.rmtree(capdir, ignore_errors=True)
    assert proc.returncode == 0, err
    summary = json.loads(out)
    assert summary["client"]["status"] == 200
    assert (d / "got.html").read_bytes() == page
    # our hello offered TLS 1.3 and 1.2 (as fetch --real); nginx (OpenSSL) chose 1.3
    assert (d / "access.log").read_text().split() == ["TLSv1.3", "200"]
    states = summary["client"]["tcp_states"]
    assert states[-1] == "TIME-WAIT" and "FIN-WAIT-1" in states  # we closed first
    _assert_clean_tcp(d / "k.pcapng", ours=HOST, kernel="10.77.0.1")


# tshark's TCP analysis notes (tcp.analysis.*), each a sign of trouble on a clean link
_ANALYSIS = (
    "retransmission", "spurious_retransmission", "fast_retransmission", "out_of_order",
    "lost_segment", "ack_lost_segment", "duplicate_ack", "window_full", "window_update",
    "zero_window", "zero_window_probe", "zero_window_probe_ack", "keep_alive",
    "keep_alive_ack", "reused_ports",
)  # fmt: skip


def _assert_clean_tcp(pcap: Path, ours: str, kernel: str) -> None:
    """Nothing wrong on the wire between our TCP and the kernel's, judged by tshark.

    One thing is legitimate and happens when the machine is loaded: the kernel's tail loss
    probe (RFC 8985 §7; Linux fires it 2*SRTT + 2 jiffies after its last segment, ~8 ms
    here, since SRTT over a TAP is ~0.2 ms) or its RTO resends a segment because our
    userspace stack, descheduled, has not read and ACKed it yet. tshark calls that a
    (spurious) retransmission, and our answer to it — an ACK with a D-SACK block for the
    duplicate (RFC 2883), a duplicate ACK when it advances nothing — a duplicate ACK. So
    those two notes are allowed, exactly there: the resend comes from the kernel and we
    D-SACK it; our duplicate ACKs all carry a D-SACK (never a loss signal: nothing is lost
    on a TAP). Everything else never appears: a RST, a malformed packet, a bad IP or TCP
    checksum, a segment after a gap or an ACK of unseen data, out-of-order or fast
    retransmission, window or keep-alive notes, or any retransmission of ours (the
    kernel ACKs in the softirq of our write, long before our PTO of >= 200 ms for the one
    small segment we have in flight).
    """
    fields = ["frame.number", "ip.src", "tcp.seq", "tcp.len", "tcp.flags.reset", "_ws.malformed",
              "ip.checksum.status", "tcp.checksum.status", "tcp.options.sack.dsack_le",
              *(f"tcp.analysis.{a}" for a in _ANALYSIS)]  # fmt: skip
    out = subprocess.run(
        ["tshark", "-r", str(pcap), "-o", "ip.check_checksum:TRUE",
         "-o", "tcp.check_checksum:TRUE", "-Y", "tcp", "-T", "fields", "-E", "occurrence=f",
         *(a for f in fields for a in ("-e", f))],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.splitlines()  # fmt: skip
    frames = [dict(zip(fields, row.split("\t"), strict=True)) for row in out]
    assert len(frames) > 20
    dsacked: set[str] = set()  # relative seqs our ACKs reported as duplicates
    resent: list[str] = []
    for f in frames:
        where = f"frame {f['frame.number']} from {f['ip.src']}"
        assert f["tcp.flags.reset"] in ("0", "False"), f"a RST on the wire: {where}"
        assert f["_ws.malformed"] == "", f"malformed: {where}"
        # checksum status 1 is "Good" (2 bad, 3 unverified)
        assert f["ip.checksum.status"] == f["tcp.checksum.status"] == "1", f"checksum: {where}"
        notes = {a for a in _ANALYSIS if f[f"tcp.analysis.{a}"]}
        if f["ip.src"] == kernel:
            assert notes <= {"retransmission", "spurious_retransmission"}, (where, notes)
            if notes:
                resent.append(f["tcp.seq"])
        else:
            assert f["ip.src"] == ours, where
            assert notes <= {"duplicate_ack"}, (where, notes)
            if notes:
                assert f["tcp.options.sack.dsack_le"], f"a duplicate ACK without D-SACK: {where}"
            if f["tcp.options.sack.dsack_le"]:
                dsacked.add(f["tcp.options.sack.dsack_le"])
    assert set(resent) <= dsacked, ("kernel resends we did not D-SACK", resent, dsacked)
