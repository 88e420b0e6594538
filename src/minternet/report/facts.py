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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, cast

from ..apps.fetch_run import CLIENT_NODE, SERVER_NODE, FetchRun
from ..errors import DecodeError, MinternetError
from ..tcp.connection import Input
from ..tls.extensions import ExtensionType, find, parse_server_name
from ..tls.messages import ClientHello, HandshakeType, ServerHello
from ..tls.record import ContentType
from ..tls.signing import SignatureScheme
from ..tls.suites import BY_CODE as SUITES_BY_CODE
from ..tls.suites13 import TLS13_BY_CODE
from ..trace.bus import TraceEvent
from .dhcp import EMPTY_DHCP, DhcpFacts, dhcp_facts
from .paths import (
    ArpExchange,
    Decapsulation,
    Gateway,
    Hop,
    PacketPath,
    RouteChoice,
    arp_exchanges,
    decapsulation,
    gateway_of,
    packet_path,
    record_types,
    records_in,
)

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
    """The laptop's TIME-WAIT: when it began and ended, what ended it, and each time the
    peer's FIN came again in it (our last ACK was lost), which restarts the 2×MSL timer
    (RFC 9293 §3.10.7.4)."""

    start: float
    end: float | None
    ended_by: Literal["timer", "rst", "running"]
    fin_again: tuple[float, ...] = ()


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
    cert: int | None = None  # the position on the path it is about (0: leaf); None: chain


@dataclass(frozen=True, slots=True)
class CertInfo:
    """One certificate of the path the client checked, leaf first (RFC 5280 §4.1)."""

    subject: str
    issuer: str
    not_before: str  # "YYYY-MM-DD HH:MM:SS UTC"
    not_after: str
    serial: str  # hex
    signature_algorithm: str
    san: tuple[str, ...]  # subjectAltName DNS names
    sent: bool  # sent by the server (else: the client's trust store)


@dataclass(frozen=True, slots=True)
class TlsSecret:
    """A secret of the key derivation, in the order computed: TLS 1.2's pre-master and
    master secret (RFC 5246 §8.1, RFC 7627 §4) or a secret of TLS 1.3's schedule (RFC 8446
    §7.1); ``keylog`` is the NSS key log label that carries it, if any."""

    name: str
    value: str  # hex
    how: str
    keylog: str | None


@dataclass(frozen=True, slots=True)
class TlsKeys:
    """Traffic keys for one writer: TLS 1.2's key block split (RFC 5246 §6.3; ``epoch``
    "key block") or a TLS 1.3 epoch's key and IV (RFC 8446 §7.3)."""

    epoch: str  # "key block", "handshake", "application"
    writer: Side  # whose records they protect
    key: str  # hex
    iv: str
    mac_key: str  # "" for AEAD suites
    cipher: str


@dataclass(frozen=True, slots=True)
class TlsRecordSent:
    """A TLS record one side wrote: where in that side's byte stream (0 = the first byte
    after the SYN, relative sequence number 1) and what it held."""

    time: float
    side: Side
    offset: int
    length: int  # the whole record, header included
    content: str  # "handshake", "change_cipher_spec", "alert", "application_data"
    messages: tuple[str, ...]  # handshake messages in a plaintext handshake record


