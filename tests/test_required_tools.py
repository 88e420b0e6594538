"""``MINTERNET_REQUIRE_TOOLS=1`` turns a missing tool from a skip into a failure."""

from __future__ import annotations

import pytest

from required_tools import REQUIRE_ENV, missing_tools, require_tools

ABSENT = "minternet-no-such-program"


def test_a_missing_tool_skips_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match=f"needs {ABSENT}"):
        require_tools("sh", ABSENT)


def test_a_missing_tool_fails_when_tools_are_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=f"needs {ABSENT}, /nonexistent"):
        require_tools(ABSENT, "/nonexistent", "sh")


def test_present_tools_and_pseudo_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_ENV, "1")
    require_tools("sh", "/")  # nothing raised
    assert missing_tools("sh", "/", ABSENT) == [ABSENT]


def test_ci_requires_the_tools() -> None:
    from clitools import ROOT

    assert f"export {REQUIRE_ENV}=1" in (ROOT / ".ci" / "run").read_text()
