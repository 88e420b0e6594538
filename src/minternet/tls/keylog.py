"""NSS key log lines (the format Wireshark, curl and Firefox use for SSLKEYLOGFILE).

TLS 1.2 needs one line per connection: ``CLIENT_RANDOM <client_random hex> <master hex>``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class TextSink(Protocol):
    def write(self, s: str, /) -> int: ...

    def flush(self) -> None: ...


def client_random_line(client_random: bytes, master_secret: bytes) -> str:
    """``CLIENT_RANDOM <64 hex digits> <96 hex digits>`` (no newline)."""
    if len(client_random) != 32 or len(master_secret) != 48:
        raise ValueError("client random is 32 bytes and the master secret 48")
    return f"CLIENT_RANDOM {client_random.hex()} {master_secret.hex()}"


def read_key_log(lines: Iterable[str]) -> dict[bytes, dict[str, bytes]]:
    """The secrets of NSS key log lines (``LABEL <client random hex> <secret hex>``):
    client random → label → secret. Lines of another shape or with bad hex are skipped;
    a later line for the same client random and label wins."""
    out: dict[bytes, dict[str, bytes]] = {}
    for line in lines:
        parts = line.split()
        if len(parts) != 3:
            continue
        try:
            random, secret = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
        except ValueError:
            continue
        out.setdefault(random, {})[parts[0]] = secret
    return out


class KeyLogFile:
    """Appends lines to a text file (an edge object: the caller opens the file)."""

    def __init__(self, sink: TextSink) -> None:
        self._sink = sink

    def __call__(self, line: str) -> None:
        self._sink.write(line + "\n")
        self._sink.flush()
