"""The facts of one fetch run, derived once: typed values the story, the JSON summary, the
failure explanation and the summary line all render.

:func:`run_facts` makes one pass over a :class:`~minternet.apps.fetch_run.FetchRun`'s trace
events and application writes and returns a :class:`RunFacts` of frozen dataclasses: each
TCP state change with the input that caused it (RFC 9293 §3.3.2's events), the segments and
retransmissions with their reasons, the timers that fired, how the connection closed (the
four-way close, or an abort/RST, and by which side), the certificate checks, the TLS hellos
decoded with our own codecs (:mod:`minternet.tls.messages`, :mod:`minternet.tls.record`),
and what failed (which side, which layer, which timer or alert). Renderers never look at
trace strings or bytes themselves; when the text needs a new value, it becomes a fact here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..apps.fetch_run import CLIENT_NODE, SERVER_NODE, FetchRun
from ..errors import DecodeError, MinternetError
from ..tcp.connection import Input
from ..tls.messages import ClientHello, ServerHello
from ..tls.record import ContentType, Record
from ..tls.signing import SignatureScheme
from ..trace.bus import TraceEvent
from .nat import far_side_conn

Side = Literal["client", "server"]
SIDE_NODE: dict[str, str] = {"client": CLIENT_NODE, "server": SERVER_NODE}
_NODE_SIDE: dict[str, Side] = {CLIENT_NODE: "client", SERVER_NODE: "server"}

TLS_VERSIONS = {0x0301: "TLS 1.0", 0x0302: "TLS 1.1", 0x0303: "TLS 1.2", 0x0304: "TLS 1.3"}
COMPRESSION_METHODS = {0: "null", 1: "DEFLATE"}  # RFC 5246 §6.1, RFC 3749


@dataclass(frozen=True, slots=True)
class StateChange:
    """One transition of a connection's state machine, with the input that caused it."""

    time: float
    side: Side
    old: str
    new: str
    event: str  # an :class:`~minternet.tcp.connection.Input` value, e.g. "RST received"
    cause: str  # the detail after the event, e.g. "the peer acknowledged our FIN"


@dataclass(frozen=True, slots=True)
class Segment:
    """A TCP segment one end sent or received on the fetch's connection."""

    time: float
    side: Side
    direction: Literal["send", "recv"]
    flags: tuple[str, ...]
    seq: int | None
    ack: int | None
    length: int
    rel_seq: int | None
    options: tuple[str, ...]

    def has(self, flag: str) -> bool:
        return flag in self.flags


@dataclass(frozen=True, slots=True)
class Retransmission:
    """A segment sent again: a SYN/SYN,ACK (no payload) or ``length`` bytes of data."""

    time: float
    side: Side
    flags: tuple[str, ...]  # the retransmitted control segment's flags; () for data
    length: int | None  # payload bytes (None for a SYN or SYN,ACK)
    rel_seq: int | None  # relative to the ISN (None for a SYN or SYN,ACK)
    reason: str


@dataclass(frozen=True, slots=True)
class TimerFired:
    """A timer that expired: ``rto`` (retransmission), ``2msl`` (TIME-WAIT), ``handshake``
    (the server's TLS handshake deadline)."""

    time: float
    side: Side
    timer: Literal["rto", "2msl", "handshake"]
    detail: str


@dataclass(frozen=True, slots=True)
class TimeWait:
    start: float
    end: float | None
    ended_by: Literal["timer", "rst", "running"]


@dataclass(frozen=True, slots=True)
class Close:
    """How the connection ended.

    ``four-way``: FIN from each side, each ACKed (RFC 9293 §3.6); ``abort``: an application
    aborted and its TCP sent RST (§3.10.5); ``reset``: an RST arrived without a local abort.
    """

    kind: Literal["four-way", "abort", "reset", "open"]
    first_fin: Side | None
    aborted_by: tuple[Side, ...]
    rst_sent_by: tuple[Side, ...]
    time_wait: TimeWait | None


@dataclass(frozen=True, slots=True)
class CertCheck:
    name: str
    ok: bool
    subject: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class Hello:
    """The ClientHello's and ServerHello's values, decoded from the bytes sent."""

    client_version: int | None
    compression_methods: tuple[int, ...]
    server_version: int | None


@dataclass(frozen=True, slots=True)
class Drop:
    """A frame the network discarded: ``where`` is a link or a node, ``sender`` its source."""

    time: float
    where: str
    sender: str
    reason: str


