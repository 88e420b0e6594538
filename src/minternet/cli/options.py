"""The options commands share, each declared once, and the five faults as one typed value.

Use them as decorators: ``@seed_option``, ``@world_option``, ``@pcap_option``,
``@json_option``, ``@html_option``, ``@keylog_option``, ``@cafile_option``, ``@site_option``,
``@cipher_option``, ``@output_option``, ``@fault_options`` (adds ``--loss --latency
--reorder --duplicate --corrupt`` and hands the command one ``faults:``
:class:`FaultOptions`) and ``@simulation_options`` (``--seed --json --pcap --world`` and the
faults, handed over as one ``sim:`` :class:`SimOptions`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from ..errors import ConfigError
from ..sim.faults import Faults

F = TypeVar("F", bound=Callable[..., Any])

_FILE_IN = click.Path(exists=True, dir_okay=False, path_type=Path)
_FILE_OUT = click.Path(dir_okay=False, path_type=Path)

seed_option = click.option(
    "--seed",
    type=int,
    default=1,
    show_default=True,
    help="Seed of every random choice (simulated runs).",
)
world_option = click.option(
    "--world",
    "world_file",
    type=_FILE_IN,
    default=None,
    help="A TOML world description instead of the built-in world.",
)
pcap_option = click.option(
    "--pcap",
    type=_FILE_OUT,
    default=None,
    help="Write every frame to this pcapng file (opens in Wireshark).",
)
html_option = click.option(
    "--html",
    "html",
    type=_FILE_OUT,
    default=None,
    help="Write the run as one self-contained HTML page (topology, ladder, bytes, story, "
    "play; opens from file:// with no network).",
)
json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object (on failure too, with what failed).",
)
keylog_option = click.option(
    "--keylog",
    type=_FILE_OUT,
    default=None,
    help="Write the TLS secrets to this file (NSS key log format, for Wireshark).",
)
cafile_option = click.option(
    "--cafile",
    type=_FILE_IN,
    multiple=True,
    help="Trust the CA certificates of this PEM file (repeatable).",
)
site_option = click.option(
    "--site",
    "site_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Serve the files of this directory (default: the built-in page).",
)
output_option = click.option(
    "-o",
    "--output",
    type=_FILE_OUT,
    default=None,
    help="Write the body, byte for byte, to this file.",
)
cipher_option = click.option(
    "--cipher",
    multiple=True,
    metavar="NAME",
    help="Only this cipher suite (IANA or OpenSSL name; repeatable).",
)

_PROB = click.FloatRange(0.0, 1.0)
_FAULT_OPTIONS = (
    click.option("--loss", type=_PROB, default=0.0, help="Probability a frame is lost."),
    click.option("--latency", type=click.FloatRange(0.0), default=0.0, help="Extra latency, ms."),
    click.option("--reorder", type=_PROB, default=0.0, help="Probability of reordering."),
    click.option("--duplicate", type=_PROB, default=0.0, help="Probability of a copy."),
    click.option("--corrupt", type=_PROB, default=0.0, help="Probability of a bit flip."),
)


@dataclass(frozen=True, slots=True)
class FaultOptions:
    """The five fault options as given on the command line (latency in milliseconds, kept
    as typed so reports echo it exactly); :attr:`faults` is the simulator's value."""

    loss: float = 0.0
    latency_ms: float = 0.0
    reorder: float = 0.0
    duplicate: float = 0.0
    corrupt: float = 0.0

    @property
    def faults(self) -> Faults:
        """The :class:`~minternet.sim.faults.Faults` every link of the world gets."""
        try:
            return Faults(
                self.loss, self.reorder, self.duplicate, self.corrupt, self.latency_ms / 1000.0
            )
        except ValueError as e:
            raise ConfigError(str(e)) from None

    @property
    def any(self) -> bool:
        return self.faults.any

    def as_dict(self) -> dict[str, Any]:
        """The options as reports print them (``latency_ms`` as typed)."""
        return {
            "loss": self.loss,
            "latency_ms": self.latency_ms,
            "reorder": self.reorder,
            "duplicate": self.duplicate,
            "corrupt": self.corrupt,
        }

    def summary(self) -> str:
        """``loss 0.1, reorder 0.05, +20 ms latency``: the faults that are on."""
        probs = (
            ("loss", self.loss),
            ("reorder", self.reorder),
            ("duplicate", self.duplicate),
            ("corrupt", self.corrupt),
        )
        parts = [f"{k} {v:g}" for k, v in probs if v]
        if self.latency_ms:
            parts.append(f"+{self.latency_ms:g} ms latency")
        return ", ".join(parts)


def tls_option(default: str | None = "both", help: str = "") -> Callable[[F], F]:
    """``--tls 1.2|1.3|both`` (as ``tls_version``): the TLS versions to speak; with both,
    1.3 is preferred and 1.2 the fallback (what browsers do)."""
    return click.option(
        "--tls",
        "tls_version",
        type=click.Choice(["1.2", "1.3", "both"]),
        default=default,
        show_default=default is not None,
        help=help or "TLS version(s) to speak; with both, 1.3 is preferred, 1.2 the fallback.",
    )


def fault_options(f: F) -> F:
    """Add ``--loss --latency --reorder --duplicate --corrupt`` (applied to every link); the
    command receives them as one ``faults: FaultOptions`` argument."""

    @functools.wraps(f)
    def command(
        *args: Any,
        loss: float,
        latency: float,
        reorder: float,
        duplicate: float,
        corrupt: float,
        **kwargs: Any,
    ) -> Any:
        return f(*args, faults=FaultOptions(loss, latency, reorder, duplicate, corrupt), **kwargs)

    decorated: Any = command
    for opt in reversed(_FAULT_OPTIONS):
        decorated = opt(decorated)
    return decorated  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class SimOptions:
    """What every simulator command takes: the world (``--world``), its ``--seed`` and
    faults, and the outputs (``--json``, ``--pcap``)."""

    seed: int
    world_file: Path | None
    faults: FaultOptions
    pcap: Path | None
    as_json: bool


def simulation_options(f: F) -> F:
    """Add ``--seed --json --pcap --world`` and the fault options; the command receives
    them as one ``sim: SimOptions`` argument."""

    @functools.wraps(f)
    def command(
        *args: Any,
        seed: int,
        as_json: bool,
        pcap: Path | None,
        world_file: Path | None,
        faults: FaultOptions,
        **kwargs: Any,
    ) -> Any:
        return f(*args, sim=SimOptions(seed, world_file, faults, pcap, as_json), **kwargs)

    decorated: Any = fault_options(command)
    for opt in reversed((seed_option, json_option, pcap_option, world_option)):
        decorated = opt(decorated)
    return decorated  # type: ignore[no-any-return]
