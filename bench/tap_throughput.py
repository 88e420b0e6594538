"""Throughput over the TAP device: our whole stack against the kernel's, in the same run.

Upload: a kernel TCP client in the namespace sends SIZE bytes to our host's Discard service
(RFC 863, port 9) over the TAP — Ethernet, ARP, IPv4 and TCP on our side all ours — and,
as the peer, the same client sends the same bytes to a Discard server on the kernel's TCP in
the same namespace. Prints medians and the ratio ours/kernel. Needs root.

Run: ``sudo python -m bench.tap_throughput [MiB]`` (default 64 MiB, median of 3).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

from minternet.drivers.tap import TapNetwork
from minternet.drivers.taphost import TapHost, host_on_tap
from minternet.drivers.tapservices import start_services
from minternet.loop import RealtimeLoop
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


def main() -> None:
    if os.geteuid() != 0:
        print("tap_throughput: needs root (network namespace and TAP device); skipped")
        return
    size = (int(sys.argv[1]) if len(sys.argv) > 1 else 64) << 20
    loop = RealtimeLoop()
    with host_on_tap(loop, TraceBus()) as th:
        start_services(th, dns=False)
        kernel_side = _kernel_discard(th)
        ours = [run_client(loop, th.net, th.address, size) for _ in range(RUNS)]
        peer = [run_client(loop, th.net, th.kernel_address, size) for _ in range(RUNS)]
        kernel_side.kill()
        kernel_side.wait()
    loop.close()
    o, p = statistics.median(ours), statistics.median(peer)
    print(f"TAP upload, {size >> 20} MiB, kernel TCP client -> Discard (median of {RUNS})")
    print(f"  ours (TAP, our Ethernet/IPv4/TCP)  {o:8.1f} MB/s")
    print(f"  kernel (same namespace, its TCP)   {p:8.1f} MB/s   ratio {o / p:.3f}")


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
