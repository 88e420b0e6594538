"""The key cache (``drivers/keycache``): a seeded RSA key built from stored primes is the key
the generator mints, byte for byte; a damaged, implausible or other generator's file is never
used; a folder that cannot be written only costs time."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from clitools import CliRunner
from minternet.drivers.entropy import SystemRandom
from minternet.drivers.keycache import ENV, PrimeFiles, key_cache_folder, use_key_cache
from minternet.tls import keygen
from minternet.tls.primestore import prime_store, use_prime_store

# A seed no other test mints (1024-bit keys: the same code path, a quarter of the work).
SEED = hashlib.sha256(b"test_pki_keycache").digest()
BITS = 1024


def mint() -> bytes:
    """The key for SEED, past the in-process cache, as PKCS#8 DER."""
    key = keygen._rsa_from_seed.__wrapped__(SEED, BITS)
    return key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())


class Counting(PrimeFiles):
    def __init__(self, folder: Path, version: bytes | None = None) -> None:
        super().__init__(folder, version)
        self.loaded: list[tuple[int, int] | None] = []
        self.saved = 0

    def load(self, seed: bytes, bits: int) -> tuple[int, int] | None:
        got = super().load(seed, bits)
        self.loaded.append(got)
        return got

    def save(self, seed: bytes, bits: int, p: int, q: int) -> None:
        self.saved += 1
        super().save(seed, bits, p, q)


@pytest.fixture(scope="module")
def fresh() -> bytes:
    """The key minted with no store at all."""
    saved = prime_store()
    use_prime_store(None)
    try:
        return mint()
    finally:
        use_prime_store(saved)


@pytest.fixture
def lend() -> Iterator[None]:
    """Tests lend their own store; the session's comes back after."""
    saved = prime_store()
    yield
    use_prime_store(saved)


def test_stored_primes_give_the_minted_key(tmp_path: Path, fresh: bytes, lend: None) -> None:
    store = Counting(tmp_path)
    use_prime_store(store)
    assert mint() == fresh
    assert store.saved == 1 and store.loaded == [None]
    [file] = tmp_path.iterdir()
    assert file.name.startswith("rsa1024-")
    assert mint() == fresh  # built from the file this time
    assert store.saved == 1 and store.loaded[1] is not None
    # A fresh store on the same folder (another process) reads the same file.
    again = Counting(tmp_path)
    use_prime_store(again)
    assert mint() == fresh and again.saved == 0


def test_a_damaged_file_is_minted_again(tmp_path: Path, fresh: bytes, lend: None) -> None:
    store = Counting(tmp_path)
    use_prime_store(store)
    mint()
    [file] = tmp_path.iterdir()
    p, q, check, _ = file.read_text().split("\n")
    file.write_text(f"{int(p, 16) + 2:x}\n{q}\n{check}\n")  # another odd p, old checksum
    assert mint() == fresh
    assert store.loaded[-1] is None and store.saved == 2
    assert file.read_text().split("\n")[0] == p  # written again, whole


def test_implausible_primes_are_not_used(fresh: bytes, lend: None) -> None:
    class Lying:
        def __init__(self) -> None:
            self.saved: list[tuple[int, int]] = []

        def load(self, seed: bytes, bits: int) -> tuple[int, int] | None:
            return (1 << 511) | 1, (1 << 511) | 3  # wrong top bits, too close together

        def save(self, seed: bytes, bits: int, p: int, q: int) -> None:
            self.saved.append((p, q))

    lying = Lying()
    use_prime_store(lying)
    assert mint() == fresh
    assert len(lying.saved) == 1


def test_another_generator_reads_other_files(tmp_path: Path, lend: None) -> None:
    old, new = Counting(tmp_path, b"generator 1"), Counting(tmp_path, b"generator 2")
    use_prime_store(old)
    mint()
    use_prime_store(new)
    mint()
    assert new.loaded == [None] and new.saved == 1
    assert len(list(tmp_path.iterdir())) == 2


def test_a_folder_that_cannot_be_written_only_costs_time(
    tmp_path: Path, fresh: bytes, lend: None
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    use_prime_store(PrimeFiles(blocked / "keys"))
    assert mint() == fresh
    assert blocked.read_text() == "not a folder"


def test_the_folder_comes_from_the_environment(tmp_path: Path, lend: None) -> None:
    assert key_cache_folder({ENV: "off"}) is None
    assert key_cache_folder({ENV: ""}) is None
    assert key_cache_folder({ENV: "/srv/keys", "XDG_CACHE_HOME": "/c"}) == Path("/srv/keys")
    assert key_cache_folder({"XDG_CACHE_HOME": "/c"}) == Path("/c/minternet/keys")
    assert key_cache_folder({"HOME": "/home/u"}) == Path("/home/u/.cache/minternet/keys")
    store = use_key_cache({ENV: str(tmp_path)})
    assert store is not None and store.folder == tmp_path and prime_store() is store
    assert use_key_cache({ENV: "off"}) is None and prime_store() is None


def test_the_command_line_lends_the_cache(run_cli: CliRunner, tmp_path: Path, lend: None) -> None:
    run_cli("world", env={ENV: str(tmp_path)})
    store = prime_store()
    assert isinstance(store, PrimeFiles) and store.folder == tmp_path


def test_keys_from_the_os_entropy_are_never_kept(tmp_path: Path, lend: None) -> None:
    store = Counting(tmp_path)
    use_prime_store(store)
    a, b = (keygen.generate_rsa_key(SystemRandom(), BITS) for _ in range(2))
    assert a.private_numbers() != b.private_numbers()
    assert store.loaded == [] and store.saved == 0 and not list(tmp_path.iterdir())


def test_openssls_composite_proofs_leave_the_seeded_primes_as_they_were(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """keygen lets OpenSSL reject composite candidates first (``_proven_composite``) and
    draws the base the Python round would have drawn: the primes are those of the Python
    test alone."""
    seeds = [hashlib.sha256(b"prefilter %d" % i).digest() for i in range(6)]
    fast = [keygen._primes_from_seed(s, BITS) for s in seeds]
    monkeypatch.setattr(keygen, "_proven_composite", lambda n: False)
    assert [keygen._primes_from_seed(s, BITS) for s in seeds] == fast
    monkeypatch.undo()
    # The test proves only compositeness: a Carmichael number, products, never a prime.
    p, q = fast[0]
    assert keygen._proven_composite(p * q) and keygen._proven_composite(561 * p)
    assert not keygen._proven_composite(p) and not keygen._proven_composite((1 << 521) - 1)
