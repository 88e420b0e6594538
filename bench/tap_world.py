"""A 20 MB download by the Linux kernel across the whole world in real time (issue 17).

``minternet tap world --site DIR`` runs, and curl in its namespace fetches a 20 MB file over
HTTPS from our web server on ``www``: through the home switch, our home router's NAT, the
ISP, transit and data-centre routers (100 Mb/s on the access line, ~48 ms round trip), our
TCP and TLS. Printed for each run, from curl: ``speed_download`` (the whole transfer: name
lookup, TCP and TLS handshakes, request, body) and the body's rate from its first byte to
its last; the world process's CPU seconds per transfer (from ``/proc``), hence the rate it
could carry if the CPU were the only limit; the frames dropped on the world's links; how
well the world kept real time (the share of its timers that ran within 1 ms of their time:
a world that falls behind delivers frames late and in bursts, and drops more than its links
would).

Beside it, what the network allows: the access line's ceiling for TCP payload (1448 bytes
of every 1538 on the wire at 100 Mb/s: 11.77 MB/s), the path's bandwidth-delay product
against the access line's drop-tail queue, and the same transfer in the simulator (our TCP
at both ends, virtual time: no CPU limit at all) with the world's queue and with a queue of
one bandwidth-delay product — then the real world again with that queue (a world file), so
that what the queue costs is measured, not guessed. The peer: the same file from
``minternet tap up`` (our web server on a host cabled straight to the TAP — no router, no
latency).

Needs root, curl and udhcpc. Run: ``sudo python -m bench.tap_world [MB] [RUNS]`` (default 20 MB,
median of 3). ``--profile FILE`` writes a cProfile of the world process during the runs.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from minternet.apps.site import packaged_site
from minternet.node.tcp import TcpStack
from minternet.sim.default_world import DEFAULT_WORLD
from minternet.sim.world import World, world_toml

SRC = Path(__file__).resolve().parents[1] / "src"
LINE = 100e6  # b/s, the access line
WIRE_FRAME = 1500 + 14 + 24  # a full frame on the wire: header, preamble, FCS, gap
MSS = 1448  # with TCP timestamps (RFC 7323)
LINE_CEILING = LINE / 8 * MSS / WIRE_FRAME / 1e6  # MB/s of TCP payload on the access line
PATH = [("laptop", "home-switch"), ("home-router", "home-switch"), ("home-router", "isp-router"),
        ("isp-router", "transit"), ("transit", "dc-router"), ("dc-router", "www")]  # fmt: skip
BUFFER = 4 * 1024 * 1024  # the world's TCP buffers in real time (drivers/tapworld.py)
CURL_TIMES = "%{speed_download} %{time_namelookup} %{time_connect} %{time_appconnect} " \
    "%{time_starttransfer} %{time_total}"  # fmt: skip


def _link(a: str, b: str) -> dict[str, Any]:
    return next(x for x in DEFAULT_WORLD["links"] if (x["a"], x["b"]) == (a, b))


def path_rtt() -> float:
    """Seconds: twice the latency of the links between laptop and www."""
    return 2 * sum(float(_link(a, b)["latency_ms"]) for a, b in PATH) / 1000


def access_queue() -> int:
    return int(_link("home-router", "isp-router").get("queue", 100))


def bdp_frames() -> int:
    """The path's bandwidth-delay product at the access line's rate, in full frames."""
    return math.ceil(LINE / 8 * path_rtt() / WIRE_FRAME)


def world_with_queue(queue: int) -> dict[str, Any]:
    """The built-in world with the access line's drop-tail queue set to ``queue`` frames."""
    world: dict[str, Any] = json.loads(json.dumps(DEFAULT_WORLD))
    for link in world["links"]:
        if (link["a"], link["b"]) == ("home-router", "isp-router"):
            link["queue"] = queue
    return world


