"""Sweeps: many deterministic simulated runs over a grid of conditions, on a Dask cluster.

:mod:`.spec` (the grid, checked), :mod:`.cells` (one run, one row), :mod:`.engine` (inline,
a local Dask cluster or an existing one), :mod:`.dataset` (Parquet, CSV), :mod:`.runner`
(resume, progress) and :mod:`.plots` (matplotlib figures, HTML, summary table). The sweep
is an edge of the program: it measures wall time, starts processes and writes files.
"""

from __future__ import annotations

from .spec import AXES, Cell, SpecError, SweepSpec, build_spec

__all__ = ["AXES", "Cell", "SpecError", "SweepSpec", "build_spec"]
