"""What a sweep runs: a grid of cells, from a TOML file or from flags, checked before any run.

A cell is one deterministic simulated run — a ``fetch``, a ``tcp-transfer`` or a ``dig`` —
with every axis given a value (the axis's default where the sweep does not vary it), so two
ways of asking for the same run give the same cell and the same key. The key is a hash of the
cell and the minternet version: a dataset keeps one row per key, and a rerun skips the keys
it already has.

The axes live in one table, :data:`AXES`. Axes that are options of a run (``--kex``,
``--cipher``, and ``--cc``/``--tls`` once the runs take them) are passed to the run by name,
and their values are checked against what the run's options accept: the ``Literal`` choices
of the field of :class:`~minternet.apps.fetch_run.FetchOptions` (or the parameter of
:func:`~minternet.apps.tcp_transfer.run_transfer`) of that name. An axis the run does not
take yet is refused with one line, before anything runs; when a run grows the option, the
sweep takes it with no change here.

TOML::

    what = "fetch"            # fetch | tcp-transfer | dig
    [grid]                    # the cartesian product of these
    seed = "1..20"            # a range, a list, or one value
    loss = [0, 0.05, 0.1]
    kex = ["rsa", "ecdhe"]
    [[cells]]                 # and/or a listed set of cells (unset axes: the defaults)
    seed = 7
    loss = 0.3
"""

from __future__ import annotations

import hashlib
import itertools
import json
import tomllib
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any, Literal

from .. import __version__
from ..errors import ConfigError

Value = int | float | str | None
WHATS = ("fetch", "tcp-transfer", "dig")
MAX_CELLS = 1_000_000


class SpecError(ConfigError):
    """A sweep specification that cannot run: unknown field, empty range, bad value."""


# -- axes ------------------------------------------------------------------------------------
def _int_in(lo: int, hi: int) -> Callable[[str, Value], Value]:
    def check(axis: str, v: Value) -> Value:
        if isinstance(v, bool) or not isinstance(v, int):
            raise SpecError(f"{axis}: {v!r} is not an integer")
        if not lo <= v <= hi:
            raise SpecError(f"{axis}: {v} is out of range [{lo}, {hi}]")
        return v

    return check


def _float_in(lo: float, hi: float, unit: str = "") -> Callable[[str, Value], Value]:
    def check(axis: str, v: Value) -> Value:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise SpecError(f"{axis}: {v!r} is not a number")
        if not lo <= v <= hi:
            raise SpecError(f"{axis}: {v:g}{unit} is out of range [{lo:g}, {hi:g}]{unit}")
        return float(v)

    return check


def _run_option_choices(whats: tuple[str, ...], option: str) -> tuple[str, ...] | None:
    """The values the runs of ``whats`` accept for ``option``: the ``Literal`` choices of
    the option's type; None when every one of them takes any string. Raises SpecError when
    a run does not take the option at all (yet)."""
    choices: list[str] = []
    free = False
    for what in whats:
        hints = _run_option_types(what)
        if option not in hints:
            raise SpecError(
                f"--{option}: {what} runs do not take a {option!r} option in this minternet "
                f"({__version__}); the sweep passes it on once they do"
            )
        found = _literals(hints[option])
        if found is None:
            free = True
        choices += [c for c in found or () if c not in choices]
    return None if free else tuple(choices)


def _literals(tp: Any) -> tuple[str, ...] | None:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return tuple(str(a) for a in typing.get_args(tp))
    args = typing.get_args(tp)
    if args:  # a union such as `Literal[...] | None`
        out: list[str] = []
        for a in args:
            if a is type(None):
                continue
            sub = _literals(a)
            if sub is None:
                return None
            out += sub
        return tuple(out)
    return None


def _run_option_types(what: str) -> dict[str, Any]:
    """The typed options of one kind of run (the fields or keyword parameters it takes)."""
    from .cells import RUN_OPTIONS

    target = RUN_OPTIONS[what]
    if is_dataclass(target):
        hints = typing.get_type_hints(target)
        return {f.name: hints[f.name] for f in fields(target)}
    return typing.get_type_hints(target)


