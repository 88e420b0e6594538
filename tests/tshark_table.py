"""tshark's reading of a capture as a table: one pass over the file, one row per frame
(imported as a plain module: ``from tshark_table import table, has``).

tshark costs ~0.25 CPU s to start, whatever it then reads; a test that asks several
questions of one capture selects rows from one :func:`table` instead of running tshark once
per display filter.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path


def table(path: Path, *names: str, options: Sequence[str] = ()) -> list[dict[str, str]]:
    """tshark's ``-T fields`` for every frame of ``path`` (one pass over the file): one
    dict per frame, ``name → value`` (a field that occurs more than once is
    comma-separated, a field the frame lacks is ``""``). ``options`` go before the fields
    (``-o tls.keylog_file:…``)."""
    args = [*options, "-T", "fields", "-E", "occurrence=a", "-E", "separator=\t"]
    for n in names:
        args += ["-e", n]
    out = subprocess.run(
        ["tshark", "-r", str(path), *args], capture_output=True, text=True, timeout=600, check=True
    )
    return [dict(zip(names, line.split("\t"), strict=True)) for line in out.stdout.splitlines()]


def has(row: dict[str, str], name: str, value: str) -> bool:
    """What ``name == value`` means in a display filter: some occurrence of it equals."""
    return value in row[name].split(",")


def protocols(row: dict[str, str]) -> list[str]:
    """The frame's protocols, outermost first (the row must hold ``frame.protocols``): a
    display filter naming a protocol (``dhcp``) matches when it is among them."""
    return row["frame.protocols"].split(":")


#: Expert-info severities as ``_ws.expert.severity`` prints them (epan/proto.h's PI_WARN,
#: PI_ERROR): a display filter's ``_ws.expert.severity >= warning``.
WARNING, ERROR = 0x00600000, 0x00800000


def severity_at_least(row: dict[str, str], level: int) -> bool:
    """What ``_ws.expert.severity >= level`` means in a display filter: some expert item of
    the frame is that severe (the row must hold ``_ws.expert.severity``)."""
    return any(int(s, 0) >= level for s in row["_ws.expert.severity"].split(",") if s)
