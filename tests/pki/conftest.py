"""Fixtures of the PKI tests: one simulated PKI per test process (key generation is cached)."""

from __future__ import annotations

import pytest

from minternet.randomness import SeededRandom
from minternet.tls.pki import SIM_EPOCH, Pki


@pytest.fixture(scope="session")
def pki() -> Pki:
    return Pki.create(SeededRandom(2026), SIM_EPOCH)


@pytest.fixture(scope="session")
def ec_pki() -> Pki:
    return Pki.create(SeededRandom(2026), SIM_EPOCH, key_type="ecdsa", name="minternet-ec")
