"""The HTML report: one self-contained page per run (topology, ladder, frames, story, play).

:func:`write_report` writes it from a :class:`ReportInput`; :mod:`.runs` builds that input
from a fetch, a TCP transfer or a ``dig --trace``.
"""

from .model import FailureMark, ReportInput, StoryPhase, StoryStep, build_model
from .page import render_report, write_report

__all__ = [
    "FailureMark",
    "ReportInput",
    "StoryPhase",
    "StoryStep",
    "build_model",
    "render_report",
    "write_report",
]