def _choice(option: str) -> Callable[[str, Value], Value]:
    def check(axis: str, v: Value) -> Value:
        if not isinstance(v, str):
            raise SpecError(f"{axis}: {v!r} is not a name")
        choices = _run_option_choices(AXES[axis].whats, option)
        if choices is not None and v not in choices:
            raise SpecError(f"{axis}: {v!r} is not one of {', '.join(choices)}")
        return v

    return check


def _tls_versions(v: Value) -> tuple[str, ...]:
    """``1.2``, ``1.3`` or ``both`` → the versions tuple the runs take (``fetch --tls``)."""
    from ..tls.negotiate import parse_versions

    return parse_versions(None if v is None else str(v))


def _converted(option: str, convert: Callable[[Value], Any]) -> Callable[[str, Value], Value]:
    """A run option whose sweep value is converted (by the function the command uses) before
    the run gets it: the run must take the option, and the conversion must accept it."""

    def check(axis: str, v: Value) -> Value:
        _run_option_choices(AXES[axis].whats, option)  # refused if a run does not take it
        try:
            convert(v)
        except ConfigError as e:
            raise SpecError(f"{axis}: {e}") from None
        return v

    return check


def _cipher(axis: str, v: Value) -> Value:
    from ..apps.fetch_run import offered_suites

    if not isinstance(v, str):
        raise SpecError(f"{axis}: {v!r} is not a cipher suite name")
    try:
        offered_suites(None, v)
    except ConfigError as e:
        raise SpecError(f"{axis}: {e}") from None
    return v


def _scenario(axis: str, v: Value) -> Value:
    from ..apps.fetch_run import SCENARIOS

    if v not in SCENARIOS:
        raise SpecError(f"{axis}: {v!r} is not one of {', '.join(SCENARIOS)}")
    return v


def _dns_name(axis: str, v: Value) -> Value:
    from ..dns.name import Name

    try:
        return Name.from_text(str(v)).to_text()
    except ValueError as e:
        raise SpecError(f"{axis}: {v!r}: {e}") from None


def _qtype(axis: str, v: Value) -> Value:
    from ..dns.codes import type_from_text, type_name

    try:
        return type_name(type_from_text(str(v)))
    except ValueError as e:
        raise SpecError(f"{axis}: {v!r}: {e}") from None


@dataclass(frozen=True, slots=True)
class Axis:
    """One dimension of a sweep: its flag/TOML name, the runs that take it, its default, how a
    value is checked (and normalised), and whether it is passed to the run as an option."""

    name: str
    whats: tuple[str, ...]
    default: Value
    check: Callable[[str, Value], Value]
    kind: Literal["int", "float", "str"]
    help: str
    run_option: bool = False  # passed to the run by name (FetchOptions field / run parameter)
    to_run: Callable[[Value], Any] | None = None  # the run's value for a sweep value


_PROB = _float_in(0.0, 1.0)
AXES: dict[str, Axis] = {
    a.name: a
    for a in (
        Axis("seed", WHATS, 1, _int_in(0, 2**32 - 1), "int", "seeds, e.g. 1..200"),
        Axis("loss", WHATS, 0.0, _PROB, "float", "loss probabilities on the home line"),
        Axis(
            "latency",
            WHATS,
            0.0,
            _float_in(0.0, 60_000.0, " ms"),
            "float",
            "extra one-way latency on the home line, ms",
        ),
        Axis("reorder", WHATS, 0.0, _PROB, "float", "reordering probabilities"),
        Axis("duplicate", WHATS, 0.0, _PROB, "float", "duplication probabilities"),
        Axis("corrupt", WHATS, 0.0, _PROB, "float", "bit-flip probabilities"),
        Axis("kex", ("fetch",), None, _choice("kex"), "str", "key exchanges", run_option=True),
        Axis("cipher", ("fetch",), None, _cipher, "str", "cipher suites (IANA or OpenSSL)"),
        Axis("scenario", ("fetch",), None, _scenario, "str", "failure scenarios"),
        Axis(
            "cc",
            ("fetch", "tcp-transfer"),
            None,
            _choice("cc"),
            "str",
            "congestion controllers",
            run_option=True,
        ),
        Axis(
            "tls",
            ("fetch",),
            None,
            _converted("tls", _tls_versions),
            "str",
            "TLS versions: 1.2, 1.3 or both",
            run_option=True,
            to_run=_tls_versions,
        ),
        Axis(
            "size",
            ("tcp-transfer",),
            100_000,
            _int_in(0, 1 << 30),
            "int",
            "bytes each way (tcp-transfer)",
        ),
        Axis("name", ("dig",), "www.example.com", _dns_name, "str", "names to look up (dig)"),
        Axis("qtype", ("dig",), "A", _qtype, "str", "record types (dig)"),
    )
}
"""Every axis a sweep can vary — the one place to extend."""


