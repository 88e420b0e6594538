"""The event loop every node and application runs on, simulated or real.

Applications (the browser, the web server, DNS servers, ping) are ``async def`` coroutines
awaiting :class:`Future` objects of this module; they never know whether time is virtual.
:class:`VirtualLoop` runs a heap of timers on a virtual clock (the simulator);
:class:`RealtimeLoop` runs the same heap on the wall clock and waits on file descriptors with
:mod:`selectors` (the TAP and socket drivers). Protocol machines below the loop never see it:
they take ``now`` as an argument and report ``next_deadline()``.

Times are float seconds. Ties are broken by insertion order, so a run is deterministic.
"""

from __future__ import annotations

import heapq
import math
import selectors
import time
from collections.abc import Callable, Coroutine, Generator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Cancelled(BaseException):
    """Thrown into a task that was cancelled (a BaseException, like asyncio's)."""


class LoopTimeout(Exception):
    """An awaited operation did not finish before its deadline."""


class Timer:
    """A scheduled callback; :meth:`cancel` makes it a no-op."""

    __slots__ = ("args", "callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[..., object], args: tuple[Any, ...]):
        self.when = when
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Future(Generic[T]):
    """A result that will arrive later; ``await fut`` suspends the task until it does."""

    __slots__ = ("_callbacks", "_done", "_exception", "_result", "_retrieved", "loop")

    def __init__(self, loop: EventLoop) -> None:
        self.loop = loop
        self._done = False
        self._result: T | None = None
        self._exception: BaseException | None = None
        self._callbacks: list[Callable[[Future[T]], object]] = []
        self._retrieved = False

    def done(self) -> bool:
        return self._done

    def set_result(self, value: T) -> None:
        if self._done:
            return
        self._result = value
        self._done = True
        self._schedule_callbacks()

    def set_exception(self, exc: BaseException) -> None:
        if self._done:
            return
        self._exception = exc
        self._done = True
        self._schedule_callbacks()

    def _wake_from_timer(self) -> None:
        """Complete with None and run the callbacks now: a timer callback runs on a fresh
        stack, so the extra hop through the ready queue that :meth:`set_result` takes (to
        avoid re-entering the caller) is not needed. Used by :meth:`EventLoop.sleep`."""
        if self._done:
            return
        self._done = True
        callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            cb(self)

    def cancel(self) -> bool:
        if self._done:
            return False
        self.set_exception(Cancelled())
        return True

    def cancelled(self) -> bool:
        return self._done and isinstance(self._exception, Cancelled)

    def result(self) -> T:
        if not self._done:
            raise RuntimeError("future is not done")
        self._retrieved = True
        if self._exception is not None:
            raise self._exception
        return self._result  # type: ignore[return-value]

    def exception(self) -> BaseException | None:
        self._retrieved = True
        return self._exception

    def add_done_callback(self, cb: Callable[[Future[T]], object]) -> None:
        if self._done:
            self.loop.call_soon(cb, self)
        else:
            self._callbacks.append(cb)

    def _schedule_callbacks(self) -> None:
        callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            self.loop.call_soon(cb, self)

    def __await__(self) -> Generator[Future[T], None, T]:
        if not self._done:
            yield self
        return self.result()


class Task(Future[T]):
    """Drives a coroutine: each awaited :class:`Future` resumes it when done."""

    __slots__ = ("_coro", "_waiting", "name")

    def __init__(self, loop: EventLoop, coro: Coroutine[Any, Any, T], name: str = "") -> None:
        super().__init__(loop)
        self._coro = coro
        self.name = name or getattr(coro, "__qualname__", "task")
        self._waiting: Future[Any] | None = None
        loop.call_soon(self._step, None, None)

    def cancel(self) -> bool:
        if self._done:
            return False
        waiting = self._waiting
        if waiting is not None and not waiting.done():
            waiting.cancel()  # its done-callback throws Cancelled into the coroutine
        else:
            self._waiting = None
            self.loop.call_soon(self._step, None, Cancelled())
        return True

    def _wakeup(self, fut: Future[Any]) -> None:
        if fut is not self._waiting:
            return
        self._waiting = None
        exc = fut._exception
        if exc is None:
            self._step(fut._result, None)
        else:
            fut._retrieved = True
            self._step(None, exc)

    def _step(self, value: Any, exc: BaseException | None) -> None:
        if self._done:
            return
        try:
            yielded = self._coro.send(value) if exc is None else self._coro.throw(exc)
        except StopIteration as stop:
            self.set_result(stop.value)
            return
        except Cancelled as c:
            self.set_exception(c)
            self._retrieved = True
            return
        except Exception as e:
            self.set_exception(e)
            self.loop._task_failed(self, e)
            return
        if not isinstance(yielded, Future):
            self._coro.throw(TypeError(f"task {self.name} awaited {yielded!r}, not a Future"))
            return
        self._waiting = yielded
        yielded.add_done_callback(self._wakeup)


class EventLoop:
    """Timers, ready callbacks and tasks; subclasses say what time it is and how to wait."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Timer]] = []
        self._ready: list[tuple[Callable[..., object], tuple[Any, ...]]] = []
        self._seq = 0
        self.events_run = 0
        self.failed_tasks: list[tuple[str, BaseException]] = []
        self.on_task_failed: Callable[[str, BaseException], object] | None = None

    # -- time -------------------------------------------------------------------------
    def now(self) -> float:
        raise NotImplementedError

    # -- scheduling -------------------------------------------------------------------
    def call_soon(self, callback: Callable[..., object], *args: Any) -> None:
        self._ready.append((callback, args))

    def call_at(self, when: float, callback: Callable[..., object], *args: Any) -> Timer:
        timer = Timer(when, callback, args)
        self._seq = seq = self._seq + 1
        heapq.heappush(self._heap, (when, seq, timer))
        return timer

    def call_later(self, delay: float, callback: Callable[..., object], *args: Any) -> Timer:
        return self.call_at(self.now() + delay, callback, *args)

    def create_future(self) -> Future[Any]:
        return Future(self)

    def create_task(self, coro: Coroutine[Any, Any, T], name: str = "") -> Task[T]:
        return Task(self, coro, name)

    def sleep(self, delay: float) -> Future[None]:
        fut: Future[None] = Future(self)
        # call_later inlined: sleeping is the commonest thing an application does.
        when = self.now() + (delay if delay > 0.0 else 0.0)
        self._seq = seq = self._seq + 1
        heapq.heappush(self._heap, (when, seq, Timer(when, fut._wake_from_timer, ())))
        return fut

    def wait_for(self, aw: Future[T], timeout: float | None) -> Future[T]:
        """A future with ``aw``'s outcome, or :class:`LoopTimeout` after ``timeout`` s."""
        if timeout is None:
            return aw
        out: Future[T] = Future(self)

        def expire() -> None:
            if not out.done():
                aw.cancel()
                out.set_exception(LoopTimeout(f"timed out after {timeout:g} s"))

        timer = self.call_later(timeout, expire)

        def finish(f: Future[T]) -> None:
            timer.cancel()
            if out.done():
                return
            exc = f.exception()
            if exc is None:
                out.set_result(f._result)  # type: ignore[arg-type]
            else:
                out.set_exception(exc)

        aw.add_done_callback(finish)
        return out

    def _task_failed(self, task: Task[Any], exc: BaseException) -> None:
        self.failed_tasks.append((task.name, exc))
        if self.on_task_failed is not None:
            self.on_task_failed(task.name, exc)

    # -- running ----------------------------------------------------------------------
    def _run_ready(self) -> None:
        ready = self._ready
        while ready:
            self._ready = []
            for cb, args in ready:
                cb(*args)
            self.events_run += len(ready)
            ready = self._ready

    def next_timer(self) -> float | None:
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)
        return heap[0][0] if heap else None


