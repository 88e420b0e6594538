"""Same seed, same bytes: every guarded command still prints and captures exactly what
was recorded in ``behaviour.json`` (see ``golden_hashes.py`` for how to regenerate after
an intentional change). One test per case, so xdist spreads them over the workers.

The cases run in this interpreter (``minternet.cli.main``, stdout captured as a pipe), one
after another in each worker: that also guards against state one run leaves for the next
(a cache that changes bytes). The hashes were recorded in fresh interpreters, and a few
cases run in one here too, so both ways are held to the same bytes."""

from __future__ import annotations

import json

import pytest
from golden_hashes import CASES, RECORD, TERMINAL, in_a_process, run_case

from clitools import main_in_process

RECORDED = json.loads(RECORD.read_text())

#: Also run in a fresh interpreter (the default fetch, and a command that is no fetch).
IN_A_PROCESS = ("fetch", "dig-trace")


def in_this_process(args: tuple[str, ...]) -> tuple[int, bytes]:
    status, out, _ = main_in_process(args, env=TERMINAL)
    return status, out


def test_every_case_is_recorded() -> None:
    assert sorted(RECORDED) == sorted(CASES)


def _changed(name: str) -> str:
    return (
        f"same-seed output of {' '.join(CASES[name])!r} changed; if intended, regenerate "
        "with `python tests/golden/golden_hashes.py --write` and say why in the commit"
    )


@pytest.mark.parametrize("name", list(CASES))
def test_behaviour_hashes(name: str) -> None:
    assert run_case(name, in_this_process) == RECORDED[name], _changed(name)


@pytest.mark.parametrize("name", IN_A_PROCESS)
def test_behaviour_hashes_in_a_fresh_interpreter(name: str) -> None:
    assert run_case(name, in_a_process) == RECORDED[name], _changed(name)
