"""Issue 15's 20 % / 5 % loss ratio judged by the Linux kernel's own TCP (root only).

Run ``python -m bench.linux_loss_ratio`` (``--seeds 1-21`` by default, ``--quick``: 1-3;
``--cc reno cubic``; ``--initcwnd 3``; ``--ours``: our ``tcp-transfer`` for the same seeds).

Our ``tcp-transfer --size 2000000 --loss P`` crosses the built-in world: the laptop, the
home router, the home access line (100 Mb/s, a drop-tail queue of 100 frames, where
``--loss`` drops each frame with probability P in both directions), the ISP and the
backbone to www — a round trip of 48.4 ms. This bench builds the same path for two Linux
network namespaces, A (10.99.0.1) and B (10.99.0.2), as a **delay line in Python** (this
kernel has no ``sch_netem``): one process opens two TAP devices, moves one into each
namespace, and forwards every Ethernet frame between them

- serialised at 100 Mb/s per direction, ``(len + 24) * 8`` bits a frame (preamble, FCS
  and inter-frame gap, as ``minternet.sim.link``), a frame starting no earlier than the one
  before it finished; at most 100 frames waiting (drop-tail, as the simulated line);
- then 24.2 ms of one-way delay;
- then lost with probability P, each IPv4 frame independently, per direction (a
  ``random.Random`` seeded by the run's seed and the direction). ARP is never dropped (the
  simulator drops it too, but there ARP happens once before the transfer): the only frames
  lost are TCP's.

How late the line delivers (actual write minus due time) is measured for every frame and
reported: a figure means little unless the 99th percentile is well under a millisecond.

Each run gets fresh namespaces (no cached metrics; ``tcp_no_metrics_save=1``,
``tcp_sack=1``, ``tcp_timestamps=1`` and a ``tcp_metrics flush`` anyway) and its own delay
line process; a kernel sender in A (``TCP_CONGESTION`` ``reno`` or ``cubic``, Linux's
default initial window of 10 segments unless ``--initcwnd``) sends 2,000,000 bytes to a
kernel receiver in B, which times accept → EOF and checks the sha256. **One direction per
run**: ``tcp-transfer`` sends 2 MB each way one after the other and reports the sum, so
what compares is the ratio of medians (and ours per direction, with ``--ours``). Linux's
loss recovery as configured by default (RACK-TLP: ``tcp_recovery=1``,
``tcp_early_retrans=3``) unless ``--sysctl`` says otherwise. Per run the sender
namespace's ``nstat`` counters (fresh namespace: this transfer only) are kept: timeouts,
loss probes, retransmitted segments.

All runs go at once unless ``--jobs`` says otherwise, each with its own namespaces and
delay-line process (under ``SCHED_FIFO`` where the kernel allows, so that it keeps time
on a loaded machine): almost all of a lossy run's wall time is waiting for timers, and a
Linux run at 20 % loss can take many minutes (``--timeout``, default 1800 s; a run that
times out counts as slower than all others).
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import itertools
import json
import math
import os
import random
import select
import statistics
import subprocess
import sys
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bench.tcp_ratio import parse_seeds, transfer_report
from bench.tcp_vs_linux import BLOCK, received_seconds, start_receiver, start_sender
from minternet.drivers.interrupt import signals_as_interrupt
from minternet.drivers.netns import Namespace, link_name, unique_suffix
from minternet.drivers.tap import TapDevice
from minternet.sim.link import WIRE_OVERHEAD

ONE_WAY = 0.0242  # seconds: half the built-in world's 48.4 ms round trip
RATE = 100e6  # bits/s per direction: the home access line
QUEUE_FRAMES = 100  # the access line's drop-tail queue (sim/world.py's default)
IP_A, IP_B, PREFIX = "10.99.0.1", "10.99.0.2", 24
OUR_CC = {"reno": "newreno", "cubic": "cubic"}  # Linux's name -> ours
ETH_IPV4 = b"\x08\x00"
SYSCTLS = {
    "net.ipv4.tcp_no_metrics_save": "1",
    "net.ipv4.tcp_sack": "1",
    "net.ipv4.tcp_timestamps": "1",
}
NSTAT_KEYS = (
    "TcpRetransSegs",
    "TcpExtTCPTimeouts",
    "TcpExtTCPLossProbes",
    "TcpExtTCPLossProbeRecovery",
    "TcpExtTCPSackRecovery",
    "TcpExtTCPLostRetransmit",
    "TcpExtTCPSpuriousRTOs",
    "TcpExtTCPDSACKUndo",
    "TcpExtTCPSlowStartRetrans",
)


@dataclass
class _Direction:
    """One way through the line: its transmitter (queue, clock), its losses, its counters."""

    src: TapDevice
    dst: TapDevice
    rng: random.Random
    busy_until: float = 0.0
    queue: deque[float] = field(default_factory=deque)  # finish times not yet reached
    frames: int = 0
    lost: int = 0
    queue_full: int = 0


class DelayLine:
    """Two TAP devices joined by a serialising, delaying, lossy line (see the module)."""

    def __init__(
        self,
        a: TapDevice,
        b: TapDevice,
        *,
        loss: float,
        seed: int,
        one_way: float = ONE_WAY,
        rate: float = RATE,
        queue_frames: int = QUEUE_FRAMES,
    ) -> None:
        if not 0.0 <= loss <= 1.0:
            raise ValueError(f"loss must be within [0, 1]: {loss}")
        self.loss = loss
        self.one_way = one_way
        self.rate = rate
        self.queue_frames = queue_frames
        self.ab = _Direction(a, b, random.Random(f"{seed}/a->b"))
        self.ba = _Direction(b, a, random.Random(f"{seed}/b->a"))
        self._by_fd = {a.fileno(): self.ab, b.fileno(): self.ba}
        self._heap: list[tuple[float, int, TapDevice, bytes]] = []
        self._seq = itertools.count()
        self.lateness: list[float] = []  # seconds after its due time each frame was written
        self.write_retries = 0

    def _take(self, d: _Direction, frame: bytes, now: float) -> None:
        """A frame read from ``d.src`` at ``now``: queue it, serialise it, maybe lose it."""
        q = d.queue
        while q and q[0] <= now:
            q.popleft()
        if len(q) >= self.queue_frames:
            d.queue_full += 1
            return
        busy = d.busy_until
        done = (busy if busy > now else now) + (len(frame) + WIRE_OVERHEAD) * 8 / self.rate
        d.busy_until = done
        q.append(done)
        d.frames += 1
        # as the simulated link: the frame takes its time on the wire, then may be lost
        if self.loss and frame[12:14] == ETH_IPV4 and d.rng.random() < self.loss:
            d.lost += 1
            return
        heapq.heappush(self._heap, (done + self.one_way, next(self._seq), d.dst, frame))

    def _deliver_due(self) -> None:
        heap = self._heap
        while heap:
            now = time.monotonic()
            due, _, dst, frame = heap[0]
            if due > now:
                return
            heapq.heappop(heap)
            while not dst.write(frame):  # the kernel's backlog is full: try again at once
                self.write_retries += 1
            self.lateness.append(time.monotonic() - due)

    def serve(self, stop_fds: Sequence[int], deadline: float) -> list[int]:
        """Forward frames until one of ``stop_fds`` is readable (returned) or ``deadline``
        (``time.monotonic()``) passes (empty list)."""
        taps = list(self._by_fd)
        watch = taps + list(stop_fds)
        while True:
            self._deliver_due()
            now = time.monotonic()
            if now >= deadline:
                return []
            wake = min(self._heap[0][0], deadline) if self._heap else deadline
            readable, _, _ = select.select(watch, [], [], max(0.0, wake - now))
            stopped = [fd for fd in readable if fd in stop_fds]
            for fd in readable:
                d = self._by_fd.get(fd)
                if d is None:
                    continue
                while (frame := d.src.read()) is not None:
                    self._take(d, frame, time.monotonic())
            if stopped:
                return stopped

    def lateness_ms(self) -> dict[str, float]:
        """Median, 99th percentile and worst lateness of the frames delivered, in ms."""
        late = sorted(self.lateness)
        if not late:
            return {"p50": 0.0, "p99": 0.0, "max": 0.0, "frames": 0}
        return {
            "p50": late[len(late) // 2] * 1e3,
            "p99": late[min(len(late) - 1, int(len(late) * 0.99))] * 1e3,
            "max": late[-1] * 1e3,
            "frames": len(late),
        }

    def counters(self) -> dict[str, dict[str, int]]:
        return {
            name: {"frames": d.frames, "lost": d.lost, "queue_full": d.queue_full}
            for name, d in (("a->b", self.ab), ("b->a", self.ba))
        }


class LinePair:
    """Namespaces A and B, each with one TAP device of a :class:`DelayLine` (a ``with``
    block; everything removed when it ends)."""

    def __init__(self, *, loss: float, seed: int, initcwnd: int | None = None) -> None:
        self.loss, self.seed, self.initcwnd = loss, seed, initcwnd

    def __enter__(self) -> LinePair:
        suffix = unique_suffix()
        self.a, self.b = Namespace(), Namespace()
        self.ta = TapDevice(link_name("la", suffix))
        self.tb = TapDevice(link_name("lb", suffix))
        try:
            for ns, tap, addr in ((self.a, self.ta, IP_A), (self.b, self.tb, IP_B)):
                ns.create()
                ns.adopt(tap.name)
                for key, value in SYSCTLS.items():
                    ns.sysctl(key, value)
                ns.ip("tcp_metrics", "flush", "all", check=False)
                ns.add_address(tap.name, f"{addr}/{PREFIX}")
                ns.up(tap.name)
            if self.initcwnd is not None:
                self.a.ip(
                    "route", "replace", f"10.99.0.0/{PREFIX}", "dev", self.ta.name,
                    "proto", "kernel", "scope", "link", "src", IP_A,
                    "initcwnd", str(self.initcwnd),
                )  # fmt: skip
            self.line = DelayLine(self.ta, self.tb, loss=self.loss, seed=self.seed)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for ns in (self.a, self.b):
            ns.remove()
        for tap in (self.ta, self.tb):
            tap.close()


def realtime_priority() -> bool:
    """Run this process's thread under ``SCHED_FIFO`` (the line keeps time on a loaded
    machine; it uses little CPU), not inherited by the processes it starts. False if the
    kernel refuses."""
    try:
        flags = os.SCHED_FIFO | os.SCHED_RESET_ON_FORK
        os.sched_setscheduler(0, flags, os.sched_param(10))
    except (OSError, AttributeError):
        return False
    return True


def nstat(ns: Namespace) -> dict[str, int]:
    """The namespace's TCP counters we report (:data:`NSTAT_KEYS`), absolute values."""
    out = ns.run(["nstat", "-a", "-z", "-j"], check=False).stdout
    try:
        kernel = json.loads(out).get("kernel", {})
    except ValueError:
        return {}
    return {k: int(kernel.get(k, 0)) for k in NSTAT_KEYS}


