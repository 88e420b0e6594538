"""``python -m bench``: run every benchmark."""

from __future__ import annotations

from . import forwarding, scheduler

scheduler.main()
print()
forwarding.main()
