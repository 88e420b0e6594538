"""Shared fixtures. Tests import the package from this checkout's ``src`` (see pyproject)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

# CI runs every property test with the same examples (a red build is then reproducible);
# developers get fresh examples each run. Both keep deadlines off: the machines are shared.
settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")

from clitools import CliRunner, cli_env  # noqa: E402  (plain module beside this file)
from required_tools import require_tools  # noqa: E402


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
    """Run ``minternet ARGS…`` as a user would, in a subprocess, from this checkout."""

    def run(
        *args: str, check: bool = True, timeout: float = 120, **kw: object
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "minternet", *args],
            capture_output=True,
            text=True,
            env=cli_env(),
            timeout=timeout,
            **kw,  # type: ignore[arg-type]
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"minternet {' '.join(args)} exited {proc.returncode}\n"
                f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
            )
        return proc

    return run