# -- cells -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Cell:
    """One run: its kind and a value for every axis that kind takes (in AXES order)."""

    what: str
    params: tuple[tuple[str, Value], ...]

    def get(self, axis: str) -> Value:
        return dict(self.params)[axis]

    @property
    def key(self) -> str:
        """A hash of the cell and the minternet version: the row's identity in a dataset."""
        text = json.dumps(
            {"what": self.what, "params": dict(self.params), "version": __version__},
            sort_keys=True,
        )
        return hashlib.sha256(text.encode()).hexdigest()[:20]


def make_cell(what: str, values: Mapping[str, Value]) -> Cell:
    """A checked cell: defaults filled in, the combination checked (e.g. kex and cipher)."""
    params: list[tuple[str, Value]] = []
    for axis in AXES.values():
        if what in axis.whats:
            v = values.get(axis.name, axis.default)
            params.append((axis.name, v if v is None else axis.check(axis.name, v)))
        elif values.get(axis.name) is not None:
            raise SpecError(f"{axis.name}: {what} runs do not take it (it is for {axis.whats[0]})")
    cell = Cell(what, tuple(params))
    if what == "fetch" and cell.get("cipher") is not None:
        from ..apps.fetch_run import offered_suites

        try:
            offered_suites(cell.get("kex"), cell.get("cipher"))  # type: ignore[arg-type]
        except ConfigError as e:
            raise SpecError(f"cipher: {e}") from None
    return cell


@dataclass(frozen=True, slots=True)
class SweepSpec:
    """A checked sweep: the kind of run and its cells (unique, in a stable order)."""

    what: str
    cells: tuple[Cell, ...]
    varied: tuple[str, ...]  # the axes with more than one value


def parse_values(axis: str, text: str) -> list[Value]:
    """A flag's value: ``1..200`` (integers, inclusive), or ``a,b,c``."""
    if axis not in AXES:
        raise SpecError(f"unknown field {axis!r}; the fields are: {', '.join(AXES)}")
    kind = AXES[axis].kind
    text = text.strip()
    if ".." in text and kind == "int":
        lo, _, hi = text.partition("..")
        try:
            a, b = int(lo), int(hi)
        except ValueError:
            raise SpecError(f"{axis}: {text!r} is not a range like 1..20") from None
        if b < a:
            raise SpecError(f"{axis}: the range {text} is empty")
        if b - a >= MAX_CELLS:
            raise SpecError(f"{axis}: the range {text} has more than {MAX_CELLS} values")
        return list(range(a, b + 1))
    items = [t.strip() for t in text.split(",")]
    if not text or any(not t for t in items):
        raise SpecError(f"{axis}: empty value in {text!r}")
    return [_scalar(axis, kind, t) for t in items]


def _scalar(axis: str, kind: str, text: str) -> Value:
    if text.lower() in ("none", "default"):
        return None
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
    except ValueError:
        what = "an integer" if kind == "int" else "a number"
        raise SpecError(f"{axis}: {text!r} is not {what}") from None
    return text