@dataclass(frozen=True, slots=True)
class DnsFacts:
    """Phase 1 in values: the laptop's questions and answers, the resolver's outcome."""

    laptop_queries: int  # questions the laptop's stub sent to its resolver
    laptop_timeouts: int  # of which no answer came in time
    laptop_rcode: str | None  # the rcode of the last answer the laptop received
    resolver_rcodes: tuple[str, ...]  # what the resolver concluded, each time it was asked
    resolver_servers: tuple[str, ...]  # the name servers the resolver asked, in order
    nxdomain_from: str | None  # the server that answered NXDOMAIN
    resolver_explanation: str | None


@dataclass(frozen=True, slots=True)
class FailureFacts:
    """What stopped the fetch: which side gave up, in which layer, and why."""

    side: Side
    layer: Literal["dns", "tcp", "tls", "http"]
    cause: Literal["nxdomain", "no-answer", "rst", "timer", "alert", "status", "other"]
    name: str  # the alert's, timer's or rcode's name; "" if none
    detail: str


@dataclass(frozen=True, slots=True)
class RunFacts:
    conn: str | None  # the laptop's connection, "a:p->b:q"
    server_conn: str | None
    client_isn: int | None
    server_isn: int | None
    listen_since: float | None  # when www's listening socket took port 443
    states: tuple[StateChange, ...]
    segments: tuple[Segment, ...]
    retransmissions: tuple[Retransmission, ...]
    timers: tuple[TimerFired, ...]
    close: Close
    cert_checks: tuple[CertCheck, ...]
    hello: Hello
    key_exchange: str | None  # "ECDHE" / "RSA" as the client saw it established
    suite: str | None
    tls_version: str | None  # as the client's TLS reported it, e.g. "TLSv1.3"
    handshake_deadline: TimerFired | None
    alerts_sent: tuple[tuple[Side, str], ...]
    server_subject: str | None
    dns: DnsFacts
    drops: tuple[Drop, ...]
    address: str | None  # what the name resolved to at the laptop

    def states_of(self, side: Side) -> list[StateChange]:
        return [s for s in self.states if s.side == side]

    def state_names(self, side: Side) -> list[str]:
        changes = self.states_of(side)
        return ([changes[0].old] if changes else []) + [s.new for s in changes]

    def reached(self, side: Side, state: str) -> bool:
        return any(s.new == state for s in self.states_of(side))


def _split_why(why: str | None) -> tuple[str, str]:
    text = why or ""
    for inp in Input:
        if text == inp.value or text.startswith(inp.value + ": "):
            return inp.value, text[len(inp.value) + 2 :]
    return text, ""


def _flags(f: object) -> tuple[str, ...]:
    return tuple(x for x in str(f or "").split(",") if x and x != "None")


def _int(v: object) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _hello(run: FetchRun) -> Hello:
    """The hellos' version and compression fields, decoded from each side's first flight
    with the record layer and the handshake codecs (RFC 5246 §6.2.1, §7.4.1.2–3)."""

    def first(
        writes: list[tuple[float, bytes]], kind: type[ClientHello] | type[ServerHello]
    ) -> ClientHello | ServerHello | None:
        if not writes:
            return None
        try:
            for rec in records_in(writes[0][1]):
                data = rec.fragment
                if rec.content_type == ContentType.handshake and data[:1] == bytes([kind.msg_type]):
                    length = int.from_bytes(data[1:4], "big")
                    return kind.decode_body(data[4 : 4 + length])
        except (DecodeError, MinternetError):
            return None
        return None

    ch = first(run.wire.client_cipher, ClientHello)
    sh = first(run.wire.server_cipher, ServerHello)
    return Hello(
        ch.version if isinstance(ch, ClientHello) else None,
        tuple(ch.compression_methods) if isinstance(ch, ClientHello) else (),
        sh.version if isinstance(sh, ServerHello) else None,
    )


def tls_version_name(v: int | None) -> str:
    if v is None:
        return "?"
    return f"{TLS_VERSIONS.get(v, 'unknown')} (0x{v:04x})"


def signature_scheme_name(code: object) -> str:
    """The IANA name of a SignatureScheme code (``0x0401`` or 1025), from tls/signing."""
    try:
        n = int(str(code), 16) if isinstance(code, str) else int(str(code))
        return SignatureScheme(n).name
    except ValueError:
        return str(code)


