"""Helpers that run one of our machines against OpenSSL (Python ``ssl`` + MemoryBIO)."""

from __future__ import annotations

import ssl
from typing import Any

from minternet.tls.connection import Event, TlsConnection


def pump_openssl(
    ours: TlsConnection, obj: ssl.SSLObject, inc: ssl.MemoryBIO, out: ssl.MemoryBIO
) -> tuple[list[Event], bool]:
    """Run both sides until neither moves; returns our events and whether OpenSSL finished."""
    events: list[Event] = []
    done = False
    for _ in range(50):
        moved = False
        data = ours.data_to_send()
        if data:
            inc.write(data)
            moved = True
        if not done:
            try:
                obj.do_handshake()
                done = True
                moved = True
            except ssl.SSLWantReadError:
                pass
        back = out.read()
        if back:
            events += ours.receive_data(back)
            moved = True
        if not moved:
            break
    return events, done


def openssl_read_all(obj: ssl.SSLObject) -> bytes:
    got = b""
    while True:
        try:
            chunk = obj.read(65536)
        except ssl.SSLWantReadError:
            return got
        if not chunk:
            return got
        got += chunk


def kinds(events: list[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


def shuttle(
    client: TlsConnection, server: TlsConnection, chunk: int | None = None, rounds: int = 20
) -> tuple[list[Event], list[Event]]:
    """Move bytes between two of our machines until quiet (optionally ``chunk`` bytes at a time)."""
    ce: list[Event] = []
    se: list[Event] = []
    for _ in range(rounds):
        a = client.data_to_send()
        b = server.data_to_send()
        if not a and not b:
            break
        for i in range(0, len(a), chunk or max(1, len(a))):
            se += server.receive_data(a[i : i + (chunk or len(a))])
        for i in range(0, len(b), chunk or max(1, len(b))):
            ce += client.receive_data(b[i : i + (chunk or len(b))])
    return ce, se
