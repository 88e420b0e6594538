"""The one DNS exchange (apps/dns_transport.py) on the kernel's sockets against a server
written with dnspython on 127.0.0.1: the RFC 5452 checks (a datagram from another port,
with another id or another question is ignored), TC → the same question over TCP with the
2-byte framing, and silence → the tries, then None."""

from __future__ import annotations

import socket
import threading

import dns.flags
import dns.message
import dns.query
import dns.rrset
import pytest

from minternet.apps.dns_transport import Exchange, ExchangeWatcher, exchange
from minternet.dns import RType, make_query
from minternet.dns.message import Edns, Message
from minternet.drivers.kernel import KernelStack
from minternet.drivers.realtime import RealtimeLoop

LO = "127.0.0.1"


@pytest.fixture
def stack(kernel_stack: KernelStack) -> KernelStack:
    return kernel_stack


def _bound_pair() -> tuple[socket.socket, socket.socket]:
    """A UDP and a TCP socket on the same free port of 127.0.0.1."""
    for _ in range(20):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind((LO, 0))
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind((LO, udp.getsockname()[1]))
        except OSError:
            udp.close()
            tcp.close()
            continue
        tcp.listen(1)
        return udp, tcp
    raise RuntimeError("no port free for both UDP and TCP")


class Tricky(threading.Thread):
    """Answers one UDP query with three wrong datagrams and a truncated answer, then the
    same question over TCP with the whole answer — every message built by dnspython."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.udp, self.tcp = _bound_pair()
        self.udp.settimeout(10)
        self.tcp.settimeout(10)
        self.port = self.udp.getsockname()[1]
        self.queries: list[dns.message.Message] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._serve()
        except BaseException as e:  # the test reads it
            self.error = e
        finally:
            self.udp.close()
            self.tcp.close()

    def _serve(self) -> None:
        wire, client = self.udp.recvfrom(65535)
        q = dns.message.from_wire(wire)
        self.queries.append(q)
        full = dns.message.make_response(q)
        full.answer.append(dns.rrset.from_text(q.question[0].name, 300, "IN", "A", "192.0.2.7"))
        # 1. the right answer, but from another port
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
            other.sendto(full.to_wire(), client)
        # 2. another id
        wrong_id = dns.message.make_response(q)
        wrong_id.id = (q.id + 1) % 0x10000
        self.udp.sendto(wrong_id.to_wire(), client)
        # 3. another question
        other_q = dns.message.make_response(dns.message.make_query("evil.example.", "A"))
        other_q.id = q.id
        self.udp.sendto(other_q.to_wire(), client)
        # 4. the answer, truncated (RFC 2181 §9: TC, nothing else)
        tc = dns.message.make_response(q)
        tc.flags |= dns.flags.TC
        self.udp.sendto(tc.to_wire(), client)
        conn, _ = self.tcp.accept()
        with conn:
            conn.settimeout(10)
            tq, _ = dns.query.receive_tcp(conn)
            self.queries.append(tq)
            answer = dns.message.make_response(tq)
            answer.answer = full.answer
            dns.query.send_tcp(conn, answer)


class Watch(ExchangeWatcher):
    def __init__(self) -> None:
        self.steps: list[str] = []

    def sent(self, transport: str, query: Message, sport: int, attempt: int, size: int) -> None:
        self.steps.append(f"sent {transport}")

    def ignored(self, src: tuple[str, int], why: str) -> None:
        self.steps.append(f"ignored {why}")

    def timed_out(self, transport: str, attempt: int, why: str) -> None:
        self.steps.append(f"timeout {transport}")

    def answered(self, response: Message, size: int, rtt: float, transport: str) -> None:
        self.steps.append(f"answered {transport}{' tc' if response.tc else ''}")

    def truncated(self) -> None:
        self.steps.append("truncated")


def _run(stack: KernelStack, ex: object) -> Exchange:
    loop = stack.loop
    assert isinstance(loop, RealtimeLoop)
    result = loop.run_until_complete(loop.create_task(ex), 20.0)  # type: ignore[arg-type]
    assert isinstance(result, Exchange)
    return result


def test_only_the_matching_answer_counts_and_tc_goes_again_over_tcp(stack: KernelStack) -> None:
    server = Tricky()
    server.start()
    watch = Watch()
    query = make_query("www.example.com", RType.A, 0, rd=True, edns=Edns(1232))
    ex = _run(
        stack,
        exchange(stack, stack.random, query, (LO, server.port), timeout=5.0, tries=1, watch=watch),
    )
    server.join(10)
    assert server.error is None, server.error
    assert ex.response is not None and ex.error is None
    assert ex.transport == "tcp" and ex.truncated_first and ex.ignored == 3
    assert [r.rdata.to_text() for r in ex.response.answers] == ["192.0.2.7"]
    # the same random id over UDP and TCP, and dnspython read both queries
    udp_q, tcp_q = server.queries
    assert udp_q.id == tcp_q.id == ex.response.id and udp_q.question == tcp_q.question
    assert watch.steps[0] == "sent udp" and watch.steps[-3:] == [
        "truncated",
        "sent tcp",
        "answered tcp",
    ]
    whys = [s for s in watch.steps if s.startswith("ignored")]
    assert len(whys) == 3
    assert "not 127.0.0.1" in whys[0] and " id " in whys[1] and "question" in whys[2]


def test_silence_is_the_tries_then_no_answer(stack: KernelStack) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:
        quiet.bind((LO, 0))  # bound, never answers
        watch = Watch()
        query = make_query("www.example.com", RType.A)
        ex = _run(
            stack,
            exchange(
                stack, stack.random, query, quiet.getsockname(), timeout=0.2, tries=2, watch=watch
            ),
        )
        got = [dns.message.from_wire(quiet.recv(512)).id for _ in range(2)]
    assert ex.response is None and ex.error == "no answer after 2 tries" and ex.tries == 2
    assert watch.steps == ["sent udp", "timeout udp", "sent udp", "timeout udp"]
    assert got[0] == got[1]  # one id for every try of the same exchange


def test_tcp_to_a_closed_port_is_an_error_not_an_exception(stack: KernelStack) -> None:
    with socket.socket() as s:
        s.bind((LO, 0))
        port = s.getsockname()[1]  # closed once the block ends
    ex = _run(stack, exchange(stack, stack.random, make_query("x."), (LO, port), tcp=True))
    assert ex.response is None and ex.error is not None and ex.error.startswith("TCP failed")
