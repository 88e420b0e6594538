"""A well-behaved core for tests/test_rings.py: it uses only cores (the control case)."""

from __future__ import annotations

from minternet.tcp.connection import Connection
from minternet.tls.client import TlsClient

__all__ = ["Connection", "TlsClient"]
