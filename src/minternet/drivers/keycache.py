"""The primes of seeded RSA keys kept in files, so a later process need not search again.

Minting a seed's PKI costs ~0.3 CPU s (three 2048-bit RSA keys: Miller–Rabin with Python's
``pow``), in every process that runs that seed. A seeded key follows from its seed alone, so
:class:`PrimeFiles` (a :class:`~minternet.tls.primestore.PrimeStore`) keeps each key's ``p`` and
``q`` in a small file and the next process builds the same key from them. A file's name is a
hash of the seed, the key size and the source of ``tls/keygen.py`` (a changed generator
never reads an older one's files); it holds ``p``, ``q`` and a checksum over all of them
(a damaged file is ignored and written again). Files are written under a temporary name and
renamed, so processes minting at once never read half a file. These are no secrets: anyone
with the seed mints the same keys.

The folder is ``$MINTERNET_KEY_CACHE`` if set (empty or ``off``: no files), else
``$XDG_CACHE_HOME/minternet/keys`` (``~/.cache/minternet/keys``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ..tls.primestore import use_prime_store

__all__ = ["ENV", "PrimeFiles", "key_cache_folder", "use_key_cache"]

ENV = "MINTERNET_KEY_CACHE"


def generator_version() -> bytes:
    """A digest of the key generator's source: a changed generator gets new file names."""
    from ..tls import keygen  # imported already when a key is minted

    return hashlib.sha256(Path(keygen.__file__).read_bytes()).digest()


class PrimeFiles:
    """A :class:`~minternet.tls.primestore.PrimeStore` in ``folder`` (made on first save);
    ``version`` tells generators apart (default: :func:`generator_version`, read on first use)."""

    def __init__(self, folder: Path, version: bytes | None = None) -> None:
        self.folder = folder
        self.version = version

    def _name(self, seed: bytes, bits: int) -> str:
        if self.version is None:
            self.version = generator_version()
        h = hashlib.sha256(b"minternet rsa primes\0" + self.version + seed + bits.to_bytes(4))
        return f"rsa{bits}-{h.hexdigest()[:40]}"

    def _checksum(self, name: str, p: int, q: int) -> str:
        return hashlib.sha256(f"{name}\n{p:x}\n{q:x}\n".encode()).hexdigest()

    def load(self, seed: bytes, bits: int) -> tuple[int, int] | None:
        try:
            name = self._name(seed, bits)
            lines = (self.folder / name).read_text(encoding="ascii").split("\n")
            p, q = int(lines[0], 16), int(lines[1], 16)
        except (OSError, ValueError, IndexError, UnicodeDecodeError):
            return None
        if lines[2:3] != [self._checksum(name, p, q)]:
            return None
        return p, q

    def save(self, seed: bytes, bits: int, p: int, q: int) -> None:
        try:
            name = self._name(seed, bits)
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=self.folder)
        except OSError:
            return  # only a cache: the next process mints the key again
        try:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(f"{p:x}\n{q:x}\n{self._checksum(name, p, q)}\n")
            os.replace(tmp, self.folder / name)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def key_cache_folder(environ: Mapping[str, str]) -> Path | None:
    """The folder ``environ`` names for the key cache (see the module's docstring), or None."""
    given = environ.get(ENV)
    if given is not None:
        return None if given.strip() in ("", "off") else Path(given)
    if xdg := environ.get("XDG_CACHE_HOME"):
        return Path(xdg) / "minternet" / "keys"
    home = environ.get("HOME")
    return (Path(home) if home else Path.home()) / ".cache" / "minternet" / "keys"


def use_key_cache(environ: Mapping[str, str] | None = None) -> PrimeFiles | None:
    """Lend the key generator the folder ``environ`` (default: ``os.environ``) names."""
    try:
        folder = key_cache_folder(os.environ if environ is None else environ)
    except RuntimeError:  # no home folder to find ~/.cache in
        folder = None
    store = None if folder is None else PrimeFiles(folder)
    use_prime_store(store)
    return store
