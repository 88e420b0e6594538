"""The panels read back by the standard library's XML parser (each fragment must be
well-formed XML as well as HTML), and tshark's reading of a run's pcapng.

Imported as a plain module by the panel tests (``from panel_dom import …``).
"""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from clitools import run_in_process


def parse(fragment: str) -> ET.Element:
    """The fragment under one root element; raises if it is not well-formed."""
    return ET.fromstring(f"<root>{fragment}</root>")


def classes(el: ET.Element) -> list[str]:
    return (el.get("class") or "").split()


def having(root: ET.Element, cls: str) -> list[ET.Element]:
    """Every element whose class list holds ``cls``, in document order."""
    return [el for el in root.iter() if cls in classes(el)]


def text(el: ET.Element) -> str:
    return "".join(el.itertext()).strip()


def minternet(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the command line as a user does, from this checkout (in this interpreter:
    ``clitools.run_in_process``)."""
    return run_in_process(*args, check=False)


def tshark(path: Path, *args: str) -> list[str]:
    out = subprocess.run(
        ["tshark", "-r", str(path), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return [line for line in out.stdout.splitlines() if line.strip()]


def fields(path: Path, display_filter: str, *names: str) -> list[list[str]]:
    """tshark's ``-T fields`` for the frames matching ``display_filter``."""
    args = ["-Y", display_filter, "-T", "fields"]
    for n in names:
        args += ["-e", n]
    return [line.split("\t") for line in tshark(path, *args)]


def table(path: Path, *names: str) -> list[dict[str, str]]:
    """tshark's ``-T fields`` for every frame of ``path`` (one pass over the file): one
    dict per frame, ``name → value`` (a field that occurs more than once is
    comma-separated, a field the frame lacks is ``""``). Tests that ask several questions
    of one capture select rows from this instead of running tshark once per filter."""
    args = ["-T", "fields", "-E", "occurrence=a", "-E", "separator=\t"]
    for n in names:
        args += ["-e", n]
    out = subprocess.run(
        ["tshark", "-r", str(path), *args], capture_output=True, text=True, timeout=600, check=True
    )
    return [dict(zip(names, line.split("\t"), strict=True)) for line in out.stdout.splitlines()]


def has(row: dict[str, str], name: str, value: str) -> bool:
    """What ``name == value`` means in a display filter: some occurrence of it equals."""
    return value in row[name].split(",")


def capture_point(path: Path, iface: str, out: Path) -> Path:
    """The frames of one interface only (as if tcpdump ran there), written by tshark."""
    subprocess.run(
        ["tshark", "-r", str(path), "-Y", f'frame.interface_name == "{iface}"', "-w", str(out)],
        capture_output=True,
        timeout=600,
        check=True,
    )
    return out
