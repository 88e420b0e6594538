"""``python -m bench``: run every benchmark."""

from __future__ import annotations

from . import forwarding, kernel_stream, scheduler

scheduler.main()
print()
forwarding.main()
print()
kernel_stream.main()
