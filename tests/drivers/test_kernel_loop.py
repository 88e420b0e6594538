"""RealtimeLoop's file-descriptor watching: a reader and a writer on one descriptor."""

from __future__ import annotations

import socket

from minternet.drivers.realtime import RealtimeLoop


def test_reader_and_writer_on_one_fd_are_independent() -> None:
    loop = RealtimeLoop()
    a, b = socket.socketpair()
    a.setblocking(False)
    seen: list[str] = []

    def on_write() -> None:
        seen.append("w")
        loop.remove_writer(a.fileno())
        b.send(b"x")  # makes a readable

    def on_read() -> None:
        seen.append("r:" + a.recv(10).decode())
        loop.remove_reader(a.fileno())

    loop.add_reader(a.fileno(), on_read)
    loop.add_writer(a.fileno(), on_write)
    done = loop.create_future()
    loop.call_later(0.3, done.set_result, None)
    loop.run_until_complete(done, timeout=5)
    assert seen == ["w", "r:x"]
    # nothing is watched any more; removing again is a no-op
    loop.remove_reader(a.fileno())
    loop.remove_writer(a.fileno())
    b.send(b"y")
    done2 = loop.create_future()
    loop.call_later(0.05, done2.set_result, None)
    loop.run_until_complete(done2, timeout=5)
    assert seen == ["w", "r:x"]
    loop.close()
    a.close()
    b.close()


def test_timers_run_without_any_descriptor() -> None:
    loop = RealtimeLoop()
    t0 = loop.now()
    loop.run_until_complete(loop.sleep(0.1), timeout=5)
    assert 0.09 <= loop.now() - t0 < 1.0
    loop.close()