def simulated(size: int, queue: int) -> dict[str, float]:
    """``size`` bytes from www to the laptop over our TCP in the simulator (virtual time,
    the real-time buffers): MB/s from the SYN and from the first byte to the last."""
    w = World.from_dict(world_with_queue(queue), seed=1)
    for node in w.hosts_and_routers:
        if isinstance(node.tcp, TcpStack):
            node.tcp.config = replace(node.tcp.config, send_buffer=BUFFER, recv_buffer=BUFFER)
    www, laptop, loop = w.node("www"), w.node("laptop"), w.loop
    listener = www.tcp_listen(8080)
    t: dict[str, float] = {}

    async def server() -> None:
        sock = await listener.accept()
        await sock.send(bytes(size))
        await sock.close()

    async def client() -> None:
        t["start"] = loop.now()
        sock = await laptop.tcp_connect((www.address, 8080), timeout=30)
        got = 0
        while chunk := await sock.recv(1 << 20):
            if not got:
                t["first"] = loop.now()
            got += len(chunk)
        t["last"] = loop.now()
        assert got == size

    loop.create_task(server())
    w.run(until=loop.now() + 5)  # the laptop's DHCP lease
    loop.run_until_complete(loop.create_task(client()), 3600)
    drops = sum(link.frames_dropped for link in w.links)
    return {
        "whole": size / (t["last"] - t["start"]) / 1e6,
        "first_last": size / (t["last"] - t["first"]) / 1e6,
        "drops": drops,
    }


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (and its waited-for children), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:13]) / os.sysconf("SC_CLK_TCK")


def start(args: list[str], profile: Path | None = None) -> tuple[subprocess.Popen[str], str]:
    """Start ``minternet ARGS`` (as root), wait for its banner; (process, banner text)."""
    prefix = [sys.executable]
    if profile is not None:
        prefix += ["-m", "cProfile", "-o", str(profile)]
    proc = subprocess.Popen(
        [*prefix, "-m", "minternet", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(SRC)),
    )
    assert proc.stdout is not None
    banner = ""
    while True:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit(f"{' '.join(args)} ended: {proc.communicate()[1]}")
        banner += line
        if "stop:" in line:
            break
    return proc, banner


def stop(proc: subprocess.Popen[str]) -> str:
    """Interrupt it; what it printed after the banner."""
    proc.send_signal(signal.SIGINT)
    return proc.communicate(timeout=120)[0]


def download(ns: str, ca: str, url: str, out: Path, expected: bytes) -> dict[str, float]:
    """curl in namespace ``ns`` fetches ``url`` (checked byte for byte): its rate in MB/s
    (``speed``), the body's from first to last byte (``body``), and its phases' seconds."""
    proc = subprocess.run(
        ["ip", "netns", "exec", ns, "curl", "-sS", "--max-time", "300", "--cacert", ca,
         "-o", str(out), "-w", CURL_TIMES, url],
        capture_output=True, text=True, timeout=330, check=True,
    )  # fmt: skip
    if out.read_bytes() != expected:
        raise SystemExit(f"{url}: the file did not arrive intact")
    speed, dns, tcp, tls, first, total = map(float, proc.stdout.split())
    return {
        "speed": speed / 1e6,
        "body": len(expected) / (total - first) / 1e6,
        "dns": dns,
        "tcp": tcp - dns,
        "tls": tls - tcp,
        "wait": first - tls,
        "total": total,
    }


