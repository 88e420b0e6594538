"""Behaviour guard: sha256 of what same-seed commands print and capture.

Each case in :data:`CASES` is a ``minternet`` command line run in the simulator with a
fixed seed, twice (by this script each in a fresh interpreter, as a user runs it; by the
test in one interpreter, which must give the same bytes):

* as given: the hash of its stdout (the story or the report a person reads);
* with ``--json --pcap FILE`` added: the hash of the JSON it prints and of the pcapng.

The exit status of both runs is recorded too. ``behaviour.json`` beside this file holds
the hashes; ``test_behaviour_hashes.py`` re-runs every case and compares. They were first
recorded on commit 8cce0e0, before the rings refactoring (issue 11), which must not change
any of them.

After an INTENTIONAL change of same-seed output (a new line in a story, a new JSON key, a
different wire behaviour), regenerate and say why in the commit message::

    export PATH=$PWD/.venv/bin:$PATH        # or the shared venv
    python tests/golden/golden_hashes.py --write
    git diff tests/golden/behaviour.json     # only the cases you meant to change

Without ``--write`` the script compares and prints every case that differs (exit 1). An
unintentional difference is a bug (often an order decided by a set or a dict of
addresses): find it, do not regenerate.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
RECORD = HERE / "behaviour.json"
SEED = "7"

SCENARIOS = (
    "expired-cert",
    "wrong-host",
    "untrusted-ca",
    "nxdomain",
    "port-closed",
    "blackhole",
    "heavy-loss",
    "dhcp-conflict",
)

#: name → arguments after ``minternet`` (``--seed`` is added).
CASES: dict[str, tuple[str, ...]] = {
    "fetch": ("fetch",),
    "fetch-loss": ("fetch", "--loss", "0.1"),
    "fetch-rsa": ("fetch", "--kex", "rsa"),
    **{f"fetch-scenario-{s}": ("fetch", "--scenario", s) for s in SCENARIOS},
    "ping": ("ping", "www.example.com"),
    "traceroute": ("traceroute", "www.example.com"),
    "dig-trace": ("dig", "www.example.com", "--trace"),
    "tcp-transfer-loss-reorder": ("tcp-transfer", "--loss", "0.1", "--reorder", "0.1"),
}


#: The terminal every case runs in (None: unset).
TERMINAL: dict[str, str | None] = {
    "COLUMNS": "80",
    "LINES": "24",
    "NO_COLOR": "1",
    "TERM": "dumb",
    "FORCE_COLOR": None,
}

#: Runs ``minternet ARGS`` and returns its exit status and stdout.
Runner = Callable[[tuple[str, ...]], tuple[int, bytes]]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    for k, v in TERMINAL.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def in_a_process(args: tuple[str, ...]) -> tuple[int, bytes]:
    """``minternet ARGS`` in a fresh interpreter: a user's run."""
    proc = subprocess.run(
        [sys.executable, "-m", "minternet", *args],
        capture_output=True,
        env=_env(),
        timeout=300,
        check=False,
    )
    return proc.returncode, proc.stdout


def run_case(name: str, run: Runner = in_a_process) -> dict[str, object]:
    """Run one case (twice, by ``run``) and return its record."""
    args = (*CASES[name], "--seed", SEED)
    plain_exit, plain_out = run(args)
    with tempfile.TemporaryDirectory(prefix="minternet-golden-") as tmp:
        pcap = Path(tmp) / "capture.pcapng"
        js_exit, js_out = run((*CASES[name], "--json", "--pcap", str(pcap), "--seed", SEED))
        pcap_sha = _sha(pcap.read_bytes()) if pcap.exists() else None
    return {
        "argv": ["minternet", *args],
        "exit": plain_exit,
        "stdout_sha256": _sha(plain_out),
        "json_exit": js_exit,
        "json_sha256": _sha(js_out),
        "pcapng_sha256": pcap_sha,
    }


def run_all(jobs: int) -> dict[str, dict[str, object]]:
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return dict(zip(CASES, pool.map(run_case, CASES), strict=True))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", action="store_true", help=f"rewrite {RECORD.name}")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    opts = ap.parse_args()
    got = run_all(opts.jobs)
    if opts.write:
        RECORD.write_text(json.dumps(got, indent=2, sort_keys=True) + "\n")
        print(f"{RECORD}: {len(got)} cases recorded")
        return 0
    want = json.loads(RECORD.read_text())
    bad = [n for n in sorted(set(want) | set(got)) if want.get(n) != got.get(n)]
    for n in bad:
        print(f"{n}: recorded {want.get(n)}\n{' ' * len(n)}  now      {got.get(n)}")
    print(f"{len(got) - len(bad)}/{len(got)} cases identical")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
