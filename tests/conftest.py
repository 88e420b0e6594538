"""Shared fixtures. Tests import the package from this checkout's ``src`` (see pyproject)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

# Keep Python's bytecode caches (the gitignored __pycache__ folders) even where the shell
# sets PYTHONDONTWRITEBYTECODE: without them each of the four workers compiles the package
# and pytest rewrites the asserts of every test module again (~5 CPU s per worker), and
# every fresh `python -m minternet` compiles the package again (~0.4 CPU s each). Children
# inherit this environment, so they read and write the same caches.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

# CI runs every property test with the same examples (a red build is then reproducible);
# developers get fresh examples each run. Both keep deadlines off: the machines are shared.
settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")

from clitools import CliRunner, run_in_process  # noqa: E402  (plain module beside this file)
from clitools import run_process as clitools_run_process  # noqa: E402
from minternet.drivers.keycache import ENV as KEY_CACHE_ENV  # noqa: E402
from minternet.drivers.keycache import use_key_cache  # noqa: E402
from required_tools import require_tools  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    """In the xdist controller, before the workers start: fill the bytecode caches once, and
    give the run one folder of seeded keys (``drivers/keycache``) that every worker and
    every ``minternet`` process it starts shares: each seed's keys are minted once a run
    (~0.1 CPU s a key), not once in each process. A new folder each run, so every run mints."""
    if not hasattr(config, "workerinput"):
        if getattr(config.option, "numprocesses", None):
            _compile_once(config)
        if KEY_CACHE_ENV not in os.environ:
            folder = tempfile.mkdtemp(prefix="minternet-keys-")
            os.environ[KEY_CACHE_ENV] = folder
            config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    use_key_cache()


def _compile_once(config: pytest.Config) -> None:
    """Compile the package and the test helpers, and rewrite the test modules' asserts, into
    the caches every worker reads: on a fresh clone each of the four workers would otherwise
    do all of it again at collection (~5 CPU s each); later runs only check the caches. Only
    a cache: should pytest's private rewriting functions change, the workers do the work."""
    import compileall
    import re
    from pathlib import Path

    from clitools import SRC

    tests = Path(__file__).resolve().parent
    compileall.compile_dir(SRC, quiet=1)
    compileall.compile_dir(tests, quiet=1, rx=re.compile(r"(^|/)(test_[^/]*|conftest)\.py$"))
    try:
        from _pytest.assertion import rewrite

        state = config.stash[rewrite.assertstate_key]
        for fn in sorted(tests.rglob("*.py")):
            if not (fn.name.startswith("test_") or fn.name == "conftest.py"):
                continue
            cache = rewrite.get_cache_dir(fn)
            pyc = cache / (fn.name[:-3] + rewrite.PYC_TAIL)
            if rewrite._read_pyc(fn, pyc) is None:
                cache.mkdir(exist_ok=True)
                source_hash, co = rewrite._rewrite_test(fn, config)
                rewrite._write_pyc(state, co, source_hash, pyc)
    except (ImportError, AttributeError, KeyError, TypeError, OSError, SyntaxError):
        return  # the workers rewrite what is missing (and report a syntax error themselves)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """``@pytest.mark.tools(...)``: skip without them, or fail under MINTERNET_REQUIRE_TOOLS=1."""
    for mark in item.iter_markers("tools"):
        require_tools(*mark.args)


if TYPE_CHECKING:
    from minternet.drivers.kernel import KernelStack


@pytest.fixture
def kernel_stack() -> Iterator[KernelStack]:
    """Our socket API on this machine's kernel, on a fresh wall-clock loop; closed after."""
    from minternet.drivers.kernel import KernelStack
    from minternet.drivers.realtime import RealtimeLoop

    loop = RealtimeLoop()
    s = KernelStack(loop, name="test")
    yield s
    s.close_all()
    loop.close()


@pytest.fixture
def run_cli() -> CliRunner:
    """Run ``minternet ARGS…`` in this interpreter (:func:`clitools.run_in_process`): the
    command's stdout, stderr and exit status as a user gets them, without a fresh
    interpreter per run. For what only a real process shows (its exit code, signals, a
    server on a port) use ``run_process``."""
    return run_in_process


@pytest.fixture
def run_process() -> CliRunner:
    """Run ``minternet ARGS…`` as a user would, in a subprocess, from this checkout."""
    return clitools_run_process


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Long tests start first: each module holding a ``@pytest.mark.slow`` test (a 30 s
    load, an 11 s pause, a Dask cluster, a browser) is moved, whole, to the front of one
    xdist worker's share, the modules dealt round-robin over the workers.

    ``--dist worksteal`` first hands worker k the k-th of n equal consecutive runs of
    this list and later steals from the *ends* of the queues, so a module at the front of a
    share starts at once and stays on its worker (its module-scoped server is started
    once), and its wall-clock waits overlap with the other workers' CPU work instead of
    being the last thing the run waits for. Every worker computes the same order from the
    same collection (xdist checks that).
    """
    n = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    module = {i: i.getparent(pytest.Module) for i in items}
    slow = list(dict.fromkeys(module[i] for i in items if i.get_closest_marker("slow")))
    if not slow:
        return
    first: list[list[pytest.Item]] = [[] for _ in range(n)]
    for k, m in enumerate(slow):
        first[k % n] += [i for i in items if module[i] is m]
    rest = [i for i in items if module[i] not in slow]
    # the share sizes worksteal cuts: len // n, then what is left // (n - 1), ...
    shares: list[list[pytest.Item]] = []
    left = len(items)
    for k in range(n):
        size = left // (n - k)
        left -= size
        take = max(0, size - len(first[k]))
        shares.append(first[k] + rest[:take])
        rest = rest[take:]
    shares[-1] += rest
    items[:] = [i for share in shares for i in share]
