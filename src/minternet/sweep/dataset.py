"""A sweep's results on disk: a Parquet dataset (one file per finished task) and CSV export.

Rows arrive as tasks finish, so each batch is written as its own file ``part-*.parquet``
(first under a hidden name, then renamed: a reader, or an interrupted sweep, never sees half
a file). The dataset is the union of its part files; a key appears once (the first row
written wins). Every file has the same schema (:data:`~.cells.COLUMNS`), whatever kind of
run wrote it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..errors import ConfigError
from .cells import COLUMNS
from .spec import AXES

_TYPES = {"int": pa.int64(), "float": pa.float64(), "str": pa.string(), "bool": pa.bool_()}
SCHEMA = pa.schema([pa.field(name, _TYPES[kind]) for name, kind in COLUMNS])
PART_GLOB = "part-*.parquet"
SORT_COLUMNS = ("what", *AXES)


class Dataset:
    """The Parquet dataset in folder ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tag = uuid.uuid4().hex[:12]
        self._parts = 0

    def files(self) -> list[Path]:
        return sorted(self.path.glob(PART_GLOB))

    def exists(self) -> bool:
        return self.path.is_dir() and bool(self.files())

    def keys(self) -> set[str]:
        """The keys of the rows already written."""
        keys: set[str] = set()
        for f in self.files():
            keys.update(pq.read_table(f, columns=["key"]).column("key").to_pylist())
        return keys

    def write(self, rows: Iterable[dict[str, Any]]) -> None:
        """Write one part file holding ``rows`` (atomically)."""
        rows = list(rows)
        if not rows:
            return
        self.path.mkdir(parents=True, exist_ok=True)
        self._parts += 1
        name = f"part-{self._tag}-{self._parts:05d}.parquet"
        tmp = self.path / f".{name}.tmp"
        pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), tmp)
        os.replace(tmp, self.path / name)

    def table(self) -> pa.Table:
        """Every row once (first written wins), sorted by kind of run and axes."""
        files = self.files()
        if not files:
            raise ConfigError(f"{self.path}: no sweep results here (no {PART_GLOB})")
        tables = []
        for f in files:
            try:
                tables.append(pq.read_table(f, schema=SCHEMA))
            except (OSError, pa.ArrowInvalid) as e:
                raise ConfigError(f"{f}: not a sweep result file: {e}") from None
        table = pa.concat_tables(tables)
        seen: set[str] = set()
        keep = []
        for i, key in enumerate(table.column("key").to_pylist()):
            if key not in seen:
                seen.add(key)
                keep.append(i)
        table = table.take(keep)
        return table.sort_by([(c, "ascending") for c in (*SORT_COLUMNS, "key")])

    def rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.table().to_pylist()
        return rows

    def to_csv(self, path: Path) -> int:
        """Export every row to a CSV file; the number of rows."""
        table = self.table()
        pacsv.write_csv(table, path)
        return int(table.num_rows)


__all__ = ["SCHEMA", "Dataset"]