@dataclass(frozen=True, slots=True)
class Handshake:
    """The TLS handshake's values as the client saw them (its trace), for the TLS panel."""

    version: str | None
    client_random: str | None  # hex
    session_id: str | None
    server_name: str | None
    offered_suites: tuple[str, ...]
    offered_groups: tuple[str, ...]
    client_extensions: tuple[str, ...]
    server_random: str | None
    server_session_id: str | None
    suite: str | None
    server_extensions: tuple[str, ...]
    group: str | None
    client_public: str | None
    server_public: str | None
    signature_scheme: str | None
    extended_master_secret: bool | None
    alpn: str | None
    secrets: tuple[TlsSecret, ...]
    keys: tuple[TlsKeys, ...]
    path: tuple[CertInfo, ...]
    checked_at: str | None  # the client's clock when it checked the chain
    records: tuple[TlsRecordSent, ...]


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
class NatEvent:
    """What a NAT did (RFC 3022 NAPT), from the router's ``nat`` events: ``translate`` one
    packet out or in (``first``: the first packet that way through its mapping), ``expire``
    a mapping idle past its timeout, ``drop`` an unsolicited packet (RFC 4787 §5)."""

    time: float
    node: str
    kind: Literal["translate", "expire", "drop"]
    direction: Literal["out", "in"] | None
    protocol: str
    inside: str | None  # "ip:port" inside
    public: str | None  # "ip:port" the outside sees
    remote: str | None
    new: bool  # this packet made the mapping
    first: bool
    src: tuple[str, str]  # the source address before → after
    dst: tuple[str, str]
    icmp: str | None  # an ICMP error's embedded header, translated back (RFC 5508)
    reason: str | None  # a drop's reason
    why: str  # the router's words for a drop


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
    handshake: Handshake
    # the seed's routing step (report/paths.py) and the NAT; defaults keep older callers
    nat: tuple[NatEvent, ...] = ()
    public_address: str | None = None  # the laptop's address beyond its NAT
    gateway: Gateway | None = None
    arps: tuple[ArpExchange, ...] = ()  # the laptop's ARP exchanges
    request_path: PacketPath | None = None  # the GET's first packet, laptop → www
    response_path: PacketPath | None = None  # the response's first packet, www → laptop
    server_decap: Decapsulation | None = None  # that request packet taken apart at www
    laptop_decap: Decapsulation | None = None  # that response packet taken apart at laptop
    dhcp: DhcpFacts = EMPTY_DHCP  # how the laptop joined the network (report/dhcp.py)

    def states_of(self, side: Side) -> list[StateChange]:
        return [s for s in self.states if s.side == side]

    def state_names(self, side: Side) -> list[str]:
        changes = self.states_of(side)
        return ([changes[0].old] if changes else []) + [s.new for s in changes]

    def reached(self, side: Side, state: str) -> bool:
        return any(s.new == state for s in self.states_of(side))


def _macs(run: FetchRun) -> dict[str, str]:
    """MAC address → node name, over the run's world."""
    return {i.mac: n.name for n in run.world.hosts_and_routers for i in n.interfaces.values()}


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

    ch = _first_hello(run.wire.client_cipher, ClientHello)
    sh = _first_hello(run.wire.server_cipher, ServerHello)
    return Hello(
        ch.version if isinstance(ch, ClientHello) else None,
        tuple(ch.compression_methods) if isinstance(ch, ClientHello) else (),
        sh.version if isinstance(sh, ServerHello) else None,
    )


def _first_hello(
    writes: list[tuple[float, bytes]], kind: type[ClientHello] | type[ServerHello]
) -> ClientHello | ServerHello | None:
    """The hello of ``kind`` in a side's first write, decoded with the record and handshake
    codecs; None if there is none or it does not decode."""
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


def nat_events(events: Sequence[TraceEvent]) -> list[NatEvent]:
    """Every NAT translation, expiry and unsolicited drop of the run, in order."""
    out: list[NatEvent] = []
    seen: set[tuple[str, str, str]] = set()
    for e in events:
        f = e.fields
        if e.layer != "nat" or e.kind not in ("translate", "expire", "drop"):
            continue
        pair = [str(x) for x in f.get("src") or []] if e.kind == "translate" else []
        dpair = [str(x) for x in f.get("dst") or []] if e.kind == "translate" else []
        key = (str(f.get("protocol")), str(f.get("inside")), str(f.get("direction")))
        first = e.kind == "translate" and key not in seen
        seen.add(key)
        direction = f.get("direction")
        out.append(
            NatEvent(
                e.time,
                e.node,
                "translate"
                if e.kind == "translate"
                else "expire"
                if e.kind == "expire"
                else "drop",
                "out" if direction == "out" else "in" if direction == "in" else None,
                str(f.get("protocol", "")),
                None if f.get("inside") is None else str(f.get("inside")),
                None if f.get("public") is None else str(f.get("public")),
                None if f.get("remote") is None else str(f.get("remote")),
                bool(f.get("new")),
                first,
                (pair[0], pair[1]) if len(pair) == 2 else (str(f.get("src", "?")), "?"),
                (dpair[0], dpair[1]) if len(dpair) == 2 else (str(f.get("dst", "?")), "?"),
                None if not f.get("icmp") else str(f.get("icmp")),
                None if f.get("reason") is None else str(f.get("reason")),
                str(e.why or ""),
            )
        )
    return out


def public_view(nat: list[NatEvent] | tuple[NatEvent, ...], endpoint: str) -> str:
    """``ip:port`` of an inside endpoint as the outside sees it (its first mapping), or the
    endpoint itself when no NAT translated it."""
    for n in nat:
        if n.kind == "translate" and n.inside == endpoint and n.public is not None:
            return n.public
    return endpoint


