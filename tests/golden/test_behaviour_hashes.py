"""Same seed, same bytes: every guarded command still prints and captures exactly what
was recorded in ``behaviour.json`` (see ``golden_hashes.py`` for how to regenerate after
an intentional change). One test per case, so xdist spreads them over the workers."""

from __future__ import annotations

import json

import pytest
from golden_hashes import CASES, RECORD, run_case

RECORDED = json.loads(RECORD.read_text())


def test_every_case_is_recorded() -> None:
    assert sorted(RECORDED) == sorted(CASES)


@pytest.mark.parametrize("name", list(CASES))
def test_behaviour_hashes(name: str) -> None:
    assert run_case(name) == RECORDED[name], (
        f"same-seed output of {' '.join(CASES[name])!r} changed; if intended, regenerate "
        "with `python tests/golden/golden_hashes.py --write` and say why in the commit"
    )