def measure(
    args: list[str], ns: str, size: int, runs: int, profile: Path | None = None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        site.mkdir()
        for parts, data in packaged_site().files.items():
            (site / "/".join(parts)).write_bytes(data)
        data = os.urandom(size)
        (site / "big.bin").write_bytes(data)
        world = [a for a in args if a.startswith("queue=")]
        args = [a for a in args if not a.startswith("queue=")]
        if world:
            (Path(tmp) / "world.toml").write_text(
                world_toml(world_with_queue(int(world[0].split("=")[1])))
            )
            args += ["--world", str(Path(tmp) / "world.toml")]
        proc, banner = start([*args, "--netns", ns, "--site", str(site)], profile)
        said = ""
        try:
            ca = re.search(r"--cacert (\S+)", banner)
            assert ca is not None, banner
            runs_: list[dict[str, float]] = []
            for _ in range(runs):
                before = cpu_seconds(proc.pid)
                got = download(ns, ca.group(1), "https://www.example.com/big.bin",
                               Path(tmp) / "got", data)  # fmt: skip
                got["cpu"] = cpu_seconds(proc.pid) - before
                runs_.append(got)
        finally:
            said = stop(proc)
    drops = re.search(r"dropped on the world's links (\d+)", said)
    kept = re.search(r"^the world ((kept|fell behind) real time: .*)$", said, re.M)
    return {
        "runs": runs_,
        "drops": int(drops.group(1)) if drops else None,
        "realtime": kept.group(1) if kept else "?",
    }


def _median(m: dict[str, Any], key: str) -> float:
    return float(statistics.median(r[key] for r in m["runs"]))


def _runs(m: dict[str, Any], key: str) -> str:
    return ", ".join(f"{r[key]:.2f}" for r in m["runs"])


def report_world(title: str, m: dict[str, Any], mb: float) -> None:
    cpu = _median(m, "cpu")
    print(f"  {title}")
    print(f"    speed_download (whole transfer) {_median(m, 'speed'):6.2f} MB/s   runs "
          f"{_runs(m, 'speed')}")  # fmt: skip
    print(f"    first byte → last byte          {_median(m, 'body'):6.2f} MB/s   runs "
          f"{_runs(m, 'body')}")  # fmt: skip
    print(f"    phases (median s): DNS {_median(m, 'dns'):.3f}, TCP {_median(m, 'tcp'):.3f}, "
          f"TLS {_median(m, 'tls'):.3f}, request → first byte {_median(m, 'wait'):.3f}, "
          f"total {_median(m, 'total'):.2f}")  # fmt: skip
    per = "?" if m["drops"] is None else f"{m['drops'] / len(m['runs']):.0f}"
    print(f"    world process CPU per transfer {cpu:.2f} s (runs {_runs(m, 'cpu')}): "
          f"{mb / cpu:.1f} MB per CPU second; frames dropped on the world's links "
          f"per transfer {per}")  # fmt: skip
    print(f"    the world's timers over all runs: {m['realtime']}")


def main() -> None:
    argv = sys.argv[1:]
    profile = None
    if "--profile" in argv:
        i = argv.index("--profile")
        profile = Path(argv[i + 1])
        del argv[i : i + 2]
    mb = float(argv[0]) if argv else 20.0
    runs = int(argv[1]) if len(argv) > 1 else 3
    size = int(mb * 1e6)
    rtt, queue, bdp = path_rtt(), access_queue(), bdp_frames()
    load = os.getloadavg()[0]
    t0 = time.process_time()
    sims = {q: simulated(size, q) for q in (queue, bdp)}
    sim_cpu = time.process_time() - t0
    print(f"tap world: {mb:g} MB over HTTPS to curl in the namespace, median of {runs}")
    print(f"  the network: access line 100 Mb/s → {LINE_CEILING:.2f} MB/s of TCP payload at "
          f"most; RTT {1000 * rtt:.1f} ms; bandwidth-delay product {bdp} frames "
          f"({bdp * WIRE_FRAME / 1e3:.0f} kB); the access line's queue {queue} frames "
          f"({queue / bdp:.2f} BDP)")  # fmt: skip
    for q, s in sims.items():
        print(f"  simulator, our TCP both ends, no CPU limit, queue {q}: "
              f"{s['whole']:.2f} MB/s from the SYN, {s['first_last']:.2f} MB/s first → last "
              f"byte, {s['drops']} frames dropped")  # fmt: skip
    print(f"  ({sim_cpu:.1f} CPU s for both simulations)")
    if os.geteuid() != 0:
        print("bench.tap_world: the real runs need root (network namespaces, TAP devices)")
        return
    pid = os.getpid()
    world = measure(["tap", "world"], f"minternet-benchw-{pid}", size, runs, profile)
    big = measure(["tap", "world", f"queue={bdp}"], f"minternet-benchq-{pid}", size, runs)
    peer = measure(["tap", "up"], f"minternet-benchu-{pid}", size, runs)
    w, p = _median(world, "speed"), _median(peer, "speed")
    print(f"  load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    report_world("through the world (4 routers, NAT, the default world):", world, mb)
    report_world(f"through the world with the access line's queue at {bdp} frames (1 BDP):",
                 big, mb)  # fmt: skip
    print(f"  peer, tap up (our host on the TAP, no routers): {p:6.2f} MB/s   runs "
          f"{_runs(peer, 'speed')}")  # fmt: skip
    print(f"  ratios: world / tap up {w / p:.3f}; world / access line ceiling "
          f"{w / LINE_CEILING:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