def far_side_conn(nat: list[NatEvent] | tuple[NatEvent, ...], conn: str) -> str:
    """The server's name for the client's connection ``"local->remote"``: remote, then the
    local endpoint as the NAT made it."""
    local, _, remote = conn.partition("->")
    return f"{remote}->{public_view(nat, local)}"


def public_address_of(nat: list[NatEvent] | tuple[NatEvent, ...], address: str) -> str:
    """The address packets from inside ``address`` carry beyond the NAT."""
    for n in nat:
        if n.kind == "translate" and n.direction == "out" and n.src[0] == address:
            return n.src[1]
    return address


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


def run_facts(run: FetchRun) -> RunFacts:
    """Every fact of ``run`` the reports use, in one pass over its events."""
    events = run.log.events
    nat = nat_events(events)
    conn: str | None = None
    server_conn: str | None = None
    for e in events:
        if (e.node, e.layer, e.kind) == (CLIENT_NODE, "tcp", "state") and e.fields.get(
            "new"
        ) == "SYN-SENT":
            conn = str(e.fields.get("conn"))
            server_conn = far_side_conn(nat, conn)  # through the NAT, if any
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
                    CertCheck(
                        str(f.get("name")),
                        bool(f.get("ok")),
                        None,
                        str(f.get("detail")),
                        _int(f.get("cert")),
                    )
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
        CertCheck(c.name, c.ok, subject, c.detail, c.cert) if subject is not None else c
        for c in checks
    ]
    routing = _routing(run, events, nat, conn)
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
        handshake=_handshake(run, events),
        nat=tuple(nat),
        public_address=routing.public,
        gateway=routing.gateway,
        arps=routing.arps,
        request_path=routing.request_path,
        response_path=routing.response_path,
        server_decap=routing.server_decap,
        laptop_decap=routing.laptop_decap,
        dhcp=dhcp_facts(run.log.events, CLIENT_NODE, _macs(run)),
    )


@dataclass(frozen=True, slots=True)
class _Routing:
    gateway: Gateway | None
    arps: tuple[ArpExchange, ...]
    public: str | None = None
    request_path: PacketPath | None = None
    response_path: PacketPath | None = None
    server_decap: Decapsulation | None = None
    laptop_decap: Decapsulation | None = None


def _routing(
    run: FetchRun, events: list[TraceEvent], nat: list[NatEvent], conn: str | None
) -> _Routing:
    """The routing step's facts: the gateway and its ARP, both packets' paths, and each
    packet taken apart where it arrived (report/paths.py, from the frames)."""
    arps = arp_exchanges(run.frames, CLIENT_NODE)
    gateway = gateway_of(events, arps, CLIENT_NODE)
    if conn is None:
        return _Routing(gateway, tuple(arps))
    local, _, remote = conn.partition("->")
    me, server = local.rpartition(":")[0], remote.rpartition(":")[0]
    public = public_address_of(nat, me)

    def first(node: str, kind: str) -> float | None:
        return next(
            (e.time for e in events if (e.node, e.layer, e.kind) == (node, "http", kind)), None
        )

    req, resp = first(CLIENT_NODE, "request"), first(SERVER_NODE, "response")
    there = back = None
    if req is not None:
        there = packet_path(
            "request", run.frames, events, CLIENT_NODE, SERVER_NODE, req, me, server, public
        )
    if resp is not None:
        back = packet_path(
            "response", run.frames, events, SERVER_NODE, CLIENT_NODE, resp, server, public, me
        )
    return _Routing(
        gateway,
        tuple(arps),
        public,
        there,
        back,
        decapsulation(run.frames, SERVER_NODE, there) if there and there.arrived_at else None,
        decapsulation(run.frames, CLIENT_NODE, back) if back and back.arrived_at else None,
    )


def _strs(v: object) -> tuple[str, ...]:
    return tuple(str(x) for x in v) if isinstance(v, list | tuple) else ()


def _opt(v: object) -> str | None:
    return None if v is None else str(v)


