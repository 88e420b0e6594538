"""``minternet sweep``: many seeded runs over a grid of conditions, on one machine or a cluster.

``minternet sweep [SPEC.toml] --out DIR [--what …] [--seed 1..20] [--loss 0,0.1] …`` runs
every cell (checked first: a bad spec is one line and exit 2 before anything runs), writes
the rows into the Parquet dataset DIR as tasks finish, then draws the plots.
``minternet sweep plot DIR`` draws them again; ``minternet sweep csv DIR FILE`` exports.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from ..sweep.spec import AXES, WHATS, SweepSpec, Value, build_spec, load_spec_file, parse_values

F = TypeVar("F", bound=Callable[..., Any])


class _DefaultRun(click.Group):
    """A group whose default command is ``run``: ``sweep --loss …`` is ``sweep run --loss …``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and (args[0] in self.commands or args[0] in ("-h", "--help")):
            return super().parse_args(ctx, args)
        return super().parse_args(ctx, ["run", *args])


@click.group(name="sweep", cls=_DefaultRun)
def sweep() -> None:
    """Many seeded runs over a grid of conditions (default command: run).

    \b
      minternet sweep --out loss.parquet --seed 1..20 --loss 0,0.1,0.2 --kex rsa,ecdhe
      minternet sweep spec.toml --out results --scheduler tcp://10.0.0.5:8786
      minternet sweep plot loss.parquet
    """


def axis_options(f: F) -> F:
    """One option per sweep axis (``--seed``, ``--loss``, …), from the axes table."""
    for axis in reversed(AXES.values()):
        f = click.option(
            f"--{axis.name}",
            f"axis_{axis.name}",
            default=None,
            metavar="RANGE" if axis.kind == "int" else "A,B,…",
            help=f"{axis.help[0].upper()}{axis.help[1:]}"
            + (f" ({', '.join(axis.whats)})" if axis.whats != WHATS else ""),
        )(f)
    return f


def spec_from(spec_file: Path | None, what: str | None, axes: dict[str, str | None]) -> SweepSpec:
    """The checked spec: the file's grid and cells, flags overriding the file's grid."""
    file_what, grid, listed = (None, {}, []) if spec_file is None else load_spec_file(spec_file)
    flags: dict[str, list[Value]] = {
        name: parse_values(name, text) for name, text in axes.items() if text is not None
    }
    return build_spec(what or file_what, {**grid, **flags}, listed)


@sweep.command(name="run")
@click.argument(
    "spec_file",
    required=False,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="[SPEC.toml]",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The Parquet dataset (a folder); a rerun skips the cells already in it.",
)
@click.option("--what", type=click.Choice(WHATS), default=None, help="The run (default fetch).")
@axis_options
@click.option(
    "--engine",
    type=click.Choice(["local", "inline"]),
    default="local",
    show_default=True,
    help="local: an embedded Dask cluster, one worker process per core; inline: this process.",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="tcp://HOST:8786",
    help="Join an existing Dask cluster (dask scheduler / dask worker) instead.",
)
@click.option("--workers", type=click.IntRange(1, 256), default=None, help="Local workers.")
@click.option(
    "--batch",
    type=click.IntRange(1, 10_000),
    default=50,
    show_default=True,
    help="At most this many cells (of one seed) per task.",
)
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--plot/--no-plot", default=True, show_default=True, help="Draw the plots after.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def run_command(
    spec_file: Path | None,
    out: Path,
    what: str | None,
    engine: str,
    scheduler: str | None,
    workers: int | None,
    batch: int,
    csv_file: Path | None,
    plot: bool,
    quiet: bool,
    **axes: str | None,
) -> int:
    """Run every cell of the grid (SPEC.toml and/or the flags) into the dataset --out."""
    spec = spec_from(spec_file, what, {k.removeprefix("axis_"): v for k, v in axes.items()})
    from ..drivers.keycache import use_key_cache
    from ..errors import ConfigError
    from ..sweep.dataset import Dataset
    from ..sweep.engine import Engine
    from ..sweep.runner import run_sweep

    if scheduler is not None and engine == "inline":
        raise ConfigError("--scheduler and --engine inline: choose one")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: not a folder")
    if scheduler is not None and not scheduler.startswith(("tcp://", "tls://", "inproc://")):
        raise ConfigError(f"--scheduler {scheduler}: give an address like tcp://HOST:8786")
    eng = Engine(
        "scheduler" if scheduler else engine,  # type: ignore[arg-type]
        address=scheduler,
        workers=workers,
        batch=batch,
        # each worker process keeps and finds seeded keys where minternet there would
        # (its own MINTERNET_KEY_CACHE or ~/.cache), as this process does: a seed's PKI is
        # minted once on a machine, not in every worker, nor again on a rerun
        setup=use_key_cache,
    )
    con = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        outcome = run_sweep(spec, out, eng, console=con, progress=not quiet)
    except KeyboardInterrupt:
        have = len(Dataset(out).keys()) if Dataset(out).exists() else 0
        con.print(
            f"interrupted: {have} of {len(spec.cells)} cells are in {out}; "
            "run the same command again to compute the rest"
        )
        sys.exit(130)
    if outcome.computed or not outcome.skipped:
        rate = outcome.computed / max(outcome.wall, 1e-9)
        con.print(
            f"sweep: computed {outcome.computed} cells ({outcome.failed} runs failed) in "
            f"{outcome.wall:.1f} s, {rate:.1f} cells/s; {outcome.skipped} were already there"
        )
    dataset = Dataset(out)
    if csv_file is not None and dataset.exists():
        n = dataset.to_csv(csv_file)
        con.print(f"sweep: {n} rows → {csv_file}")
    if plot and dataset.exists():
        _plot(out, None, con)
    if outcome.task_failures:
        first = outcome.task_failures[0]
        lost = sum(len(f.cells) for f in outcome.task_failures)
        con.print(f"minternet: {lost} cells could not be run (rerun to retry): {first.error}")
        return 1
    return 0


def _plot(dataset: Path, out: Path | None, con: Console) -> None:
    from ..sweep.plots import draw, summary_table

    target = out or dataset / "plots"
    page = draw(dataset, target)
    out_con = Console(highlight=False)
    if not out_con.is_terminal:
        out_con = Console(highlight=False, width=max(out_con.width, 160))
    out_con.print(summary_table(dataset))
    con.print(f"plots: {page}")


@sweep.command(name="plot")
@click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the PNGs and index.html (default: DATASET/plots).",
)
def plot_command(dataset: Path, out: Path | None) -> None:
    """Draw a sweep's plots (PNG + an HTML page) and print its summary table."""
    _plot(dataset, out, Console(stderr=True, highlight=False, soft_wrap=True))


@sweep.command(name="csv")
@click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("csv_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE")
def csv_command(dataset: Path, csv_file: Path) -> None:
    """Export a sweep's rows to a CSV file."""
    from ..sweep.dataset import Dataset

    n = Dataset(dataset).to_csv(csv_file)
    click.echo(f"{n} rows → {csv_file}")