class VirtualLoop(EventLoop):
    """The simulator's loop: time jumps from one event to the next."""

    def __init__(self, start: float = 0.0) -> None:
        super().__init__()
        self._now = start

    def now(self) -> float:
        return self._now

    def run(self, until: float | None = None, max_events: int | None = None) -> None:
        """Run events up to virtual time ``until`` (or until nothing is left)."""
        heap = self._heap
        pop = heapq.heappop
        limit = math.inf if until is None else until
        budget = -1 if max_events is None else max_events
        n = 0
        self._run_ready()
        # The hot loop of the simulator: locals only, one heap pop per event.
        while heap:
            entry = heap[0]
            when = entry[0]
            if when > limit:
                break
            pop(heap)
            timer = entry[2]
            if timer.cancelled:
                continue
            if when > self._now:
                self._now = when
            timer.callback(*timer.args)
            n += 1
            if self._ready:
                self._run_ready()
            if n == budget:
                break
        self.events_run += n
        if until is not None and until > self._now:
            self._now = until

    def run_until_complete(self, aw: Future[T], timeout: float | None = None) -> T:
        """Run until ``aw`` is done (virtual ``timeout`` bounds the wait)."""
        deadline = None if timeout is None else self._now + timeout
        heap = self._heap
        pop = heapq.heappop
        self._run_ready()
        while not aw.done():
            if not heap:
                break
            when, _, timer = pop(heap)
            if timer.cancelled:
                continue
            if deadline is not None and when > deadline:
                heapq.heappush(heap, (when, -1, timer))
                self._now = deadline
                break
            if when > self._now:
                self._now = when
            timer.callback(*timer.args)
            self.events_run += 1
            if self._ready:
                self._run_ready()
        if not aw.done():
            raise LoopTimeout("the simulation ran out of events or time before completion")
        return aw.result()


