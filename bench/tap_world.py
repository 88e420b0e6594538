"""A 20 MB download by the Linux kernel across the whole world in real time (issue 17).

``minternet tap world --site DIR`` runs, and curl in its namespace fetches a 20 MB file over
HTTPS from our web server on ``www``: through the home switch, our home router's NAT, the
ISP, transit and data-centre routers (100 Mb/s on the access line, ~48 ms round trip), our
TCP and TLS. In the same run, as the peer, the same file from ``minternet tap up`` — our
web server on a host cabled straight to the kernel's TAP, no router, no latency — so the
ratio is what the world's four routers, two switches and links cost. Also printed: the
world process's CPU seconds per transfer (from ``/proc``), hence the rate it could reach if
the CPU were the only limit, and the access line's ceiling for TCP payload (1448 bytes of
every 1538 on the wire at 100 Mb/s: 11.77 MB/s).

Needs root, curl and udhcpc. Run: ``sudo python -m bench.tap_world [MB] [RUNS]`` (default 20 MB,
median of 3). ``--profile FILE`` writes a cProfile of the world process during the runs.
"""

from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from minternet.apps.site import packaged_site

SRC = Path(__file__).resolve().parents[1] / "src"
LINE_CEILING = 100e6 / 8 * 1448 / 1538 / 1e6  # MB/s of TCP payload on the access line


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


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)


def download(ns: str, ca: str, url: str, out: Path, expected: bytes) -> float:
    """curl in namespace ``ns`` fetches ``url``; its rate in MB/s (checked byte for byte)."""
    proc = subprocess.run(
        ["ip", "netns", "exec", ns, "curl", "-sS", "--max-time", "300", "--cacert", ca,
         "-o", str(out), "-w", "%{speed_download}", url],
        capture_output=True, text=True, timeout=330, check=True,
    )  # fmt: skip
    if out.read_bytes() != expected:
        raise SystemExit(f"{url}: the file did not arrive intact")
    return float(proc.stdout) / 1e6


def measure(
    args: list[str], ns: str, size: int, runs: int, profile: Path | None = None
) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        site.mkdir()
        for parts, data in packaged_site().files.items():
            (site / "/".join(parts)).write_bytes(data)
        data = os.urandom(size)
        (site / "big.bin").write_bytes(data)
        proc, banner = start([*args, "--netns", ns, "--site", str(site)], profile)
        try:
            ca = re.search(r"--cacert (\S+)", banner)
            assert ca is not None, banner
            rates, cpus = [], []
            for _ in range(runs):
                before = cpu_seconds(proc.pid)
                rates.append(download(ns, ca.group(1), "https://www.example.com/big.bin",
                                      Path(tmp) / "got", data))  # fmt: skip
                cpus.append(cpu_seconds(proc.pid) - before)
        finally:
            stop(proc)
    return {"rate": rates, "cpu": cpus}


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
    if os.geteuid() != 0:
        print("bench.tap_world: needs root (network namespaces, TAP devices); skipped")
        return
    load = os.getloadavg()[0]
    world = measure(["tap", "world"], f"minternet-benchw-{os.getpid()}", size, runs, profile)
    peer = measure(["tap", "up"], f"minternet-benchu-{os.getpid()}", size, runs)
    w, p = statistics.median(world["rate"]), statistics.median(peer["rate"])
    cpu = statistics.median(world["cpu"])
    print(f"tap world: {mb:g} MB over HTTPS to curl in the namespace, median of {runs}, "
          f"load average {load:.1f} at the start")  # fmt: skip
    print(f"  through the world (4 routers, NAT, ~48 ms RTT): {w:6.2f} MB/s  "
          f"runs {', '.join(f'{r:.2f}' for r in world['rate'])}")  # fmt: skip
    print(f"  peer, tap up (our host on the TAP, no routers): {p:6.2f} MB/s  "
          f"runs {', '.join(f'{r:.2f}' for r in peer['rate'])}")  # fmt: skip
    print(f"  ratio world / tap up: {w / p:.3f};  world / access line ceiling "
          f"({LINE_CEILING:.2f} MB/s): {w / LINE_CEILING:.3f}")  # fmt: skip
    print(f"  world process CPU per transfer: {cpu:.2f} s, i.e. {mb / cpu:.1f} MB per CPU "
          f"second (the rate if the CPU were the only limit)")  # fmt: skip


if __name__ == "__main__":
    main()
