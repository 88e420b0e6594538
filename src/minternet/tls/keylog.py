"""NSS key log lines (the format Wireshark, curl and Firefox use for SSLKEYLOGFILE).

TLS 1.2 needs one line per connection: ``CLIENT_RANDOM <client_random hex> <master hex>``.
"""

from __future__ import annotations

from typing import Protocol


class TextSink(Protocol):
    def write(self, s: str, /) -> int: ...

    def flush(self) -> None: ...


def client_random_line(client_random: bytes, master_secret: bytes) -> str:
    """``CLIENT_RANDOM <64 hex digits> <96 hex digits>`` (no newline)."""
    if len(client_random) != 32 or len(master_secret) != 48:
        raise ValueError("client random is 32 bytes and the master secret 48")
    return f"CLIENT_RANDOM {client_random.hex()} {master_secret.hex()}"


class KeyLogFile:
    """Appends lines to a text file (an edge object: the caller opens the file)."""

    def __init__(self, sink: TextSink) -> None:
        self._sink = sink

    def __call__(self, line: str) -> None:
        self._sink.write(line + "\n")
        self._sink.flush()
