"""The trace bus: every layer reports structured events here; renderers read them."""

from .bus import EventLog, FrameRecord, TraceBus, TraceEvent

__all__ = ["EventLog", "FrameRecord", "TraceBus", "TraceEvent"]