def _handshake(run: FetchRun, events: list[TraceEvent]) -> Handshake:
    """The client's TLS values, in the order its trace reported them (RFC 5246 §7.4 and
    §8.1 for TLS 1.2, RFC 8446 §4 and §7 for 1.3); the offered suites from the ClientHello
    as sent (the record and handshake codecs)."""
    v: dict[str, object] = {}
    secrets: list[TlsSecret] = []
    keys: list[TlsKeys] = []
    path: list[CertInfo] = []
    checked_at: str | None = None
    for e in events:
        if e.layer != "tls" or e.node != CLIENT_NODE:
            continue
        f, k = e.fields, e.kind
        if k == "send" and f.get("message") == "client_hello" and "client_random" not in v:
            v["client_random"] = f.get("client_random")
            v["session_id"] = f.get("session_id")
            v["server_name"] = f.get("server_name")
            v["groups"] = _strs(f.get("groups"))
            v["client_extensions"] = _strs(f.get("extensions"))
        elif k == "server_hello":
            v["server_random"] = f.get("server_random")
            v["server_session_id"] = f.get("session_id")
            v["suite"] = f.get("suite")
            v["server_extensions"] = _strs(f.get("extensions"))
            if f.get("group") is not None:
                v["group"], v["server_public"] = f.get("group"), f.get("server_public")
        elif k == "server_key_exchange":
            v["group"], v["server_public"] = f.get("group"), f.get("server_public")
            v["signature_scheme"] = f.get("signature_scheme")
        elif k == "certificate_verify":
            v["signature_scheme"] = f.get("signature_scheme")
        elif k == "key_share" and "public" in f:
            v["client_public"] = f.get("public")
        elif k == "send" and f.get("message") == "client_key_exchange":
            if f.get("client_public") is not None:
                v["client_public"] = f.get("client_public")
        elif k == "pre_master_secret":
            how = str(f.get("origin") or "")
            secrets.append(TlsSecret("pre_master_secret", str(f.get("value")), how, None))
        elif k == "key_share" and "shared_secret" in f:
            how = f"(EC)DHE {f.get('group')} shared secret"
            secrets.append(TlsSecret("shared_secret", str(f.get("shared_secret")), how, None))
        elif k == "master_secret":
            v["ems"] = bool(f.get("extended"))
            secrets.append(
                TlsSecret("master_secret", str(f.get("value")), str(e.why or ""), "CLIENT_RANDOM")
            )
        elif k == "secret":
            secrets.append(
                TlsSecret(str(f.get("name")), str(f.get("value")), str(e.why or ""),
                          _opt(f.get("keylog")))
            )  # fmt: skip
        elif k == "keys" and "client_write_key" in f:
            cipher = str(f.get("protection") or "")
            for w in ("client", "server"):
                keys.append(
                    TlsKeys("key block", w, str(f.get(f"{w}_write_key") or ""),
                            str(f.get(f"{w}_write_iv") or ""),
                            str(f.get(f"{w}_write_mac_key") or ""), cipher)
                )  # fmt: skip
        elif k == "keys" and "epoch" in f:
            writer: Side = "client" if f.get("direction") == "write" else "server"
            keys.append(
                TlsKeys(str(f.get("epoch")), writer, str(f.get("key")), str(f.get("iv")), "",
                        str(f.get("aead")))
            )  # fmt: skip
        elif k == "path":
            checked_at = _opt(f.get("now"))
            for c in f.get("certificates") or []:
                path.append(
                    CertInfo(str(c.get("subject")), str(c.get("issuer")),
                             str(c.get("not_before")), str(c.get("not_after")),
                             str(c.get("serial")), str(c.get("signature_algorithm")),
                             _strs(c.get("san")), bool(c.get("sent")))
                )  # fmt: skip
        elif k == "established":
            v["version"] = f.get("version", "TLSv1.2")
            v["alpn"] = f.get("alpn")
            if "extended_master_secret" in f:
                v["ems"] = bool(f.get("extended_master_secret"))
    ch = _client_hello(run.wire.client_cipher)
    return Handshake(
        version=_opt(v.get("version")),
        client_random=_opt(v.get("client_random")),
        session_id=_opt(v.get("session_id")),
        server_name=_sni(ch) or _opt(v.get("server_name")),
        offered_suites=tuple(suite_name(c) for c in ch.cipher_suites) if ch else (),
        offered_groups=tuple(v.get("groups") or ()),  # type: ignore[arg-type]
        client_extensions=tuple(v.get("client_extensions") or ()),  # type: ignore[arg-type]
        server_random=_opt(v.get("server_random")),
        server_session_id=_opt(v.get("server_session_id")),
        suite=_opt(v.get("suite")),
        server_extensions=tuple(v.get("server_extensions") or ()),  # type: ignore[arg-type]
        group=_opt(v.get("group")),
        client_public=_opt(v.get("client_public")),
        server_public=_opt(v.get("server_public")),
        signature_scheme=(
            signature_scheme_name(v["signature_scheme"]) if "signature_scheme" in v else None
        ),
        extended_master_secret=bool(v["ems"]) if "ems" in v else None,
        alpn=_opt(v.get("alpn")),
        secrets=tuple(secrets),
        keys=tuple(keys),
        path=tuple(path),
        checked_at=checked_at,
        records=_records_sent(run),
    )