class RealtimeLoop(EventLoop):
    """The same loop on the wall clock, waiting on file descriptors (TAP, sockets).

    Each file descriptor may have one reader and one writer callback; the selector waits
    for whichever of the two are registered.
    """

    def __init__(self) -> None:
        super().__init__()
        self._selector = selectors.DefaultSelector()
        self._t0 = time.monotonic()
        self._readers: dict[int, Callable[[], object]] = {}
        self._writers: dict[int, Callable[[], object]] = {}

    def now(self) -> float:
        return time.monotonic() - self._t0

    def add_reader(self, fd: int, callback: Callable[[], object]) -> None:
        """Call ``callback()`` whenever ``fd`` is readable (replaces an earlier reader)."""
        self._readers[fd] = callback
        self._watch(fd)

    def remove_reader(self, fd: int) -> None:
        """Stop watching ``fd`` for reading (no-op if it was not watched)."""
        if self._readers.pop(fd, None) is not None:
            self._watch(fd)

    def add_writer(self, fd: int, callback: Callable[[], object]) -> None:
        """Call ``callback()`` whenever ``fd`` is writable (replaces an earlier writer)."""
        self._writers[fd] = callback
        self._watch(fd)

    def remove_writer(self, fd: int) -> None:
        """Stop watching ``fd`` for writing (no-op if it was not watched)."""
        if self._writers.pop(fd, None) is not None:
            self._watch(fd)

    def _watch(self, fd: int) -> None:
        events = (selectors.EVENT_READ if fd in self._readers else 0) | (
            selectors.EVENT_WRITE if fd in self._writers else 0
        )
        try:
            key = self._selector.get_key(fd)
        except KeyError:
            key = None
        if key is None:
            if events:
                self._selector.register(fd, events)
        elif not events:
            self._selector.unregister(fd)
        elif key.events != events:
            self._selector.modify(fd, events)

    def _tick(self, max_wait: float) -> None:
        self._run_ready()
        nxt = self.next_timer()
        wait = max_wait if nxt is None else max(0.0, min(max_wait, nxt - self.now()))
        if self._ready:
            wait = 0.0
        if self._readers or self._writers:
            for key, mask in self._selector.select(wait):
                fd = key.fd
                if mask & selectors.EVENT_READ:
                    reader = self._readers.get(fd)
                    if reader is not None:
                        reader()
                if mask & selectors.EVENT_WRITE:
                    writer = self._writers.get(fd)  # the reader may have removed it
                    if writer is not None:
                        writer()
        elif wait > 0:
            time.sleep(wait)
        now = self.now()
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, _, timer = heapq.heappop(heap)
            if not timer.cancelled:
                timer.callback(*timer.args)
                self.events_run += 1
        self._run_ready()

    def run_until_complete(self, aw: Future[T], timeout: float | None = None) -> T:
        deadline = None if timeout is None else self.now() + timeout
        while not aw.done():
            if deadline is not None and self.now() >= deadline:
                raise LoopTimeout(f"timed out after {timeout:g} s")
            self._tick(0.05)
        return aw.result()

    def run_forever(self, stop: Callable[[], bool] = lambda: False) -> None:
        while not stop():
            self._tick(0.05)

    def close(self) -> None:
        self._selector.close()
