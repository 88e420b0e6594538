"""Imported first by the local cluster's fork server: its workers ignore SIGINT.

A terminal's Ctrl-C sends SIGINT to every process of the foreground group: the sweep's own
process, and the fork server and the worker processes it forked. The sweep's process
answers it (one line, exit 130, the cluster closed in order, every finished task kept);
a worker dying of it as well only adds pages of tracebacks from Dask's worker and nanny.
The fork server restores, in each worker it forks, the SIGINT handler it had when its
preloads were done, so ignoring SIGINT here makes every worker ignore it from its first
instruction (and asyncio then installs no handler of its own). The workers still end when
the sweep closes the cluster, or when its process dies (each watches its parent's pipe).
"""

from __future__ import annotations

import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)
