"""A known-bad core for tests/test_rings.py (never imported by the package itself).

It is ``minternet/tls/client.py``'s import block as it was when ``client.py`` reached
``node.api`` (through ``tls/__init__`` and ``tls/stream.py``): the sans-IO client plus the
socket API of the node ring. The closure test must report ``minternet.node.api`` and what it
drags in (the loop, the trace bus).
"""

from __future__ import annotations

from minternet.node.api import StreamSocket
from minternet.tls.client import ClientConfig, TlsClient

__all__ = ["ClientConfig", "StreamSocket", "TlsClient"]
