"""Options shared by the commands (seed, output, faults), declared once.

Use them as decorators: ``@seed_option``, ``@json_option``, ``@pcap_option``,
``@fault_options`` (adds ``loss, latency, reorder, duplicate, corrupt``; turn them into
:class:`~minternet.sim.faults.Faults` with :func:`faults_from`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..errors import ConfigError
from ..sim.faults import Faults

F = TypeVar("F", bound=Callable[..., Any])

seed_option = click.option(
    "--seed", type=int, default=1, show_default=True, help="Seed of every random choice."
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
pcap_option = click.option(
    "--pcap",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write every frame to this pcapng file (opens in Wireshark).",
)
world_option = click.option(
    "--world",
    "world_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A TOML world description instead of the built-in world.",
)

_PROB = click.FloatRange(0.0, 1.0)


def fault_options(f: F) -> F:
    """Add ``--loss --latency --reorder --duplicate --corrupt`` (applied to every link)."""
    for opt in reversed(
        [
            click.option("--loss", type=_PROB, default=0.0, help="Probability a frame is lost."),
            click.option(
                "--latency", type=click.FloatRange(0.0), default=0.0, help="Extra latency, ms."
            ),
            click.option("--reorder", type=_PROB, default=0.0, help="Probability of reordering."),
            click.option("--duplicate", type=_PROB, default=0.0, help="Probability of a copy."),
            click.option("--corrupt", type=_PROB, default=0.0, help="Probability of a bit flip."),
        ]
    ):
        f = opt(f)
    return f


def faults_from(
    loss: float, latency: float, reorder: float, duplicate: float, corrupt: float
) -> Faults:
    """:class:`Faults` from the command-line values (latency given in milliseconds)."""
    try:
        return Faults(loss, reorder, duplicate, corrupt, latency / 1000.0)
    except ValueError as e:
        raise ConfigError(str(e)) from None