def _toml_values(axis: str, raw: Any) -> list[Value]:
    if axis not in AXES:
        raise SpecError(f"unknown field {axis!r}; the fields are: {', '.join(AXES)}")
    if isinstance(raw, str) and (".." in raw or "," in raw):
        return parse_values(axis, raw)
    if isinstance(raw, list):
        if not raw:
            raise SpecError(f"{axis}: the list is empty")
        return [_toml_scalar(axis, v) for v in raw]
    return [_toml_scalar(axis, raw)]


def _toml_scalar(axis: str, v: Any) -> Value:
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        raise SpecError(f"{axis}: {v!r} is not a number or a name")
    if isinstance(v, str) and AXES[axis].kind != "str":
        return _scalar(axis, AXES[axis].kind, v)
    return v


def load_spec_file(path: Path) -> tuple[str | None, dict[str, list[Value]], list[dict[str, Value]]]:
    """(what, grid, listed cells) from a TOML file; unknown fields are refused."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise SpecError(f"{path}: {e.strerror or e}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise SpecError(f"{path}: not TOML: {e}") from None
    unknown = sorted(set(data) - {"what", "grid", "cells"})
    if unknown:
        raise SpecError(f"{path}: unknown field {unknown[0]!r} (use what, [grid], [[cells]])")
    what = data.get("what")
    if what is not None and not isinstance(what, str):
        raise SpecError(f"{path}: what must be one of {', '.join(WHATS)}")
    grid_raw = data.get("grid", {})
    if not isinstance(grid_raw, dict):
        raise SpecError(f"{path}: [grid] must be a table")
    grid = {k: _toml_values(k, v) for k, v in grid_raw.items()}
    listed_raw = data.get("cells", [])
    if not isinstance(listed_raw, list) or not all(isinstance(c, dict) for c in listed_raw):
        raise SpecError(f"{path}: [[cells]] must be an array of tables")
    listed: list[dict[str, Value]] = []
    for c in listed_raw:
        one: dict[str, Value] = {}
        for k, v in c.items():
            values = _toml_values(k, v)
            if len(values) != 1:
                raise SpecError(f"[[cells]] {k}: one value per listed cell, not {v!r}")
            one[k] = values[0]
        listed.append(one)
    return what, grid, listed


def build_spec(
    what: str | None,
    grid: Mapping[str, list[Value]],
    listed: Iterable[Mapping[str, Value]] = (),
) -> SweepSpec:
    """Check everything and expand the grid: the cartesian product of ``grid`` (when it is
    not empty or nothing is listed) plus the listed cells, each once, in a stable order."""
    what = what or "fetch"
    if what not in WHATS:
        raise SpecError(f"what: {what!r} is not one of {', '.join(WHATS)}")
    listed = list(listed)
    for axis, values in grid.items():
        if axis not in AXES:
            raise SpecError(f"unknown field {axis!r}; the fields are: {', '.join(AXES)}")
        if what not in AXES[axis].whats and any(v is not None for v in values):
            raise SpecError(f"{axis}: {what} runs do not take it")
        if not values:
            raise SpecError(f"{axis}: no values")
    axes = [a for a in AXES if a in grid]
    total = 1
    for a in axes:
        total *= len(grid[a])
    if total > MAX_CELLS:
        raise SpecError(f"the grid has {total} cells; at most {MAX_CELLS}")
    cells: list[Cell] = []
    seen: set[str] = set()
    combos: Iterable[tuple[Value, ...]] = (
        itertools.product(*(grid[a] for a in axes)) if grid or not listed else ()
    )
    for combo in combos:
        _add(cells, seen, make_cell(what, dict(zip(axes, combo, strict=True))))
    for one in listed:
        _add(cells, seen, make_cell(what, one))
    varied = tuple(a for a in AXES if len({c.get(a) for c in cells if a in dict(c.params)}) > 1)
    return SweepSpec(what, tuple(cells), varied)


def _add(cells: list[Cell], seen: set[str], cell: Cell) -> None:
    if cell.key not in seen:
        seen.add(cell.key)
        cells.append(cell)


__all__ = [
    "AXES",
    "WHATS",
    "Axis",
    "Cell",
    "SpecError",
    "SweepSpec",
    "build_spec",
    "load_spec_file",
    "make_cell",
    "parse_values",
]
