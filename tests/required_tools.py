"""The one place a test says it needs a program (or root) it cannot run without.

Locally a missing tool skips the test, with its name. With ``MINTERNET_REQUIRE_TOOLS=1``
(``.ci/run`` sets it) a missing tool fails the test instead: CI must not go green because a
Debian package went missing. Use the marker, ``@pytest.mark.tools("tshark", "dig")``
(module-wide: ``pytestmark = pytest.mark.tools(...)``), which ``conftest.py`` checks
before each test, or call :func:`require_tools` inside a test.

Names are programs on ``PATH``, plus two pseudo-tools: ``root`` (effective uid 0) and an
absolute path that must exist (``/dev/net/tun``). :data:`NETNS` is what the tests that make
network namespaces and TAP devices need. A kernel that lacks a *feature* (``sch_netem``) is
not a missing tool: such tests keep an explicit ``pytest.skip`` naming the feature.
"""

from __future__ import annotations

import os
import shutil

import pytest

REQUIRE_ENV = "MINTERNET_REQUIRE_TOOLS"

#: root, the TUN/TAP device and iproute2: network namespaces and TAP devices.
NETNS = ("root", "/dev/net/tun", "ip")


def missing_tools(*tools: str) -> list[str]:
    """The names among ``tools`` that this machine lacks."""

    def present(tool: str) -> bool:
        if tool == "root":
            return os.geteuid() == 0
        if tool.startswith("/"):
            return os.path.exists(tool)
        return shutil.which(tool) is not None

    return [t for t in tools if not present(t)]


def require_tools(*tools: str) -> None:
    """Skip the running test unless every tool is here; fail under MINTERNET_REQUIRE_TOOLS=1."""
    gone = missing_tools(*tools)
    if not gone:
        return
    why = f"needs {', '.join(gone)}"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{why} ({REQUIRE_ENV}=1: a missing tool is a failure)", pytrace=False)
    pytest.skip(why)