def suite_name(code: int) -> str:
    """The IANA name of a cipher suite code point (TLS 1.2 or 1.3), else ``0x....``."""
    s12 = SUITES_BY_CODE.get(code)
    if s12 is not None:
        return s12.name
    s13 = TLS13_BY_CODE.get(code)
    return s13.name if s13 is not None else f"0x{code:04x}"


def _client_hello(writes: list[tuple[float, bytes]]) -> ClientHello | None:
    ch = _first_hello(writes, ClientHello)
    return ch if isinstance(ch, ClientHello) else None


def _sni(ch: ClientHello | None) -> str | None:
    """The host name of the ClientHello's server_name extension (RFC 6066 §3)."""
    ext = find(ch.extensions, ExtensionType.server_name) if ch is not None else None
    if ext is None:
        return None
    try:
        return parse_server_name(ext.data)
    except (DecodeError, MinternetError):
        return None


def _records_sent(run: FetchRun) -> tuple[TlsRecordSent, ...]:
    """Every TLS record each side wrote, with its offset in that side's stream; the
    handshake messages of the plaintext ones by their type (RFC 5246 §7.4)."""
    out: list[TlsRecordSent] = []
    for side, writes in (("client", run.wire.client_cipher), ("server", run.wire.server_cipher)):
        offset = 0
        protected = False  # after this side's ChangeCipherSpec (TLS 1.2)
        pending = b""  # bytes of a record split across writes
        base = 0  # stream offset of pending[0]
        for t, data in writes:
            if not pending:
                base = offset
            pending += data
            offset += len(data)
            i = 0
            for rec in records_in(pending):
                size = 5 + len(rec.fragment)
                names: tuple[str, ...] = ()
                if rec.content_type == ContentType.handshake and not protected:
                    names = _handshake_names(rec.fragment)
                protected = protected or rec.content_type == ContentType.change_cipher_spec
                content = _CONTENT.get(int(rec.content_type), str(int(rec.content_type)))
                out.append(TlsRecordSent(t, cast(Side, side), base + i, size, content, names))
                i += size
            pending = pending[i:]
            base += i
    return tuple(out)


_CONTENT = {int(c): c.name for c in ContentType}


def _handshake_names(fragment: bytes) -> tuple[str, ...]:
    """The types of the handshake messages a plaintext record holds (type, 24-bit length
    headers, RFC 5246 §7.4); () when the bytes do not read as messages (encrypted)."""
    names: list[str] = []
    i = 0
    while i + 4 <= len(fragment):
        try:
            names.append(HandshakeType(fragment[i]).name)
        except ValueError:
            return ()
        i += 4 + int.from_bytes(fragment[i + 1 : i + 4], "big")
    return tuple(names) if i == len(fragment) else ()


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
        again = tuple(
            s.time
            for s in segments
            if s.side == "client"
            and s.direction == "recv"
            and s.has("FIN")
            and s.time > tw_start
            and (leave is None or s.time < leave.time)
        )
        if leave is None:
            time_wait = TimeWait(tw_start, None, "running", again)
        else:
            ended: Literal["timer", "rst"] = (
                "timer" if leave.event == Input.TIME_WAIT_EXPIRED.value else "rst"
            )
            time_wait = TimeWait(tw_start, leave.time, ended, again)
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
    "ArpExchange",
    "CertCheck",
    "CertInfo",
    "Close",
    "Decapsulation",
    "DnsFacts",
    "Drop",
    "FailureFacts",
    "Gateway",
    "Handshake",
    "Hello",
    "Hop",
    "NatEvent",
    "PacketPath",
    "Retransmission",
    "RouteChoice",
    "RunFacts",
    "Segment",
    "StateChange",
    "TimeWait",
    "TimerFired",
    "TlsKeys",
    "TlsRecordSent",
    "TlsSecret",
    "far_side_conn",
    "nat_events",
    "public_address_of",
    "public_view",
    "record_types",
    "records_in",
    "run_facts",
    "signature_scheme_name",
    "suite_name",
    "tls_version_name",
]
