"""Where a TCP connection and its parts report: the :class:`Tracer` shape, injected by
whoever drives the connection (a node passes its trace bus, which has this shape), so the
sans-IO core never imports the bus itself."""

from __future__ import annotations

from typing import Any, Protocol


class Tracer(Protocol):
    """Where a connection reports, injected by whoever drives it (the node passes its
    trace bus, which has this shape); the connection never imports the bus itself.

    ``active`` says whether anyone listens — read on every report, since a listener may
    subscribe while a connection is open, and checked before building fields on hot paths;
    ``emit`` reports one event; ``count`` counts one whether or not anyone listens.
    """

    @property
    def active(self) -> bool: ...

    def emit(
        self,
        time: float,
        node: str,
        layer: str,
        kind: str,
        fields: dict[str, Any] | None = None,
        *,
        why: str | None = None,
    ) -> None: ...

    def count(self, name: str, n: int = 1) -> None: ...


class Untraced:
    """The tracer of a connection nobody watches."""

    active = False

    def emit(self, *args: Any, **kwargs: Any) -> None:
        pass

    def count(self, name: str, n: int = 1) -> None:
        pass