def records_in(data: bytes) -> list[Record]:
    """Each complete TLS record in ``data`` (a stream of one side's writes), decoded with the
    record codec (RFC 5246 §6.2.1); protected records are not opened."""
    out: list[Record] = []
    i = 0
    while i + 5 <= len(data):
        end = i + 5 + int.from_bytes(data[i + 3 : i + 5], "big")
        if end > len(data):
            break
        try:
            out.append(Record.decode(data[i:end]))
        except DecodeError:
            break
        i = end
    return out


def record_types(data: bytes) -> list[tuple[int, int]]:
    """(content type, fragment length) of each complete TLS record in ``data``."""
    return [(r.content_type, len(r.fragment)) for r in records_in(data)]


def run_facts(run: FetchRun) -> RunFacts:
    """Every fact of ``run`` the reports use, in one pass over its events."""
    events = run.log.events
    conn = server_conn = None
    for e in events:
        if (e.node, e.layer, e.kind) == (CLIENT_NODE, "tcp", "state") and e.fields.get(
            "new"
        ) == "SYN-SENT":
            conn = str(e.fields.get("conn"))
            server_conn = far_side_conn(events, conn)  # through the NAT, if any
            break
    mine = {CLIENT_NODE: conn, SERVER_NODE: server_conn}
    states: list[StateChange] = []
    segments: list[Segment] = []
    retrans: list[Retransmission] = []
    timers: list[TimerFired] = []
    checks: list[CertCheck] = []
    alerts: list[tuple[Side, str]] = []
    kex = suite = subject = version = None
    deadline: TimerFired | None = None
    drops: list[Drop] = []
    stub_queries = stub_timeouts = 0
    stub_rcode: str | None = None
    resolver_rcodes: list[str] = []
    servers: list[str] = []
    nxdomain_from: str | None = None
    resolver_why: str | None = None
    address: str | None = None
    for e in events:
        f = e.fields
        if e.kind == "drop" and e.layer in ("ip", "sim", "link"):
            drops.append(Drop(e.time, e.node, str(f.get("from", e.node)), str(f.get("reason", ""))))
        if e.layer == "dns" and e.node == "resolver":
            if e.kind == "query":
                servers.append(str(f.get("server")))
            elif e.kind == "resolved":
                resolver_rcodes.append(str(f.get("rcode")))
                resolver_why = e.why
            elif e.kind == "response" and f.get("rcode") == "NXDOMAIN":
                nxdomain_from = str(f.get("server"))
        elif e.layer == "dns" and e.node == CLIENT_NODE and e.kind == "lookup":
            if f.get("layer") == "dns" and "timeout" in f:
                stub_timeouts += 1
            elif f.get("layer") == "dns" and "rcode" not in f:
                stub_queries += 1
            elif f.get("rcode"):
                stub_rcode = str(f.get("rcode"))
        elif e.layer == "http" and e.kind == "resolved" and e.node == CLIENT_NODE:
            address = str(f.get("address"))
        side = _NODE_SIDE.get(e.node)
        if side is None:
            continue
        if e.layer == "tcp" and conn is not None and f.get("conn") == mine[e.node]:
            _tcp_fact(e, side, states, segments, retrans, timers)
        elif e.layer == "tls":
            if e.kind == "check" and side == "client":
                checks.append(
                    CertCheck(str(f.get("name")), bool(f.get("ok")), None, str(f.get("detail")))
                )
            elif e.kind == "established" and side == "client":
                kex, suite = str(f.get("key_exchange")), str(f.get("suite"))
                version = str(f["version"]) if "version" in f else "TLSv1.2"
            elif e.kind == "send" and f.get("message") == "certificate" and f.get("chain"):
                subject = str(f["chain"][0])
            elif e.kind == "alert" and f.get("direction") == "sent":
                alerts.append((side, str(f.get("alert"))))
        elif e.layer == "http" and e.kind == "handshake-failed" and side == "server":
            error = str(f.get("error"))
            if "LoopTimeout" in error or "timed out" in error or "timeout" in error.lower():
                deadline = TimerFired(e.time, "server", "handshake", error)
                timers.append(deadline)
    xi = next((s.seq for s in segments if s.side == "client" and s.flags == ("SYN",)), None)
    yi = next((s.seq for s in segments if s.side == "server" and s.flags == ("SYN", "ACK")), None)
    checks = [
        CertCheck(c.name, c.ok, subject, c.detail) if subject is not None else c for c in checks
    ]
    return RunFacts(
        conn=conn,
        server_conn=server_conn,
        client_isn=xi,
        server_isn=yi,
        listen_since=0.0 if run.scenario is None or run.scenario.listen else None,
        states=tuple(states),
        segments=tuple(segments),
        retransmissions=tuple(retrans),
        timers=tuple(timers),
        close=_close(states, segments),
        cert_checks=tuple(checks),
        hello=_hello(run),
        key_exchange=kex,
        suite=suite,
        tls_version=version,
        handshake_deadline=deadline,
        alerts_sent=tuple(alerts),
        server_subject=subject,
        dns=DnsFacts(
            stub_queries,
            stub_timeouts,
            stub_rcode,
            tuple(resolver_rcodes),
            tuple(servers),
            nxdomain_from,
            resolver_why,
        ),
        drops=tuple(drops),
        address=address,
    )


