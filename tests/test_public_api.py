"""The public API is what ``minternet`` exports; every name in ``__all__`` resolves."""

from __future__ import annotations

import subprocess
import sys

import pytest

import minternet
from clitools import cli_env


@pytest.mark.parametrize("name", minternet.__all__)
def test_every_exported_name_resolves(name: str) -> None:
    assert getattr(minternet, name) is not None


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError):
        _ = minternet.NoSuchThing  # type: ignore[attr-defined]


def test_importing_the_package_loads_no_protocol_layer() -> None:
    layers = ("minternet.tls", "minternet.tcp", "cryptography")
    code = f"import sys, minternet; print(sorted(m for m in sys.modules if m.startswith({layers})))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), check=True
    ).stdout
    assert out.strip() == "[]"


def test_importing_the_package_loads_nothing_else_of_ours() -> None:
    # PEP 562: every public name is imported on first use, so a core that imports the
    # package first (every ``minternet.x`` does) gets no loop, simulator or trace with it.
    code = "import sys, minternet; print(sorted(m for m in sys.modules if m.startswith('minter')))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), check=True
    ).stdout
    assert out.strip() == "['minternet']"
