"""Nodes: hosts, routers and switches, and the socket-like API applications use."""

from .api import DatagramSocket, Listener, NetworkStack, StreamSocket

__all__ = ["DatagramSocket", "Listener", "NetworkStack", "StreamSocket"]