def run_once(
    cc: str,
    loss: float,
    seed: int,
    *,
    size: int = 2_000_000,
    initcwnd: int | None = None,
    sysctls: dict[str, str] | None = None,
    timeout: float = 1800.0,
) -> dict[str, Any]:
    """One Linux → Linux transfer of ``size`` bytes across a fresh delay line."""
    # the sender repeats one block (sent to it on stdin): the largest that divides size
    block_len = next(size // k for k in range(1, size + 1) if size % k == 0 and size // k <= BLOCK)
    block = random.Random(seed).randbytes(block_len)
    with LinePair(loss=loss, seed=seed, initcwnd=initcwnd) as pair:
        for ns in (pair.a, pair.b):
            for key, value in (sysctls or {}).items():
                ns.sysctl(key, value)
        rx = start_receiver(pair.b, IP_B)
        tx = start_sender(pair.a, IP_B, block, size, OUR_CC[cc])
        assert rx.stdout is not None
        t0 = time.monotonic()
        if pair.line.serve([rx.stdout.fileno()], t0 + timeout):
            seconds = received_seconds(rx, block, size)
        else:  # counted as slower than any run that finished
            seconds = math.inf
        # the receiver exits: carry its FIN to the sender so that the sender exits too
        tx_out = os.pidfd_open(tx.pid)
        try:
            pair.line.serve([tx_out], time.monotonic() + 10)
        finally:
            os.close(tx_out)
        return {
            "cc": cc,
            "loss": loss,
            "seed": seed,
            "initcwnd": initcwnd or 10,
            "seconds": seconds,
            "wall": time.monotonic() - t0,
            "lateness_ms": pair.line.lateness_ms(),
            "line": pair.line.counters(),
            "write_retries": pair.line.write_retries,
            "sender": nstat(pair.a),
        }


# -- the driver: many runs at once, one process each -------------------------------------


_running: set[subprocess.Popen[str]] = set()  # the runs' processes, stopped on Ctrl-C


def _child(args: list[str]) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.linux_loss_ratio", "--one", *args]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        _running.add(proc)
        try:
            out, err = proc.communicate()
        finally:
            _running.discard(proc)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {err.strip().splitlines()[-1:]}")
    result: dict[str, Any] = json.loads(out)
    return result


def _stop_children() -> None:
    """SIGTERM every run still going (each removes its namespaces and TAPs) and wait."""
    for proc in list(_running):
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
    for proc in list(_running):
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)


