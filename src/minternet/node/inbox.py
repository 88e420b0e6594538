"""A bounded queue of received items that coroutines await, with an optional timeout."""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

from ..errors import LocalProtocolError
from ..loop import EventLoop, Future

T = TypeVar("T")


class Inbox(Generic[T]):
    """What a socket has received and not yet handed to the application."""

    def __init__(self, loop: EventLoop, limit: int = 256) -> None:
        self.loop = loop
        self.limit = limit
        self._items: deque[T] = deque()
        self._waiters: deque[Future[T]] = deque()
        self.closed = False

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: T) -> bool:
        """Hand ``item`` to a waiting reader or queue it; False if the queue is full."""
        while self._waiters:
            w = self._waiters.popleft()
            if not w.done():
                w.set_result(item)
                return True
        if len(self._items) >= self.limit:
            return False
        self._items.append(item)
        return True

    def get(self, timeout: float | None = None) -> Future[T]:
        if self.closed:
            raise LocalProtocolError("socket is closed")
        fut: Future[T] = self.loop.create_future()
        if self._items:
            fut.set_result(self._items.popleft())
            return fut
        self._waiters.append(fut)
        return self.loop.wait_for(fut, timeout)

    def close(self) -> None:
        self.closed = True
        for w in self._waiters:
            if not w.done():
                w.set_exception(LocalProtocolError("socket closed while waiting"))
        self._waiters.clear()
        self._items.clear()
