"""The panels read back by the standard library's XML parser (each fragment must be
well-formed XML as well as HTML), and tshark's reading of a run's pcapng.

Imported as a plain module by the panel tests (``from panel_dom import …``).
"""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from clitools import run_in_process
from tshark_table import has as has
from tshark_table import table as table


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


def capture_point(path: Path, iface: str, out: Path) -> Path:
    """The frames of one interface only (as if tcpdump ran there), written by tshark."""
    subprocess.run(
        ["tshark", "-r", str(path), "-Y", f'frame.interface_name == "{iface}"', "-w", str(out)],
        capture_output=True,
        timeout=600,
        check=True,
    )
    return out