def _quartiles(values: Sequence[float]) -> str:
    """Smallest, quartiles and largest: ``min [q1, q3] max``."""
    s = sorted(values)
    q1, q3 = (s[min(len(s) - 1, int(len(s) * q))] for q in (0.25, 0.75))
    return f"{s[0]:.1f} [{q1:.1f}, {q3:.1f}] {s[-1]:.1f} s"


def _summary(label: str, by_loss: dict[float, list[float]]) -> str:
    lo, hi = statistics.median(by_loss[0.05]), statistics.median(by_loss[0.2])
    spread = "; ".join(f"{p:.0%}: {_quartiles(v)}" for p, v in sorted(by_loss.items()))
    return f"{label}: median 5 % {lo:.2f} s, 20 % {hi:.2f} s, ratio {hi / lo:.2f}  ({spread})"


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.linux_loss_ratio", description=__doc__)
    ap.add_argument("--seeds", default="1-21", help="a range (default 1-21)")
    ap.add_argument("--quick", action="store_true", help="seeds 1-3, at most 600 s a run")
    ap.add_argument("--cc", nargs="+", default=["reno", "cubic"], choices=sorted(OUR_CC))
    ap.add_argument("--initcwnd", type=int, default=None, help="(Linux's default: 10)")
    ap.add_argument("--loss", nargs="+", type=float, default=[0.05, 0.2])
    ap.add_argument("--size", type=int, default=2_000_000)
    ap.add_argument("--jobs", type=int, default=0, help="runs at once (default: all)")
    ap.add_argument("--timeout", type=float, default=None, help="seconds a run (1800)")
    ap.add_argument("--sysctl", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--ours", action="store_true", help="also our tcp-transfer, same seeds")
    ap.add_argument("--json", metavar="FILE", help="write every run's figures here")
    ap.add_argument("--from", dest="from_json", metavar="FILE", help="report a --json file")
    ap.add_argument("--one", nargs=3, metavar=("CC", "LOSS", "SEED"), help=argparse.SUPPRESS)
    args = ap.parse_args(sys.argv[1:] if __name__ == "__main__" else ["--quick"])
    sysctls = dict(kv.split("=", 1) for kv in args.sysctl)
    if args.from_json:
        with open(args.from_json) as f:
            report(json.load(f), args.cc, sorted(args.loss))
        return
    if os.geteuid() != 0 or not os.path.exists("/dev/net/tun"):
        print("skipped (needs root and /dev/net/tun)")
        return
    if args.one:
        cc, loss, seed = args.one
        rt = realtime_priority()
        with signals_as_interrupt():
            result = run_once(
                cc, float(loss), int(seed), size=args.size, initcwnd=args.initcwnd,
                sysctls=sysctls, timeout=args.timeout or 1800.0,
            )  # fmt: skip
        print(json.dumps({**result, "sched_fifo": rt}))
        return
    try:
        run(args, sysctls)
    except KeyboardInterrupt:
        print("interrupted: every run stopped, namespaces and TAP devices removed")
        raise SystemExit(130) from None


def run(args: argparse.Namespace, sysctls: dict[str, str]) -> None:
    seeds = parse_seeds("1-3" if args.quick else args.seeds)
    timeout = args.timeout or (600.0 if args.quick else None)
    losses = sorted(args.loss, reverse=True)  # the long runs first: they pack better
    jobs = [(cc, p, s) for p in losses for cc in args.cc for s in seeds]
    extra = [f"--size={args.size}"] + [f"--sysctl={kv}" for kv in args.sysctl]
    if args.initcwnd is not None:
        extra.append(f"--initcwnd={args.initcwnd}")
    if timeout is not None:
        extra.append(f"--timeout={timeout}")
    n_jobs = args.jobs or len(jobs)
    print(
        f"Linux -> Linux, {args.size} bytes, one direction per run (tcp-transfer: both, "
        f"summed), seeds {seeds[0]}-{seeds[-1]}, initcwnd {args.initcwnd or 10}, {n_jobs} "
        f"runs at once; sysctls {sysctls or 'default'}; load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    t0 = time.monotonic()
    results = []
    pool = ThreadPoolExecutor(n_jobs)
    try:
        with signals_as_interrupt():
            futures = [pool.submit(_child, [cc, str(p), str(s), *extra]) for cc, p, s in jobs]
            for f in futures:
                try:
                    results.append(f.result())
                except RuntimeError as e:  # one broken run does not lose the others
                    print(f"failed: {e}", flush=True)
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        _stop_children()
        raise
    finally:
        pool.shutdown(wait=True)
    print(f"wall {time.monotonic() - t0:.0f} s; load average {os.getloadavg()[0]:.2f}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=1)
    report(results, args.cc, sorted(args.loss))
    if args.ours:
        for cc in args.cc:
            _ours(OUR_CC[cc], seeds, sorted(args.loss))


def report(results: list[dict[str, Any]], ccs: Sequence[str], losses: Sequence[float]) -> None:
    """Per-seed seconds, medians, ratios and the line's timekeeping of ``results``."""
    late = [r["lateness_ms"] for r in results]
    print(
        f"delay line lateness over {sum(x['frames'] for x in late)} frames (ms): p99 per run "
        f"median {statistics.median(x['p99'] for x in late):.3f}, worst p99 "
        f"{max(x['p99'] for x in late):.3f}, worst frame {max(x['max'] for x in late):.2f}; "
        f"SCHED_FIFO {sum(bool(r.get('sched_fifo')) for r in results)}/{len(results)}; "
        f"write retries {sum(r['write_retries'] for r in results)}; "
        f"queue-full drops {sum(d['queue_full'] for r in results for d in r['line'].values())}"
    )
    for cc in ccs:
        by_loss: dict[float, list[float]] = {}
        for p in losses:
            rs = sorted((r for r in results if r["cc"] == cc and r["loss"] == p),
                        key=lambda r: r["seed"])  # fmt: skip
            if not rs:
                continue
            by_loss[p] = [r["seconds"] for r in rs]
            lost = sum(d["lost"] for r in rs for d in r["line"].values())
            frames = sum(d["frames"] for r in rs for d in r["line"].values())
            counters = {
                k.removeprefix("TcpExt").removeprefix("Tcp"): statistics.median(
                    r["sender"].get(k, 0) for r in rs
                )
                for k in ("TcpRetransSegs", "TcpExtTCPTimeouts", "TcpExtTCPLossProbes")
            }
            timed_out = sum(math.isinf(t) for t in by_loss[p])
            print(
                f"  Linux {cc} loss {p:.0%} (seeds {rs[0]['seed']}-{rs[-1]['seed']}"
                + (f", {timed_out} timed out" if timed_out else "") + "): "
                + " ".join(f"{t:.1f}" for t in by_loss[p])
                + f"  (line lost {lost / max(frames, 1):.3f} of {frames} frames; sender "
                "medians " + ", ".join(f"{k} {v:g}" for k, v in counters.items()) + ")"
            )  # fmt: skip
        if 0.05 in by_loss and 0.2 in by_loss:
            print("  " + _summary(f"Linux {cc} (one direction)", by_loss))


def _ours(cc: str, seeds: list[int], losses: list[float]) -> None:
    """Our ``tcp-transfer`` for the same seeds: each direction and the total."""
    per: dict[str, dict[float, list[float]]] = {"up": {}, "down": {}, "total": {}}
    for p in losses:
        reports = [transfer_report(p, s, cc, 2_000_000) for s in seeds]
        for key in per:
            per[key][p] = [float(r["virtual_seconds"][key]) for r in reports]
        print(f"  ours {cc} loss {p:.0%} up: " + " ".join(f"{t:.1f}" for t in per["up"][p]))
    if 0.05 in losses and 0.2 in losses:
        for key, by_loss in per.items():
            print("  " + _summary(f"ours {cc} {key}", by_loss))


if __name__ == "__main__":
    main()
