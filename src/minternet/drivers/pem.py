"""PEM files on disk: trust stores read and credentials written at the edge.

The TLS cores take and give bytes and objects (:meth:`TrustStore.add_pem`,
:meth:`Credentials.cert_pem`, :meth:`Credentials.key_pem`); the file system is touched here,
by the CLI, the drivers, tests and benchmarks.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from ..tls.pki import Credentials
from ..tls.verify import TrustStore


def load_trust_store(*paths: str | Path) -> TrustStore:
    """A trust store holding every certificate in these PEM files (a CA bundle)."""
    store = TrustStore()
    for p in paths:
        try:
            data = Path(p).read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read trust store {p}: {exc.strerror}") from None
        store.add_pem(data, str(p))
    return store


def write_credentials(
    credentials: Credentials, cert_path: str | Path, key_path: str | Path
) -> None:
    """The chain (leaf first) to ``cert_path`` and the private key, readable by its owner
    only, to ``key_path`` — what nginx's ``ssl_certificate`` and ``ssl_certificate_key`` read."""
    Path(cert_path).write_bytes(credentials.cert_pem())
    Path(key_path).write_bytes(credentials.key_pem())
    Path(key_path).chmod(0o600)
