"""The event loop every node and application runs on, simulated or real.

Applications (the browser, the web server, DNS servers, ping) are ``async def`` coroutines
awaiting :class:`Future` objects of this module; they never know whether time is virtual.
:class:`VirtualLoop` runs a heap of timers on a virtual clock (the simulator);
:class:`~minternet.drivers.realtime.RealtimeLoop` runs the same heap on the wall clock and
waits on file descriptors (the TAP and socket drivers), so this module reads no clock and
touches no file descriptor. Protocol machines below the loop never see it: they take
``now`` as an argument and report ``next_deadline()``.

Times are float seconds. Ties are broken by insertion order, so a run is deterministic.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Coroutine, Generator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Cancelled(BaseException):
    """Thrown into a task that was cancelled (a BaseException, like asyncio's)."""


class LoopTimeout(Exception):
    """An awaited operation did not finish before its deadline."""


class Timer(list):  # type: ignore[type-arg]
    """A scheduled callback; :meth:`cancel` makes it a no-op.

    A timer *is* its own heap entry: the list ``[when, seq, callback, args]``. Lists compare
    element by element in C, and ``seq`` is unique, so the heap orders timers by time, ties
    in insertion order, without a Python ``__lt__`` and without a wrapping tuple (one
    allocation per timer instead of two). Cancelling sets ``callback`` to None; the run
    loops skip such entries without advancing the clock.
    """

    __slots__ = ()

    @property
    def when(self) -> float:
        return self[0]  # type: ignore[no-any-return]

    @property
    def callback(self) -> Callable[..., object] | None:
        return self[2]  # type: ignore[no-any-return]

    @property
    def args(self) -> tuple[Any, ...]:
        return self[3]  # type: ignore[no-any-return]

    @property
    def cancelled(self) -> bool:
        return self[2] is None

    def cancel(self) -> None:
        self[2] = None


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


def _noop() -> None:
    """What a cancelled sleep's timer runs: it still fires (and moves the clock), as
    before, but wakes nobody."""


_heappush = heapq.heappush  # a global, not a module attribute, on the hot paths
_NO_CALLBACKS: list[Any] = []  # shared by sleeps without callbacks; never appended to


class _Sleep(Future[None]):
    """The future :meth:`EventLoop.sleep` returns: a :class:`Future` with a fast path.

    ``_timer`` is its heap entry ``[when, seq, callback, args]``. When a single
    :class:`Task` awaits it (the usual ``await loop.sleep(d)``), the task records itself in
    ``_task`` and points the entry's callback straight at its own ``_resume``: the timer
    then resumes the coroutine with one call, without a callback list, a ``_wakeup`` bound
    per await or a hop through the ready queue; ``_resume`` marks the sleep done. Any other use
    (``add_done_callback``, ``wait_for``, a second awaiting task, ``run_until_complete``)
    points the entry back at :meth:`_fire`, the ordinary completion, which still resumes the
    recorded task first, as if it had added its done-callback first.
    """

    __slots__ = ("_task", "_timer")
    _task: Task[Any] | None
    _timer: list[Any]

    # No __init__ of its own: object's (in C) runs, and _new_sleep (or VirtualLoop.sleep,
    # inlined) fills the fields in; a Python __init__ would cost a call per sleep.
    __init__ = object.__init__

    def __await__(self) -> Generator[Future[None], None, None]:
        if self._done:
            return super().__await__()
        # A one-element tuple iterator instead of a generator: it yields this future to the
        # task, and on resumption ends in C (a sleep's result is None; a cancellation is
        # thrown into the awaiting coroutine, which the iterator has no throw() to catch).
        return iter((self,))  # type: ignore[return-value]

    def add_done_callback(self, cb: Callable[[Future[None]], object]) -> None:
        if self._done:
            self.loop.call_soon(cb, self)
            return
        if self._task is not None:
            self._timer[2] = self  # leave the fast path: _fire runs task + callbacks
        if self._callbacks is _NO_CALLBACKS:
            self._callbacks = []
        self._callbacks.append(cb)

    def _fire(self) -> None:
        """The timer's callback off the fast path: complete with None and resume the
        waiters now (a timer callback runs on a fresh stack, so the ready-queue hop that
        :meth:`set_result` takes to avoid re-entering its caller is not needed)."""
        if self._done:
            return
        self._done = True
        task = self._task
        if task is not None:
            self._task = None
            if task._waiting is self:
                task._waiting = None
                task._step(None, None)
        if self._callbacks:
            callbacks, self._callbacks = self._callbacks, []
            for cb in callbacks:
                cb(self)

    __call__ = _fire

    def _schedule_callbacks(self) -> None:
        # Completed other than by the timer (cancelled): the timer stays in the heap but
        # wakes nobody, and the recorded task resumes first, through the ready queue,
        # exactly as if it had added its done-callback.
        self._timer[2] = _noop
        task = self._task
        if task is not None:
            self._task = None
            self.loop.call_soon(task._wakeup, self)
        super()._schedule_callbacks()


def _new_sleep(loop: EventLoop, when: float, seq: int) -> _Sleep:
    """A pending sleep until ``when`` and its heap entry (VirtualLoop.sleep inlines this:
    keep the two in step)."""
    fut: _Sleep = _Sleep()
    fut.loop = loop
    fut._done = False
    fut._result = None
    fut._exception = None
    fut._callbacks = _NO_CALLBACKS  # a list only once someone adds one
    fut._retrieved = False
    fut._task = None
    # A plain list, not a Timer: nobody gets a handle to cancel it, and a list is cheaper
    # to build; it orders against Timers (lists too) element by element. Its callback is
    # the sleep itself (__call__ is _fire): no bound method to build.
    fut._timer = [when, seq, fut, ()]
    return fut


class Task(Future[T]):
    """Drives a coroutine: each awaited :class:`Future` resumes it when done."""

    __slots__ = ("_coro", "_resume_cb", "_send", "_waiting", "name")

    def __init__(self, loop: EventLoop, coro: Coroutine[Any, Any, T], name: str = "") -> None:
        super().__init__(loop)
        self._coro = coro
        self._send = coro.send  # bound once: every wake-up sends
        self.name = name or getattr(coro, "__qualname__", "task")
        self._waiting: Future[Any] | None = None
        self._resume_cb = self._resume  # bound once: the sleep fast path's timer callback
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
        """Send ``value`` (or throw ``exc``) into the coroutine; wait for what it awaits."""
        if self._done:
            return
        try:
            yielded = self._send(value) if exc is None else self._coro.throw(exc)
        except BaseException as e:
            self._ended(e)
            return
        # The sleep fast path (the same lines as in _resume).
        if type(yielded) is _Sleep and yielded._task is None and not yielded._callbacks:
            self._waiting = yielded
            yielded._task = self
            yielded._timer[2] = self._resume_cb
            return
        self._wait(yielded)

    def _resume(self) -> None:
        """The timer callback of the sleep this task awaits, on the fast path: the sleep is
        over, so mark it done and send None. (Nothing else can come first: cancelling the
        task or the sleep points the timer elsewhere, and a done task awaits nothing.)"""
        sleep: Any = self._waiting
        sleep._done = True
        try:
            yielded = self._send(None)
        except BaseException as e:
            self._waiting = None
            self._ended(e)
            return
        # Fast path: a sleep nobody else waits on resumes this task straight from its
        # timer. (An exact type check: cheaper than isinstance; _Sleep has no subclasses.)
        if type(yielded) is _Sleep and yielded._task is None and not yielded._callbacks:
            self._waiting = yielded
            yielded._task = self
            yielded._timer[2] = self._resume_cb
            return
        self._waiting = None
        self._wait(yielded)

    def _wait(self, yielded: Any) -> None:
        """Resume when ``yielded`` (what the coroutine awaits) is done."""
        if not isinstance(yielded, Future):
            self._coro.throw(TypeError(f"task {self.name} awaited {yielded!r}, not a Future"))
            return
        self._waiting = yielded
        yielded.add_done_callback(self._wakeup)

    def _ended(self, e: BaseException) -> None:
        """The coroutine returned or raised: the task's outcome."""
        if isinstance(e, StopIteration):
            self.set_result(e.value)
        elif isinstance(e, Cancelled):
            self.set_exception(e)
            self._retrieved = True
        elif isinstance(e, Exception):
            self.set_exception(e)
            self.loop._task_failed(self, e)
        else:
            raise e  # KeyboardInterrupt, SystemExit &c. are not the task's to keep


class EventLoop:
    """Timers, ready callbacks and tasks; subclasses say what time it is and how to wait."""

    def __init__(self) -> None:
        self._heap: list[list[Any]] = []  # Timers, sleeps' and schedule_at's entries
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
        self._seq = seq = self._seq + 1
        timer = Timer((when, seq, callback, args))
        _heappush(self._heap, timer)
        return timer

    def schedule_at(
        self, when: float, callback: Callable[..., object], args: tuple[Any, ...]
    ) -> None:
        """:meth:`call_at` without a handle to cancel it (one heap entry, in the same order:
        time, then insertion), for what is never cancelled: a link's deliveries, once per
        frame and link."""
        self._seq = seq = self._seq + 1
        _heappush(self._heap, [when, seq, callback, args])

    def call_later(self, delay: float, callback: Callable[..., object], *args: Any) -> Timer:
        return self.call_at(self.now() + delay, callback, *args)

    def create_future(self) -> Future[Any]:
        return Future(self)

    def create_task(self, coro: Coroutine[Any, Any, T], name: str = "") -> Task[T]:
        return Task(self, coro, name)

    def sleep(self, delay: float) -> Future[None]:
        self._seq = seq = self._seq + 1
        fut = _new_sleep(self, self.now() + (delay if delay > 0.0 else 0.0), seq)
        _heappush(self._heap, fut._timer)
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
    def run_until_complete(self, aw: Future[T], timeout: float | None = None) -> T:
        """Run until ``aw`` is done (its result), or :class:`LoopTimeout` after ``timeout``
        seconds of this loop's time."""
        raise NotImplementedError

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
        while heap and heap[0][2] is None:  # cancelled
            heapq.heappop(heap)
        return heap[0][0] if heap else None


class VirtualLoop(EventLoop):
    """The simulator's loop: time jumps from one event to the next."""

    def __init__(self, start: float = 0.0) -> None:
        super().__init__()
        self._now = start

    def now(self) -> float:
        return self._now

    # call_later and sleep again, reading the clock as an attribute rather than through
    # now(): they run once per simulated event.
    def call_later(self, delay: float, callback: Callable[..., object], *args: Any) -> Timer:
        self._seq = seq = self._seq + 1
        timer = Timer((self._now + delay, seq, callback, args))
        _heappush(self._heap, timer)
        return timer

    def sleep(self, delay: float) -> Future[None]:
        self._seq = seq = self._seq + 1
        # _new_sleep inlined (keep the two in step): a Python call less per sleep.
        fut: _Sleep = _Sleep()
        fut.loop = self
        fut._done = False
        fut._result = None
        fut._exception = None
        fut._callbacks = _NO_CALLBACKS
        fut._retrieved = False
        fut._task = None
        fut._timer = timer = [self._now + (delay if delay > 0.0 else 0.0), seq, fut, ()]
        _heappush(self._heap, timer)
        return fut

    def run(self, until: float | None = None, max_events: int | None = None) -> None:
        """Run events up to virtual time ``until`` (or until nothing is left), at most
        ``max_events`` timer callbacks if given."""
        limit = math.inf if until is None else until
        self._run_ready()
        if max_events is not None:
            # Stepping is rare (tests, debugging): event by event, off the hot loop.
            for _ in range(max_events):
                if not self._run_one(limit):
                    break
        else:
            self._run_all(limit)
        if until is not None and until > self._now:
            self._now = until

    def _run_all(self, limit: float) -> None:
        """The hot loop of the simulator: every timer due by ``limit``, in order."""
        heap = self._heap
        pop = heapq.heappop
        n = 0
        # Locals only, one heap pop per event, no per-event check that is not needed.
        while heap:
            entry = pop(heap)
            when, _, callback, args = entry  # unpacking a list is one bytecode
            if when > limit:
                _heappush(heap, entry)  # the same entry, the same place: once per run()
                break
            if callback is None:  # cancelled
                continue
            if when > self._now:
                self._now = when
            if args:
                callback(*args)
            else:
                callback()  # a plain call is cheaper than one through an empty tuple
            n += 1
            if self._ready:
                self._run_ready()
        self.events_run += n

    def _run_one(self, limit: float) -> bool:
        """Run the next live timer due by ``limit`` (and what it readies); False if none."""
        heap = self._heap
        while heap:
            entry = heapq.heappop(heap)
            when, _, callback, args = entry
            if when > limit:
                _heappush(heap, entry)
                return False
            if callback is None:  # cancelled
                continue
            if when > self._now:
                self._now = when
            callback(*args)
            self.events_run += 1
            if self._ready:
                self._run_ready()
            return True
        return False

    def run_until_complete(self, aw: Future[T], timeout: float | None = None) -> T:
        """Run until ``aw`` is done (virtual ``timeout`` bounds the wait)."""
        deadline = math.inf if timeout is None else self._now + timeout
        heap = self._heap
        pop = heapq.heappop
        n = 0
        self._run_ready()
        # The same hot loop as run(), stopping when ``aw`` is done.
        while not aw._done and heap:
            entry = heap[0]
            callback = entry[2]
            if callback is None:  # cancelled
                pop(heap)
                continue
            when = entry[0]
            if when > deadline:
                self._now = deadline
                break
            pop(heap)
            if when > self._now:
                self._now = when
            args = entry[3]
            if args:
                callback(*args)
            else:
                callback()
            n += 1
            if self._ready:
                self._run_ready()
        self.events_run += n
        if not aw._done:
            raise LoopTimeout("the simulation ran out of events or time before completion")
        return aw.result()
