"""``minternet serve`` against hostile and slow clients, and the protocol edges real peers
expect: each case run against the real server process over loopback, with raw sockets, h11
or curl as the client. Memory is the server process's resident set (``VmRSS``), open
connections its file descriptors (``/proc/PID/fd``).
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import os
import select
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import h11
import pytest
from http_peers import minternet_serve

from required_tools import require_tools

MB = 1 << 20
BIG = 100 * MB
NAMES = ["\u65e5\u672c", "caf\u00e9", "q?x"]


def rss(pid: int) -> int:
    """The process's resident set, bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_until(cond: object, timeout: float, step: float = 0.05) -> float:
    """Poll ``cond()`` until true; the seconds it took (AssertionError after timeout)."""
    t0 = time.monotonic()
    while not cond():  # type: ignore[operator]
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(step)
    return time.monotonic() - t0


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("www")
    (root / "index.html").write_bytes(b"<html><body>hello</body></html>\n")
    (root / "a.txt").write_bytes(b"0123456789")
    with open(root / "sparse.bin", "wb") as f:
        f.truncate(1 << 30)  # 1 GiB, no block of it on disk
    block = os.urandom(MB)
    with open(root / "big.bin", "wb") as f:
        for _ in range(BIG // MB):
            f.write(block)
    for name in NAMES:
        (root / name).mkdir()
        (root / name / "index.html").write_bytes(name.encode())
    return root


@pytest.fixture(scope="module")
def server(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """One shared server for the protocol edges: (HTTP port, access log)."""
    log = tmp_path_factory.mktemp("log") / "access.log"
    with (
        open(log, "w") as out,
        minternet_serve("--http", "0", "--site", str(site), stdout=out) as (ports, _),
    ):
        yield ports["http"], log


def exchange(port: int, raw: bytes, method: str = "GET", timeout: float = 5.0
             ) -> tuple[list[h11.InformationalResponse], h11.Response, bytes]:  # fmt: skip
    """Send ``raw`` bytes; h11 (as the client) reads the answer: interim responses, the
    final response and its body. ``timeout`` bounds every read."""
    client = h11.Connection(h11.CLIENT)
    client.send(h11.Request(method=method, target="/", headers=[("Host", "x")]))
    client.send(h11.EndOfMessage())
    interim: list[h11.InformationalResponse] = []
    body = b""
    final: h11.Response | None = None
    with socket.create_connection(("127.0.0.1", port), timeout) as s:
        with contextlib.suppress(OSError):  # the server may answer and close first
            s.sendall(raw)
        while True:
            ev = client.next_event()
            if ev is h11.NEED_DATA:
                try:
                    client.receive_data(s.recv(65536))
                except ConnectionResetError:
                    client.receive_data(b"")
            elif isinstance(ev, h11.InformationalResponse):
                interim.append(ev)
            elif isinstance(ev, h11.Response):
                final = ev
            elif isinstance(ev, h11.Data):
                body += ev.data
            elif isinstance(ev, h11.EndOfMessage):
                assert final is not None
                return interim, final, body
            else:
                raise AssertionError(f"unexpected {ev!r}")


def status_of(port: int, raw: bytes, method: str = "GET") -> int:
    return exchange(port, raw, method)[1].status_code


def curl(*args: str) -> subprocess.CompletedProcess[str]:
    require_tools("curl")
    return subprocess.run(["curl", "-sS", *args], capture_output=True, text=True, timeout=60)


# -- protocol edges -------------------------------------------------------------------------


def test_expect_100_continue_is_answered_before_the_body(server: tuple[int, Path]) -> None:
    """RFC 9110 §10.1.1: a client that waits for 100 gets it, sends its body, gets the
    final answer on the same connection (405: we serve static files)."""
    port, _ = server
    head = (
        b"POST /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), 5) as s:
        s.sendall(head)
        assert s.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n")  # not a 60 s wait
        s.sendall(b"hello" + b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.3)
        data = s.recv(65536)
    assert data.startswith(b"HTTP/1.1 405 ")
    assert b"HTTP/1.1 200 OK" in data and data.endswith(b"0123456789")
    # an unknown expectation is refused (RFC 9110 §10.1.1 lets a server answer 417)
    assert status_of(port, b"GET / HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n") == 417


def test_curl_upload_with_expect_gets_its_answer(server: tuple[int, Path], tmp_path: Path
                                                 ) -> None:  # fmt: skip
    port, _ = server
    data = tmp_path / "up.bin"
    data.write_bytes(b"x" * 4096)
    r = curl("-o", "/dev/null", "-w", "%{http_code} %{time_total}", "-T", str(data),
             "-H", "Expect: 100-continue", "--expect100-timeout", "30",
             f"http://127.0.0.1:{port}/up.bin")  # fmt: skip
    code, total = r.stdout.split()
    # curl waits up to --expect100-timeout for the 100: it got it, not the timeout
    assert code == "405" and float(total) < 30


@pytest.mark.parametrize("name", NAMES)
def test_directory_redirect_location_is_percent_encoded(server: tuple[int, Path], name: str
                                                        ) -> None:  # fmt: skip
    port, _ = server
    from urllib.parse import quote

    path = "/" + quote(name, safe="")
    r = curl(
        "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", f"http://127.0.0.1:{port}{path}"
    )
    code, location = r.stdout.split()
    assert code == "301" and location == f"http://127.0.0.1:{port}{path}/"
    r = curl("-L", f"http://127.0.0.1:{port}{path}")
    assert r.returncode == 0 and r.stdout == name


def test_long_request_target_is_414_and_long_head_431(server: tuple[int, Path]) -> None:
    port, _ = server
    target = b"/" + b"a" * MB
    assert status_of(port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n") == 414
    assert status_of(port, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n") == 414
    big_field = b"X-Big: " + b"b" * 20000 + b"\r\n"
    assert status_of(port, b"GET / HTTP/1.1\r\nHost: x\r\n" + big_field + b"\r\n") == 431


def test_many_header_fields_within_the_size_limit_are_accepted(server: tuple[int, Path]) -> None:
    """nginx limits the head's bytes, not its fields' count: 150 short fields are fine."""
    port, _ = server
    fields = b"".join(b"X-F%d: v\r\n" % i for i in range(150))
    assert status_of(port, b"GET / HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n") == 200


def test_bare_lf_chunk_size_line_is_400_at_once(server: tuple[int, Path]) -> None:
    """No waiting for a CRLF that will not come: 400 now (exchange's reads time out in
    5 s; the server's header and body timeouts are 60 s)."""
    port, _ = server
    head = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert status_of(port, head + b"5\nhello\r\n0\r\n\r\n") == 400
    assert status_of(port, head + b"5\r\nhello\n0\r\n\r\n") == 400
    assert status_of(port, head + b"5\r\nhello\r\n0\r\n\n") == 400


def test_ranges_reversed_is_416_and_several_are_multipart(server: tuple[int, Path]) -> None:
    port, _ = server
    r = curl("-o", "/dev/null", "-w", "%{http_code}", "-r", "5-2", f"http://127.0.0.1:{port}/a.txt")
    assert r.stdout == "416"
    req = b"GET /a.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1,4-5\r\n\r\n"
    _, resp, body = exchange(port, req)
    assert resp.status_code == 206
    ctype = dict(resp.headers)[b"content-type"].decode()
    assert ctype.startswith("multipart/byteranges; boundary=")
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {ctype}\r\n\r\n".encode() + body
    )
    assert [(p["Content-Range"], p.get_payload(decode=True)) for p in msg.iter_parts()] == [
        ("bytes 0-1/10", b"01"),
        ("bytes 4-5/10", b"45"),
    ]


def test_empty_host_and_userinfo_are_400(server: tuple[int, Path]) -> None:
    port, _ = server
    assert status_of(port, b"GET / HTTP/1.1\r\nHost:\r\n\r\n") == 400
    assert status_of(port, b"GET http://u:p@x/ HTTP/1.1\r\nHost: x\r\n\r\n") == 400
    assert status_of(port, b"GET http://x/a.txt HTTP/1.1\r\nHost: x\r\n\r\n") == 200


def test_bad_request_log_lines_keep_the_peer(server: tuple[int, Path]) -> None:
    port, log = server
    with socket.create_connection(("127.0.0.1", port), 5) as s:
        peer = "{}:{}".format(*s.getsockname())
        s.sendall(b"GET / HTTP/1.1\r\nHost:\r\n\r\n")
        assert s.recv(65536).startswith(b"HTTP/1.1 400 ")
    wait_until(lambda: peer in log.read_text(), 5)
    line = next(x for x in log.read_text().splitlines() if x.startswith(peer))
    assert "bad-request" in line and "Host" in line


# -- memory and deadlines -------------------------------------------------------------------


def test_head_and_ranges_of_a_1_gib_file_read_nothing_they_do_not_send(site: Path) -> None:
    with minternet_serve("--http", "0", "--quiet", "--site", str(site)) as (ports, proc):
        port = ports["http"]
        assert status_of(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") == 200  # warm up
        base = rss(proc.pid)
        _, head, body = exchange(port, b"HEAD /sparse.bin HTTP/1.1\r\nHost: x\r\n\r\n", "HEAD")
        assert head.status_code == 200 and body == b""
        assert dict(head.headers)[b"content-length"] == str(1 << 30).encode()
        for rng, want in ((b"0-0", b"\0"), (b"-1", b"\0"), (b"1073741000-1073741009", b"\0" * 10)):
            req = b"GET /sparse.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=%s\r\n\r\n" % rng
            _, r, body = exchange(port, req)
            assert r.status_code == 206 and body == want
        assert rss(proc.pid) - base < 16 * MB


def test_20_full_speed_downloads_of_100_mb_add_under_100_mb(site: Path) -> None:
    require_tools("curl")
    with minternet_serve("--http", "0", "--quiet", "--site", str(site)) as (ports, proc):
        url = f"http://127.0.0.1:{ports['http']}/big.bin"
        assert status_of(ports["http"], b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") == 200
        base = rss(proc.pid)
        argv = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", url]
        clients = [subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) for _ in range(20)]
        peak = base
        while any(c.poll() is None for c in clients):
            peak = max(peak, rss(proc.pid))
            time.sleep(0.05)
        outs = [c.communicate()[0] for c in clients]
        assert outs == [f"200 {BIG}"] * 20
        assert peak - base < 100 * MB, f"RSS grew by {(peak - base) / MB:.0f} MB"


def stalled_get(port: int, path: str, tls: bool) -> socket.socket:
    """A client that asks for ``path`` and then reads nothing (a small receive window)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the server's memory is under test, not its name
        s = ctx.wrap_socket(s, server_hostname="localhost")
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return s


def drain_end(s: socket.socket) -> str:
    """Read everything; how the connection ended: "eof", "reset" or "still open"."""
    s.settimeout(5)
    try:
        while s.recv(1 << 20):
            pass
        return "eof"
    except TimeoutError:
        return "still open"
    except OSError:
        return "reset"
    finally:
        s.close()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_stalled_readers_are_reset_by_the_send_timeout(site: Path, tmp_path: Path, scheme: str
                                                       ) -> None:  # fmt: skip
    log = tmp_path / "access.log"
    with (
        open(log, "w") as out,
        minternet_serve(f"--{scheme}", "0", "--site", str(site), "--send-timeout", "2",
                        stdout=out) as (ports, proc),
    ):  # fmt: skip
        port = ports[scheme]
        base_fds = fds(proc.pid)  # no connection yet
        warm = stalled_get(port, "/a.txt", scheme == "https")
        assert warm.recv(65536).startswith(b"HTTP/1.1 200 OK")
        warm.close()
        wait_until(lambda: fds(proc.pid) == base_fds, 5)
        base_rss = rss(proc.pid)
        readers = [stalled_get(port, "/big.bin", scheme == "https") for _ in range(4)]
        # each reader holds a socket and its open file on the server
        wait_until(lambda: fds(proc.pid) == base_fds + 8, 5)
        time.sleep(1.0)
        assert fds(proc.pid) == base_fds + 8  # still open: it is the timeout that acts
        assert rss(proc.pid) - base_rss < 16 * MB  # a stalled reader holds one buffer
        took = wait_until(lambda: fds(proc.pid) == base_fds, 10)
        assert 0.5 < took + 1.0 < 8
        assert rss(proc.pid) - base_rss < 16 * MB
        # after what the kernel had buffered: a reset (the OpenSSL layer may report it as
        # an unexpected EOF)
        ends = {drain_end(s) for s in readers}
        assert ends == ({"reset"} if scheme == "http" else ends - {"still open"}), ends
        wait_until(lambda: log.read_text().count("send_timeout") == 4, 5)
        # the server still serves
        again = stalled_get(port, "/a.txt", scheme == "https")
        assert again.recv(65536).startswith(b"HTTP/1.1 200 OK")
        again.close()


def test_slowloris_is_cut_at_the_header_deadline_while_others_are_served(site: Path) -> None:
    with minternet_serve(
        "--http", "0", "--quiet", "--site", str(site), "--client-header-timeout", "2"
    ) as (ports, proc):
        port = ports["http"]
        base_fds = fds(proc.pid)
        t0 = time.monotonic()
        lorises = []
        for _ in range(50):
            s = socket.create_connection(("127.0.0.1", port), 5)
            s.sendall(b"GET / HTTP/1.1\r\n")
            lorises.append(s)
        closed_at: dict[int, float] = {}
        answers: dict[int, bytes] = {}
        stop = threading.Event()

        def trickle() -> None:  # one byte per socket every 0.25 s, and watch for the end
            while not stop.is_set() and len(closed_at) < len(lorises):
                for i, s in enumerate(lorises):
                    if i in closed_at:
                        continue
                    try:
                        if select.select([s], [], [], 0)[0]:
                            data = s.recv(65536)
                            answers[i] = answers.get(i, b"") + data
                            if not data:
                                closed_at[i] = time.monotonic() - t0
                                continue
                        s.sendall(b"X")
                    except OSError:
                        closed_at[i] = time.monotonic() - t0
                time.sleep(0.25)

        thread = threading.Thread(target=trickle)
        thread.start()
        served = 0
        try:
            while time.monotonic() - t0 < 5:
                assert status_of(port, b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n") == 200
                served += 1
                time.sleep(0.1)
        finally:
            stop.set()
            thread.join()
            for s in lorises:
                s.close()
        assert len(closed_at) == 50, f"{50 - len(closed_at)} slowloris connections still open"
        assert all(1.5 < t < 4.5 for t in closed_at.values()), sorted(closed_at.values())
        assert all(a.startswith(b"HTTP/1.1 408 ") for a in answers.values()), answers
        assert served >= 10
        wait_until(lambda: fds(proc.pid) == base_fds, 5)


def test_idle_and_silent_connections_are_closed_at_their_deadlines(site: Path) -> None:
    """keepalive_timeout after a response; client_header_timeout for a connection that
    never sends a byte (closed without an answer, as nginx does)."""
    with minternet_serve(
        "--http", "0", "--quiet", "--site", str(site),
        "--keepalive-timeout", "1", "--client-header-timeout", "2",
    ) as (ports, _):  # fmt: skip
        port = ports["http"]
        idle = socket.create_connection(("127.0.0.1", port), 10)
        silent = socket.create_connection(("127.0.0.1", port), 10)
        t0 = time.monotonic()
        idle.sendall(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        assert idle.recv(65536).endswith(b"0123456789")
        assert idle.recv(65536) == b""  # the server's FIN
        idle_closed = time.monotonic() - t0
        assert silent.recv(65536) == b""
        silent_closed = time.monotonic() - t0
        idle.close()
        silent.close()
        assert 0.8 < idle_closed < silent_closed < 6


# -- load -----------------------------------------------------------------------------------

LOAD_SECONDS = 30.0
NORMAL, SLOW = 250, 50
# Each normal client waits this long after an answer before its next request (as a browser
# on a keep-alive connection does), their first requests spread over one such pause: a
# steady offered load of NORMAL / THINK_SECONDS (~330 requests/s) on 300 open connections,
# with the 50 slow clients' requests always in flight. Without the pause both sides spent
# the 30 s at full speed on both cores (~20,000 requests, ~24 CPU s for this one test)
# without proving more: the count of requests was whatever the CPU allowed.
THINK_SECONDS = 0.75


async def _one_request(reader: object, writer: object, conn: h11.Connection, target: str,
                       slow: bool) -> bytes:  # fmt: skip
    import asyncio

    r: asyncio.StreamReader = reader  # type: ignore[assignment]
    w: asyncio.StreamWriter = writer  # type: ignore[assignment]
    head = conn.send(h11.Request(method="GET", target=target, headers=[("Host", "x")]))
    conn.send(h11.EndOfMessage())
    if slow:  # the head in 8 pieces over ~2 s
        step = max(1, len(head) // 8)
        for i in range(0, len(head), step):
            w.write(head[i : i + step])
            await w.drain()
            await asyncio.sleep(0.25)
    else:
        w.write(head)
        await w.drain()
    body = bytearray()  # (not bytes +=: a 1 MB body in 16 KB pieces would copy 32 MB)
    while True:
        ev = conn.next_event()
        if ev is h11.NEED_DATA:
            data = await r.read(16384 if slow else 65536)
            conn.receive_data(data)
            if slow:
                await asyncio.sleep(0.05)  # ~300 KB/s: a slow reader
        elif isinstance(ev, h11.Response):
            assert ev.status_code == 200, ev
        elif isinstance(ev, h11.Data):
            body += ev.data
        elif isinstance(ev, h11.EndOfMessage):
            conn.start_next_cycle()
            return bytes(body)
        else:
            raise AssertionError(f"unexpected {ev!r}")


def _load(port: int, files: dict[str, bytes], seconds: float) -> tuple[int, int, list[str]]:
    """NORMAL + SLOW keep-alive clients for ``seconds``: (normal answered, slow answered,
    errors). Slow clients ask again at once; normal ones after THINK_SECONDS, the first
    request of normal client ``k`` after ``k / NORMAL`` of that pause. A client finishes
    the request it has begun when the time is up."""
    import asyncio

    errors: list[str] = []
    counts = [0, 0]

    async def client(slow: bool, k: int) -> None:
        targets = ["/mid.bin"] if slow else ["/index.html", "/a.txt"]
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError as e:
            errors.append(f"connect: {e}")
            return
        conn = h11.Connection(h11.CLIENT)
        end = loop_time() + seconds
        i = 0
        try:
            if not slow:
                await asyncio.sleep(THINK_SECONDS * k / NORMAL)
            while loop_time() < end:
                target = targets[i % len(targets)]
                i += 1
                body = await _one_request(reader, writer, conn, target, slow)
                if body != files[target]:
                    errors.append(f"{target}: {len(body)} bytes, wrong content")
                counts[slow] += 1
                if not slow and loop_time() < end:
                    await asyncio.sleep(THINK_SECONDS)
        except Exception as e:
            errors.append(f"{'slow' if slow else 'normal'}: {type(e).__name__}: {e}")
        finally:
            writer.close()

    def loop_time() -> float:
        return asyncio.get_running_loop().time()

    async def main() -> None:
        await asyncio.gather(
            *(client(True, k) for k in range(SLOW)), *(client(False, k) for k in range(NORMAL))
        )

    asyncio.run(main())
    return counts[0], counts[1], errors


@pytest.mark.slow
def test_300_keepalive_clients_50_slow_for_30_s(site: Path, tmp_path: Path) -> None:
    root = tmp_path / "www"
    root.mkdir()
    files = {
        "/index.html": (site / "index.html").read_bytes(),
        "/a.txt": (site / "a.txt").read_bytes(),
        "/mid.bin": os.urandom(MB),
    }
    for name, data in files.items():
        (root / name.lstrip("/")).write_bytes(data)
    with minternet_serve("--http", "0", "--quiet", "--site", str(root)) as (ports, proc):
        base_fds = fds(proc.pid)
        samples: list[tuple[float, int, int]] = []  # (seconds, RSS, open fds)
        done = threading.Event()

        def sample() -> None:
            t0 = time.monotonic()
            while not done.wait(0.5):
                samples.append((time.monotonic() - t0, rss(proc.pid), fds(proc.pid)))

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            normal, slow, errors = _load(ports["http"], files, LOAD_SECONDS)
        finally:
            done.set()
            sampler.join()
        assert errors == []
        # ~330 requests/s offered by the normal clients (issue 14 measured 19,418 requests
        # in all at full speed); the floor holds on a loaded machine
        assert normal > 3000 and slow >= SLOW, (normal, slow)
        settled = [(r, n) for t, r, n in samples if 5.0 <= t <= LOAD_SECONDS]
        rsses = [r for r, _ in settled]
        assert max(rsses) - min(rsses) < 32 * MB, [r // MB for _, r, _ in samples]
        # sampled under load: the server held all 300 connections the whole time
        assert min(n for _, n in settled) >= base_fds + NORMAL + SLOW, samples
        wait_until(lambda: fds(proc.pid) == base_fds, 10)