def _tcp_fact(
    e: TraceEvent,
    side: Side,
    states: list[StateChange],
    segments: list[Segment],
    retrans: list[Retransmission],
    timers: list[TimerFired],
) -> None:
    f = e.fields
    if e.kind == "state":
        event, cause = _split_why(e.why)
        states.append(StateChange(e.time, side, str(f.get("old")), str(f.get("new")), event, cause))
        if event == Input.TIME_WAIT_EXPIRED.value:
            timers.append(TimerFired(e.time, side, "2msl", cause))
    elif e.kind in ("send", "recv"):
        segments.append(
            Segment(
                e.time,
                side,
                "send" if e.kind == "send" else "recv",
                _flags(f.get("flags")),
                _int(f.get("seq")),
                _int(f.get("ack")),
                _int(f.get("len")) or 0,
                _int(f.get("rel_seq")),
                tuple(str(o) for o in f.get("options") or ()),
            )
        )
    elif e.kind == "retransmit":
        flags = _flags(f.get("flags"))
        retrans.append(
            Retransmission(
                e.time,
                side,
                flags,
                None if "SYN" in flags else _int(f.get("len")),
                None if "SYN" in flags else _int(f.get("rel_seq")),
                str(e.why or ""),
            )
        )
    elif e.kind == "rto":
        timers.append(TimerFired(e.time, side, "rto", f"RTO now {f.get('rto')} s"))


def _close(states: list[StateChange], segments: list[Segment]) -> Close:
    aborted = tuple(
        dict.fromkeys(s.side for s in states if s.event == Input.ABORT.value)  # ordered
    )
    rst_sent = tuple(
        dict.fromkeys(s.side for s in segments if s.direction == "send" and s.has("RST"))
    )
    fins = [s for s in segments if s.direction == "send" and s.has("FIN")]
    first_fin = fins[0].side if fins else None
    tw_start = next((s.time for s in states if s.side == "client" and s.new == "TIME-WAIT"), None)
    time_wait = None
    if tw_start is not None:
        leave = next(
            (s for s in states if s.side == "client" and s.old == "TIME-WAIT"),
            None,
        )
        if leave is None:
            time_wait = TimeWait(tw_start, None, "running")
        else:
            ended: Literal["timer", "rst"] = (
                "timer" if leave.event == Input.TIME_WAIT_EXPIRED.value else "rst"
            )
            time_wait = TimeWait(tw_start, leave.time, ended)
    closed_both = all(
        any(s.side == side and s.new == "CLOSED" for s in states) for side in ("client", "server")
    )
    kind: Literal["four-way", "abort", "reset", "open"]
    if aborted:
        kind = "abort"
    elif any(s.event == Input.RCV_RST.value for s in states):
        kind = "reset"
    elif {f.side for f in fins} == {"client", "server"}:
        kind = "four-way"
    else:
        kind = "open" if not closed_both else "reset"
    return Close(kind, first_fin, aborted, rst_sent, time_wait)


__all__ = [
    "COMPRESSION_METHODS",
    "CertCheck",
    "Close",
    "DnsFacts",
    "Drop",
    "FailureFacts",
    "Hello",
    "Retransmission",
    "RunFacts",
    "Segment",
    "StateChange",
    "TimeWait",
    "TimerFired",
    "record_types",
    "run_facts",
    "signature_scheme_name",
    "tls_version_name",
]
