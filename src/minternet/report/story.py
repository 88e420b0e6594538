"""The fetch story: the seed's four phases told from what one run really recorded.

:func:`build_story` reads a :class:`~minternet.apps.fetch_run.FetchRun` — its trace events,
its frames, what the applications wrote and read — and gives a :class:`Story`: four
:class:`Phase` s (the seed's 第一阶段 … 第四阶段), each a list of :class:`Step` s with the
virtual time, the node, one line, and indented detail lines. Every value shown comes from
the run (the random ISN X, ``Ack = X + 1``, the client random, the chosen suite, the TTL and
the MAC addresses at each hop); nothing is a template with blanks filled from constants.

Renderers: :func:`story_lines` (plain text with rich markup, for the terminal). The JSON
summary lives in :mod:`minternet.report.summary`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..apps.fetch_run import CLIENT_NODE, SERVER_NODE, Failure, FetchRun
from ..tls.record import ContentType
from ..tls.suites import BY_CODE
from ..trace.bus import TraceEvent
from ..trace.narrate import describe_frame
from .dhcp import dns_origin, story_items
from .facts import (
    COMPRESSION_METHODS,
    PacketPath,
    RunFacts,
    record_types,
    run_facts,
    signature_scheme_name,
    tls_version_name,
)
from .failure import explain_failure
from .nat import nat_steps
from .story13 import tls13_steps

PHASE_TITLES = (
    ("Phase 1 · Finding the server: DNS", "第一阶段:准备阶段 - DNS 解析"),
    (
        "Phase 2 · Connecting: TCP three-way handshake, then the TLS handshake",
        "第二阶段:建立连接 - 三次握手与加密信道",
    ),
    ("Phase 3 · Encrypted HTTP", "第三阶段:数据传输 - 加密的 HTTP 通信"),
    ("Phase 4 · Closing: the four-way close and TIME-WAIT", "第四阶段:连接终止 - 四次挥手"),
)
JOINING_TITLE = ("Before phase 1 · Joining the network: DHCP", "第一阶段之前:加入网络 - DHCP")


@dataclass
class Step:
    time: float
    node: str
    text: str
    details: list[str] = field(default_factory=list)
    heading: bool = False  # a sub-heading inside a phase (步骤 1, 步骤 2, …)
    fields: list[str] = field(default_factory=list)  # shown with -v only


@dataclass
class Phase:
    number: int
    title: str
    chinese: str
    start: float | None = None
    end: float | None = None
    steps: list[Step] = field(default_factory=list)

    def add(self, ev: TraceEvent | float, node: str, text: str, *details: str) -> Step:
        t = ev if isinstance(ev, float) else ev.time
        step = Step(t, node, text, [d for d in details if d])
        self.steps.append(step)
        return step

    def heading(self, t: float, text: str) -> None:
        self.steps.append(Step(t, "", text, heading=True))


@dataclass
class Story:
    run: FetchRun
    phases: list[Phase]
    facts: RunFacts
    failure: Failure | None = None
    conn: str | None = None  # the laptop's connection, "a:p->b:q"
    client_isn: int | None = None
    server_isn: int | None = None
    retransmissions: int = 0
    hops: list[dict[str, Any]] = field(default_factory=list)
    joining: Phase | None = None  # before phase 1: DHCP (report/dhcp.py)


SIDE_NODES = {"client": CLIENT_NODE, "server": SERVER_NODE}


def _hex(v: object, secrets: bool, n: int = 16) -> str:
    s = str(v)
    if secrets or len(s) <= n:
        return s
    return f"{s[:n]}…"


class _Events:
    """Queries over the run's events."""

    def __init__(self, run: FetchRun) -> None:
        self.events = run.log.events

    def find(self, node: str | None, layer: str, kind: str, **match: object) -> list[TraceEvent]:
        out = []
        for e in self.events:
            if e.layer != layer or e.kind != kind or (node is not None and e.node != node):
                continue
            if all(e.fields.get(k) == v for k, v in match.items()):
                out.append(e)
        return out

    def first(self, node: str | None, layer: str, kind: str, **match: object) -> TraceEvent | None:
        found = self.find(node, layer, kind, **match)
        return found[0] if found else None


def build_story(run: FetchRun, *, secrets: bool = False) -> Story:
    ev = _Events(run)
    phases = [Phase(i + 1, t, c) for i, (t, c) in enumerate(PHASE_TITLES)]
    facts = run_facts(run)
    story = Story(run, phases, facts, explain_failure(run, facts))
    run.failure = story.failure  # the CLI's exit line and the sweep read it there
    story.joining = _joining(facts)
    _phase_dns(story, ev, phases[0])
    _phase_connect(story, ev, phases[1], secrets)
    _phase_http(story, ev, phases[2])
    _phase_close(story, ev, phases[3])
    _gateway_step(story)
    story.retransmissions = len(facts.retransmissions)
    for t, node, text, details in nat_steps(facts.nat):
        # in time order among the phase's steps, without re-sorting them
        p = _phase_at(phases, t)
        at = next((i for i, st in enumerate(p.steps) if st.time > t), len(p.steps))
        p.steps.insert(at, Step(t, node, text, details))
    for r in facts.retransmissions:
        home = _phase_at(phases, r.time)
        if r.length is None:
            what = f"its {','.join(r.flags)} (Seq = {'X' if r.side == 'client' else 'Y'})"
        elif not r.length and "FIN" in r.flags:
            what = f"its FIN at relative seq {r.rel_seq}"
        else:
            what = f"{r.length} bytes at relative seq {r.rel_seq}"
        home.add(r.time, SIDE_NODES[r.side], f"[yellow]TCP retransmits[/] {what}: {r.reason}")
        home.steps.sort(key=lambda s: s.time)
    return story


def _joining(facts: RunFacts) -> Phase | None:
    """The DHCP exchange before phase 1: one line per message, probe and announcement."""
    d = facts.dhcp
    if not d.happened:
        return None
    p = Phase(0, *JOINING_TITLE, start=d.start, end=d.end)
    for t, node, text, fields in story_items(d):
        p.add(t, node, text).fields.extend(fields)
    return p


def _phase_at(phases: list[Phase], t: float) -> Phase:
    """The last phase begun by time ``t``."""
    return next(
        (ph for ph in reversed(phases) if ph.start is not None and ph.start <= t), phases[0]
    )


# -- phase 1 ---------------------------------------------------------------------------------
_LOOKUP_LAYERS = {
    "browser-cache": "browser cache",
    "os-cache": "OS resolver cache",
    "hosts": "hosts file",
}


def _phase_dns(story: Story, ev: _Events, p: Phase) -> None:
    host = story.run.url.host
    for e in ev.find(CLIENT_NODE, "dns", "lookup"):
        layer = str(e.fields.get("layer"))
        if p.start is None:
            p.start = e.time
        if layer in _LOOKUP_LAYERS:
            hit = e.fields.get("hit")
            p.add(
                e,
                "laptop",
                f"{_LOOKUP_LAYERS[layer]}: " + ("hit" if hit else f"no entry for {host}"),
            )
        elif layer == "dns" and "rcode" not in e.fields:
            p.add(
                e,
                "laptop",
                f"asks the configured DNS server {e.fields.get('server')} (UDP port 53)",
                str(e.why or ""),
                dns_origin(story.facts.dhcp, str(e.fields.get("server"))) or "",
            )
        elif layer == "dns":
            answers = e.fields.get("answers") or []
            p.add(
                e,
                "laptop",
                f"answer from {e.fields.get('server')}: {e.fields.get('rcode')}"
                f" ({e.fields.get('rtt_ms')} ms)",
                *(f"{a}" for a in answers),
            )
    for e in ev.events:
        if e.node != "resolver" or e.layer != "dns":
            continue
        f = e.fields
        if e.kind == "cache":
            p.add(
                e,
                "resolver",
                f"cache {'hit' if f.get('hit') else 'miss'} for {f.get('name')} {f.get('qtype')}",
            )
        elif e.kind == "query":
            p.add(
                e,
                "resolver",
                f"asks {f.get('server')}: {f.get('qname')} {f.get('qtype')}? "
                f"(id {f.get('id')}, zone {f.get('zone')})",
            )
        elif e.kind == "referral":
            glue = ", ".join(str(g) for g in f.get("glue") or []) or "no usable glue"
            p.add(e, "resolver", f"referral: {e.why}", f"glue: {glue}")
        elif e.kind == "response" and f.get("answers"):
            aa = " (authoritative)" if "aa" in (f.get("flags") or []) else ""
            p.add(
                e,
                "resolver",
                f"answer from {f.get('server')}{aa}: "
                + "; ".join(str(a) for a in f.get("answers") or []),
            )
        elif e.kind == "response" and f.get("rcode") not in (None, "NOERROR"):
            p.add(e, "resolver", f"{f.get('server')} answers {f.get('rcode')}")
        elif e.kind == "resolved":
            p.add(e, "resolver", f"resolved: {e.why}", f"{f.get('queries')} queries on the way")
    p.steps.sort(key=lambda s: s.time)
    done = ev.first(CLIENT_NODE, "http", "resolved")
    if done is not None:
        ttl = _ttl_of(ev, host)
        p.add(
            done,
            "laptop",
            f"{host} is {done.fields.get('address')}"
            + (f" (TTL {ttl} s, now in the caches)" if ttl is not None else ""),
        )
        p.end = done.time
    elif p.steps:
        p.end = p.steps[-1].time


def _ttl_of(ev: _Events, host: str) -> int | None:
    for e in ev.find(CLIENT_NODE, "dns", "lookup"):
        for a in e.fields.get("answers") or []:
            parts = str(a).split()
            if len(parts) >= 5 and parts[0].rstrip(".") == host and parts[3] == "A":
                return int(parts[1])
    return None


# -- phase 2 ---------------------------------------------------------------------------------
def _tcp_line(e: TraceEvent, x: int | None, y: int | None, me_client: bool) -> str:
    f = e.fields
    flags = str(f.get("flags"))
    seq, ack = f.get("seq"), f.get("ack")
    name = "SYN-ACK" if flags == "SYN,ACK" else flags
    parts = [f"{name}"]
    if me_client and x is not None and isinstance(seq, int):
        rel = (seq - x) % 2**32
        parts.append(f"Seq = X{f' + {rel}' if rel else ''} = {seq}")
    elif not me_client and y is not None and isinstance(seq, int):
        rel = (seq - y) % 2**32
        parts.append(f"Seq = Y{f' + {rel}' if rel else ''} = {seq}")
    else:
        parts.append(f"Seq = {seq}")
    if isinstance(ack, int):
        other = y if me_client else x
        if other is not None:
            rel = (ack - other) % 2**32
            label = "Y" if me_client else "X"
            parts.append(f"Ack = {label} + {rel} = {ack}")
        else:
            parts.append(f"Ack = {ack}")
    return ", ".join(parts)


def _phase_connect(story: Story, ev: _Events, p: Phase, secrets: bool) -> None:
    syn_sent = ev.first(CLIENT_NODE, "tcp", "state", new="SYN-SENT")
    if syn_sent is None:
        return
    conn = str(syn_sent.fields.get("conn"))
    story.conn = conn
    server_conn = str(story.facts.server_conn)
    remote, _, local = server_conn.partition("->")  # local: the client as the server sees it
    p.start = syn_sent.time
    p.heading(syn_sent.time, "Step 1 · TCP three-way handshake (步骤 1: TCP 三次握手)")
    syns = [
        e for e in ev.find(CLIENT_NODE, "tcp", "send", conn=conn) if e.fields.get("flags") == "SYN"
    ]
    x = syns[0].fields.get("seq") if syns else None
    story.client_isn = x if isinstance(x, int) else None
    synacks = [
        e
        for e in ev.find(SERVER_NODE, "tcp", "send", conn=server_conn)
        if e.fields.get("flags") == "SYN,ACK"
    ]
    y = synacks[0].fields.get("seq") if synacks else None
    story.server_isn = y if isinstance(y, int) else None
    xi = story.client_isn
    yi = story.server_isn
    handshake_done = ev.first(CLIENT_NODE, "tls", "established")
    tcp_est_server = ev.first(SERVER_NODE, "tcp", "state", conn=server_conn, new="ESTABLISHED")
    tls_start = ev.first(CLIENT_NODE, "tls", "send", message="client_hello")
    t_end_tcp = tls_start.time if tls_start is not None else float("inf")
    for e in ev.events:
        if e.layer != "tcp" or (e.time > t_end_tcp and e is not tcp_est_server):
            continue
        f = e.fields
        if e.node == CLIENT_NODE and f.get("conn") == conn:
            if e.kind == "state":
                p.add(
                    e, "laptop", f"state {f.get('old')} → [bold]{f.get('new')}[/]", str(e.why or "")
                )
            elif e.kind == "send" and ("SYN" in str(f.get("flags")) or f.get("len") == 0):
                again = " (retransmitted)" if e is not syns[0] and f.get("flags") == "SYN" else ""
                p.add(
                    e,
                    "laptop",
                    f"→ {_tcp_line(e, xi, yi, True)}{again}",
                    f"options {', '.join(f.get('options') or [])}" if f.get("options") else "",
                )
            elif e.kind == "recv" and "RST" in str(f.get("flags")):
                p.add(e, "laptop", f"← RST from {remote}: the port is closed")
            elif e.kind == "rto":
                p.add(
                    e,
                    "laptop",
                    f"retransmission timer expired (RTO now {f.get('rto')} s)",
                    str(e.why or ""),
                )
        elif e.node == SERVER_NODE and f.get("conn") == server_conn:
            if e.kind == "state" and f.get("new") == "LISTEN":
                since = story.facts.listen_since
                p.add(
                    e,
                    "www",
                    f"LISTEN on port {remote.rpartition(':')[2]}"
                    + (
                        f" since {since:.3f} s (the server's passive OPEN)"
                        if since is not None
                        else ""
                    )
                    + ": the SYN gets its own connection, forked from the listening socket",
                )
            elif e.kind == "state":
                p.add(e, "www", f"state {f.get('old')} → [bold]{f.get('new')}[/]", str(e.why or ""))
            elif e.kind == "send" and "SYN" in str(f.get("flags")):
                p.add(
                    e,
                    "www",
                    f"→ {_tcp_line(e, xi, yi, False)}",
                    "the server acknowledges the client's ISN (X + 1) and picks its own (Y)",
                )
            elif e.kind == "recv" and "SYN" in str(f.get("flags")):
                p.add(e, "www", f"← SYN from {local} arrives on port 443")
    p.steps.sort(key=lambda s: (s.time, s.heading is False))
    if tls_start is None:
        p.end = p.steps[-1].time if p.steps else p.start
        return
    if tls_start.fields.get("key_shares") is not None:  # our 1.3 client (RFC 8446)
        p.heading(tls_start.time, "Step 2 · TLS 1.3 handshake (步骤 2: TLS 1.3 握手)")
        tls13_steps(ev.events, (CLIENT_NODE, SERVER_NODE), p, secrets)
    else:
        p.heading(tls_start.time, "Step 2 · TLS 1.2 handshake (步骤 2: TLS 握手)")
        _tls_steps(story, ev, p, secrets)
    if handshake_done is None:
        _handshake_ended(story, p)
    p.end = handshake_done.time if handshake_done is not None else p.steps[-1].time


def _handshake_ended(story: Story, p: Phase) -> None:
    """A handshake that did not finish: the deadline that fired, the RSTs, the states —
    all from facts (the close phase never starts: no FIN was sent)."""
    facts = story.facts
    if facts.reached("client", "FIN-WAIT-1"):
        return  # the browser closed normally: phase 4 tells it
    deadline = facts.handshake_deadline
    if deadline is not None:
        p.add(
            deadline.time,
            SERVER_NODE,
            f"[red]TLS handshake deadline fired[/] ({deadline.detail} from accept): the "
            "server gives up on this connection and aborts it",
        )
    t0 = deadline.time if deadline is not None else p.steps[-1].time if p.steps else 0.0
    for seg in facts.segments:
        if seg.time >= t0 and seg.has("RST"):
            node = SIDE_NODES[seg.side]
            arrow = "→ RST sent" if seg.direction == "send" else "← RST received"
            p.add(seg.time, node, f"{arrow}: Seq = {seg.seq}")
    for st in facts.states:
        if st.time >= t0 and st.new == "CLOSED":
            p.add(
                st.time,
                SIDE_NODES[st.side],
                f"state {st.old} → [bold]CLOSED[/]",
                f"{st.event}: {st.cause}" if st.cause else st.event,
            )
    p.steps.sort(key=lambda s: (s.time, s.heading is False))


def _tls_steps(story: Story, ev: _Events, p: Phase, secrets: bool) -> None:
    for e in ev.events:
        if e.layer != "tls" or e.node not in (CLIENT_NODE, SERVER_NODE):
            continue
        f = e.fields
        me = e.node
        msg = f.get("message")
        if e.kind == "send" and msg == "client_hello":
            suites = f.get("cipher_suites") or []
            hello = story.facts.hello
            version = tls_version_name(hello.client_version)
            methods = ", ".join(
                f"{COMPRESSION_METHODS.get(m, 'unknown')} ({m})" for m in hello.compression_methods
            ) + (" — no TLS compression (CRIME)" if hello.compression_methods == (0,) else "")
            p.add(
                e,
                me,
                f"→ [bold]ClientHello[/] ({f.get('length')} bytes, in the clear)",
                f"version: {version}",
                f"client random: {f.get('client_random')}",
                f"cipher suites offered ({len(suites)}): " + ", ".join(map(str, suites)),
                f"compression methods: {methods}",
                f"SNI (server_name): {f.get('server_name')}",
                f"extensions: {', '.join(f.get('extensions') or [])}",
            )
        elif e.kind == "send" and msg == "server_hello":
            p.add(
                e,
                me,
                f"→ [bold]ServerHello[/] ({f.get('length')} bytes)",
                f"version: {tls_version_name(story.facts.hello.server_version)}",
                f"server random: {f.get('server_random')}",
                f"chosen cipher suite: [bold]{f.get('suite')}[/]",
                "compression: null",
                f"session id: {_hex(f.get('session_id'), True)}",
            )
        elif e.kind == "send" and msg == "certificate":
            chain = [str(c) for c in f.get("chain") or []]
            details = [f"subject: {chain[0]}" if chain else ""]
            details += [f"issuer (sent along): {c}" for c in chain[1:]]
            p.add(
                e,
                me,
                f"→ [bold]Certificate[/] ({f.get('length')} bytes): the server's "
                "certificate with its public key, signed by a CA",
                *details,
            )
        elif e.kind == "send" and msg == "server_key_exchange":
            scheme = str(f.get("signature_scheme"))
            p.add(
                e,
                me,
                f"→ [bold]ServerKeyExchange[/] ({f.get('length')} bytes): ECDHE parameters",
                f"curve: {f.get('group')}; server's ephemeral public key: {f.get('server_public')}",
                f"signed with the certificate's private key: {signature_scheme_name(scheme)}",
            )
        elif e.kind == "send" and msg == "server_hello_done":
            p.add(e, me, "→ [bold]ServerHelloDone[/]: the server's flight is complete")
        elif e.kind == "check" and me == CLIENT_NODE:
            mark = "[green]✓[/]" if f.get("ok") else "[red]✗[/]"
            p.add(e, me, f"certificate check {mark} {f.get('name')}: {f.get('detail')}")
        elif e.kind == "server_key_exchange" and me == CLIENT_NODE:
            ok = f.get("signature_ok")
            p.add(
                e,
                me,
                "ServerKeyExchange signature "
                + ("[green]verified[/] with the certificate's public key" if ok else "[red]bad[/]"),
            )
        elif e.kind == "send" and msg == "client_key_exchange":
            if "client_public" in f:
                p.add(
                    e,
                    me,
                    f"→ [bold]ClientKeyExchange[/] ({f.get('length')} bytes): the "
                    f"client's ephemeral public key {f.get('client_public')}",
                )
            else:
                p.add(
                    e,
                    me,
                    f"→ [bold]ClientKeyExchange[/] ({f.get('length')} bytes): the "
                    "Pre-Master Secret, RSA-encrypted with the server's public key "
                    "(from its certificate)",
                )
        elif e.kind == "pre_master_secret":
            p.add(
                e,
                me,
                f"[bold]Pre-Master Secret[/]: {f.get('origin')}",
                f"value: {_hex(f.get('value'), secrets)}"
                if secrets
                else f"{len(str(f.get('value'))) // 2} bytes (value with --secrets)",
            )
        elif e.kind == "master_secret":
            ems = bool(f.get("extended"))
            p.add(
                e,
                me,
                "[bold]Master Secret[/] (48 bytes) from the Pre-Master Secret and "
                + (
                    "the hash of the handshake so far (extended master secret, RFC 7627 §4): "
                    "the randoms are in that hash, and the hash ties the secret to this "
                    "handshake's certificate and key exchange"
                    if ems
                    else "Client Random + Server Random (RFC 5246 §8.1)"
                ),
                str(e.why or ""),
                f"value: {f.get('value')}" if secrets else "(value with --secrets)",
            )
        elif e.kind == "keys":
            details = [
                str(e.why or ""),
                f"{f.get('protection')}: write keys {f.get('key_length')} bytes each way, "
                f"IVs {f.get('iv_length')} bytes, MAC keys {f.get('mac_key_length')} bytes"
                + (
                    " (AEAD: integrity is part of the cipher)"
                    if not f.get("mac_key_length")
                    else ""
                ),
            ]
            if secrets:
                details += [
                    f"{k}: {f.get(k)}"
                    for k in (
                        "client_write_key",
                        "server_write_key",
                        "client_write_iv",
                        "server_write_iv",
                        "client_write_mac_key",
                        "server_write_mac_key",
                    )
                    if f.get(k)
                ]
            p.add(e, me, "session keys derived", *details)
        elif e.kind == "send" and msg == "ChangeCipherSpec":
            p.add(
                e,
                me,
                "→ [bold]ChangeCipherSpec[/]: from now on, everything I send is "
                f"encrypted ({f.get('protection')})",
            )
        elif e.kind == "send" and msg == "finished":
            p.add(
                e,
                me,
                f"→ [bold]Finished[/] (encrypted): verify_data {f.get('verify_data')} "
                "= PRF(master, label, hash of every handshake message)",
            )
        elif e.kind == "finished":
            ok = "[green]matches[/]" if f.get("ok") else "[red]does not match[/]"
            p.add(
                e, me, f"peer's Finished decrypted; verify_data {ok}: nobody altered the handshake"
            )
        elif e.kind == "established":
            p.add(
                e,
                me,
                f"TLS established: {f.get('suite')} ({f.get('key_exchange')}, "
                f"ALPN {f.get('alpn')})",
            )
        elif e.kind == "alert" and f.get("direction") == "sent":
            p.add(e, me, f"→ [red]alert {f.get('alert')}[/]", str(e.why or ""))


# -- phase 3 ---------------------------------------------------------------------------------
def _head(data: bytes) -> list[str]:
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return []
    return data[:end].decode("latin-1").split("\r\n")


def _phase_http(story: Story, ev: _Events, p: Phase) -> None:
    run = story.run
    req = ev.first(CLIENT_NODE, "http", "request")
    if req is None:
        return
    p.start = req.time
    wire = run.wire
    head = _head(bytes(wire.client_sent))
    p.add(req, "laptop", f"browser: [bold]{head[0] if head else req.fields}[/]", *head[1:])
    sent_cipher = [
        (t, b)
        for t, b in wire.client_cipher
        if t >= req.time and all(ct != ContentType.change_cipher_spec for ct, _ in record_types(b))
    ]  # (TLS 1.3: the client's Finished goes out at the same instant, after its CCS)
    if sent_cipher:
        recs = record_types(sent_cipher[0][1])
        p.add(
            req,
            "laptop",
            f"TLS: the {len(wire.client_sent)}-byte request becomes "
            + ", ".join(
                f"{ContentType(t).name if t in (20, 21, 22, 23) else t} record: a 5-byte "
                f"header + {n} bytes (the request encrypted, plus "
                f"{n - len(wire.client_sent)} bytes of explicit nonce/IV, tag/MAC and padding)"
                for t, n in recs
            ),
        )
    segs = [
        e
        for e in ev.find(CLIENT_NODE, "tcp", "send", conn=story.conn)
        if e.time >= req.time and e.fields.get("len") and "FIN" not in str(e.fields.get("flags"))
    ][:1]
    if segs:
        s = segs[0]
        f = s.fields
        local, _, remote = str(story.conn).partition("->")
        p.add(
            s,
            "laptop",
            f"TCP: one segment {local.split(':')[1]} → {remote.split(':')[1]}, "
            f"Seq = {f.get('seq')} (X + {f.get('rel_seq')}), Ack = {f.get('ack')}, "
            f"{f.get('len')} bytes of payload [{f.get('flags')}]",
        )
        _packet_path(story, p, s.time)
    _server_side(story, ev, p)
    _response_path(story, p)
    resp = ev.first(CLIENT_NODE, "http", "response")
    if resp is not None:
        rhead = _head(bytes(wire.client_received))
        p.add(resp, "laptop", f"browser: [bold]{rhead[0] if rhead else resp.fields}[/]", *rhead[1:])
    done = ev.first(CLIENT_NODE, "tls", "close_notify", direction="sent")
    body = run.page.body if run.page is not None else b""
    if done is not None:
        p.add(
            done,
            "laptop",
            f"browser: the whole body is in ({len(body)} bytes); the page is rendered below",
        )
        p.end = done.time
    elif p.steps:
        p.end = p.steps[-1].time
    p.steps.sort(key=lambda s: s.time)


def _server_side(story: Story, ev: _Events, p: Phase) -> None:
    run = story.run
    wire = run.wire
    server_conn = str(story.facts.server_conn)
    d = story.facts.server_decap
    if d is not None:
        p.add(
            d.time,
            "www",
            "server side (服务器端的反向流程):",
            f"1. Ethernet {d.eth_src} → {d.eth_dst} (its own MAC): strip the MAC header; "
            f"EtherType 0x{d.ethertype:04x} → IPv4",
            f"2. IPv4 {d.ip_dst} ← {d.ip_src}, TTL {d.ttl}, protocol {d.protocol} → "
            "strip the IP header, hand the payload to TCP",
            f"3. TCP: destination port {d.dst_port} → the listening web server's connection; "
            f"{d.payload} bytes in order (Seq = {d.seq}) go to TLS",
            f"4. TLS: decrypted with the client write key → {len(wire.server_received)} bytes "
            "of HTTP",
            "5. HTTP: " + (_head(bytes(wire.server_received)) or ["?"])[0],
        )
    for e in ev.find(SERVER_NODE, "http", "response"):
        f = e.fields
        p.add(
            e,
            "www",
            f"web server: {f.get('method')} {f.get('target')} → {f.get('status')}, "
            f"{f.get('bytes')} bytes of the file served",
        )
        t = e.time
        stream = b"".join(b for tt, b in wire.server_cipher if tt >= t)
        recs = [r for r in record_types(stream) if r[0] == ContentType.application_data]
        if recs:
            sizes = [n for _, n in recs]
            shown = ", ".join(map(str, sizes[:6])) + (" …" if len(sizes) > 6 else "")
            p.add(
                e,
                "www",
                f"TLS: the response is cut into {len(recs)} application_data "
                f"record(s) of 5 + {shown} bytes (at most 16 KiB of plaintext each; "
                f"{sum(sizes) - len(wire.server_sent)} bytes of nonces, tags and padding in all)",
            )
        want = sum(5 + n for _, n in recs)
        segs = []
        total = 0
        for x in ev.find(SERVER_NODE, "tcp", "send", conn=server_conn):
            if x.time < t or not x.fields.get("len") or total >= want:
                continue
            segs.append(x)
            total += int(x.fields.get("len") or 0)
        sizes = [int(x.fields.get("len") or 0) for x in segs]
        if segs:
            p.add(
                e,
                "www",
                f"TCP: {total} bytes of records sent as {len(segs)} segment(s) "
                f"of {', '.join(map(str, sizes[:12]))}{' …' if len(sizes) > 12 else ''} bytes "
                "(MSS 1460 − 12 bytes of timestamps = 1448), each in its own IP packet",
            )
        break


def _path_lines(path: PacketPath) -> list[str]:
    """A packet's hops: at each node, the route it chose, the new MAC header, the TTL."""
    lines = []
    prev = None
    for h in path.hops:
        r = h.route
        route = ""
        if r is not None:
            via = f"next hop {r.gateway}" if r.gateway else f"{r.dst} is on that link"
            route = f"route {r.prefix} → {via}, out {r.iface}; "
        nat = ""
        if h.translated and prev is not None:
            if h.src != prev.src:
                nat = f", source {h.src} (NAT)"
            if h.dst != prev.dst:
                nat += f", destination {h.dst} (NAT)"
        lines.append(
            f"{h.node}/{h.iface} sends it: {route}Ethernet {h.src_mac} → {h.dst_mac}, "
            f"IP TTL {h.ttl}{nat}"
        )
        prev = h
    first = path.hops[0]
    if path.arrived_at is not None and path.arrived_ttl is not None:
        n = first.ttl - path.arrived_ttl
        lines.append(
            f"{path.arrived_at} receives it with TTL {path.arrived_ttl} = {first.ttl} − {n} "
            f"router{'s' if n != 1 else ''}"
        )
    else:
        lines.append(
            "this copy was not received at the far end (lost on the way); TCP's "
            "retransmission carries its bytes again"
        )
    return lines


def _packet_path(story: Story, p: Phase, t: float) -> None:
    """The request's IP packet from the laptop to the server, hop by hop (from facts)."""
    path = story.facts.request_path
    if path is None:
        return
    story.hops = [
        {
            "node": h.node,
            "iface": h.iface,
            "ttl": h.ttl,
            "src": h.src,
            "src_mac": h.src_mac,
            "dst_mac": h.dst_mac,
            "time": h.time,
            "next_hop": h.route.next_hop if h.route is not None else None,
        }
        for h in path.hops
    ]
    p.add(
        t,
        "laptop",
        f"IP: packet id {path.ip_id}, {path.src} → {path.dst}, protocol TCP; its path, hop "
        "by hop (each router strips the MAC header, looks up the route, TTL − 1, new MAC "
        "header):",
        *_path_lines(path),
    )


def _response_path(story: Story, p: Phase) -> None:
    """The response's first packet back to the laptop, hop by hop, and the laptop taking it
    apart layer by layer (the seed: 响应流程与请求完全对称 … 反向解封装)."""
    facts = story.facts
    path = facts.response_path
    if path is not None:
        p.add(
            path.hops[0].time,
            SERVER_NODE,
            f"IP: the response's first packet, id {path.ip_id}, {path.src} → {path.dst}; "
            "its path back, hop by hop (the response's way mirrors the request's):",
            *_path_lines(path),
        )
    d = facts.laptop_decap
    if d is None:
        return
    wire = story.run.wire
    recs = "; ".join(f"a {t} record of 5 + {n} bytes" for t, n in d.records)
    rest = d.payload - sum(5 + n for _, n in d.records)
    if rest:
        recs += ("; then " if recs else "") + f"{rest} bytes of a record that the next "
        recs += "segment(s) complete (TCP hands TLS a byte stream; records span segments)"
    head = _head(bytes(wire.client_received))
    p.add(
        d.time,
        "laptop",
        "laptop side (反向解封装):",
        f"1. Ethernet {d.eth_src} → {d.eth_dst} (its own MAC): strip the MAC header; "
        f"EtherType 0x{d.ethertype:04x} → IPv4",
        f"2. IPv4 {d.ip_dst} ← {d.ip_src}, TTL {d.ttl}, protocol {d.protocol} → strip the "
        "IP header, hand the payload to TCP",
        f"3. TCP: destination port {d.dst_port} → the browser's connection; {d.payload} "
        f"bytes in order (Seq = {d.seq}) go to TLS",
        f"4. TLS: {recs}; each record is decrypted with the server write key → "
        f"{len(wire.client_received)} bytes of HTTP in all",
        "5. HTTP: " + (head[0] if head else "?") + " → the browser renders the page",
    )


def _gateway_step(story: Story) -> None:
    """The laptop's first packet off its own network: the route that names the gateway, and
    (the first time only) the ARP exchange that found the gateway's MAC."""
    g = story.facts.gateway
    if g is None:
        return
    arp = g.arp
    t = arp.request_time if arp is not None else None
    if t is None:
        return
    details = [
        f"ARP request, broadcast to ff:ff:ff:ff:ff:ff: who has {g.address}? tell {arp.sender_ip}"
        if arp is not None
        else ""
    ]
    if arp is not None and arp.mac is not None and arp.reply_time is not None:
        details.append(
            f"ARP reply from {arp.answered_by}: {g.address} is at {arp.mac} "
            f"({(arp.reply_time - arp.request_time) * 1000:.3f} ms later); the laptop keeps it "
            "in its ARP cache, so the next packets go straight out"
        )
    p = _phase_at(story.phases, t)
    at = next((i for i, st in enumerate(p.steps) if st.time > t), len(p.steps))
    p.steps.insert(
        at,
        Step(
            t,
            CLIENT_NODE,
            f"routing: {g.for_dst} is not on the laptop's network, so the route {g.prefix} "
            f"sends it to the gateway {g.address} (the home router) out {g.iface}; its MAC "
            "address comes from ARP",
            [d for d in details if d],
        ),
    )


# -- phase 4 ---------------------------------------------------------------------------------
def _phase_close(story: Story, ev: _Events, p: Phase) -> None:
    conn = story.conn
    if conn is None:
        return
    server_conn = story.facts.server_conn
    fw1 = ev.first(CLIENT_NODE, "tcp", "state", conn=conn, new="FIN-WAIT-1")
    if fw1 is None:
        return
    p.start = fw1.time
    note = ev.first(CLIENT_NODE, "tls", "close_notify", direction="sent")
    if note is not None:
        p.add(
            note,
            "laptop",
            "browser closes: TLS "
            + _what_records(story.run.wire.client_cipher, note.time)
            + ", then the socket",
        )
    xi, yi = story.client_isn, story.server_isn
    close = story.facts.close
    client_fins = [
        s
        for s in story.facts.segments
        if s.side == "client" and s.direction == "send" and s.has("FIN")
    ]
    fin_acked = {(s.seq or 0) + s.length + 1 for s in client_fins}
    ack_of_fin: TraceEvent | None = None
    fin_server: TraceEvent | None = None
    for e in ev.events:
        if e.time < fw1.time or e.layer != "tcp":
            continue
        f = e.fields
        flags = str(f.get("flags"))
        if e.node == CLIENT_NODE and f.get("conn") == conn:
            if e.kind == "state":
                p.add(
                    e, "laptop", f"state {f.get('old')} → [bold]{f.get('new')}[/]", str(e.why or "")
                )
            elif e.kind == "send" and "RST" in flags:
                p.add(e, "laptop", f"→ RST: the browser aborts: {_tcp_line(e, xi, yi, True)}")
            elif e.kind == "send" and ("FIN" in flags or (f.get("len") == 0 and "ACK" in flags)):
                what = "FIN: I have nothing more to send" if "FIN" in flags else "ACK"
                p.add(e, "laptop", f"→ {what}: {_tcp_line(e, xi, yi, True)}")
        elif e.node == SERVER_NODE and f.get("conn") == server_conn:
            if e.kind == "state":
                p.add(e, "www", f"state {f.get('old')} → [bold]{f.get('new')}[/]", str(e.why or ""))
            elif e.kind == "send" and "RST" in flags:
                p.add(e, "www", f"→ RST: the server aborts: {_tcp_line(e, xi, yi, False)}")
            elif e.kind == "send" and "FIN" in flags:
                what = (
                    "FIN again: its ACK has not come (retransmitted)"
                    if fin_server is not None
                    else "FIN: the server is done too"
                    if close.kind == "four-way"
                    else "FIN: the server closes its sending side"
                )
                fin_server = fin_server or e
                p.add(e, "www", f"→ {what}: {_tcp_line(e, xi, yi, False)}")
            elif e.kind == "send" and f.get("len") == 0:
                if f.get("ack") in fin_acked and ack_of_fin is None:
                    ack_of_fin = e
                    what = "ACK of the client's FIN"
                else:
                    what = "ACK"
                p.add(e, "www", f"→ {what}: {_tcp_line(e, xi, yi, False)}")
            elif e.kind == "send" and f.get("len"):
                p.add(
                    e,
                    "www",
                    f"→ {f.get('len')} bytes server → client: "
                    + _what_records(story.run.wire.server_cipher, e.time),
                )
    if (
        close.kind == "four-way"
        and ack_of_fin is not None
        and fin_server is not None
        and fin_server.time >= ack_of_fin.time
    ):
        gap = (fin_server.time - ack_of_fin.time) * 1000
        p.add(
            ack_of_fin.time,
            "www",
            f"half-close window: {gap:.3f} ms between the ACK and the "
            "server's own FIN — the client → server direction is closed, server → client "
            "could still carry data",
        )
    if close.kind == "abort":
        who = " and ".join(
            "the browser" if s == "client" else "the server" for s in close.aborted_by
        )
        p.add(
            p.steps[-1].time if p.steps else fw1.time,
            "laptop",
            f"no four-way close: {who} aborted the connection (RFC 9293 §3.10.5: an abort "
            "sends RST and forgets the connection at once; no TIME-WAIT)",
        )
    tw = close.time_wait
    if tw is not None and tw.end is not None:
        if tw.ended_by == "timer" and tw.fin_again:
            last = tw.fin_again[-1]
            p.add(
                tw.end,
                "laptop",
                f"TIME-WAIT did its job: the laptop's last ACK was lost, so the server's FIN "
                f"came again at {last:.3f} s; the laptop acknowledged it again and restarted "
                f"the 2×MSL timer (RFC 9293 §3.10.7.4). TIME-WAIT lasted "
                f"{tw.end - tw.start:.3f} s in all: 2×MSL ({tw.end - last:.3f} s) from that "
                "last FIN; the connection is gone",
            )
        elif tw.ended_by == "timer":
            p.add(
                tw.end,
                "laptop",
                f"TIME-WAIT lasted {tw.end - tw.start:.3f} s (2×MSL) in "
                "case the last ACK was lost and the server's FIN comes again; the connection "
                "is gone",
            )
        else:
            p.add(
                tw.end,
                "laptop",
                f"TIME-WAIT was cut short after {tw.end - tw.start:.3f} s by an RST from the "
                "server (not the 2×MSL timer)",
            )
    closed = [s for s in story.facts.states_of("client") if s.new == "CLOSED"]
    if closed:
        p.end = closed[-1].time
    elif p.steps:
        p.end = p.steps[-1].time
    p.steps.sort(key=lambda s: s.time)


def _what_records(writes: list[tuple[float, bytes]], t: float) -> str:
    for tt, data in writes:
        if abs(tt - t) < 1e-9 or tt >= t:
            recs = record_types(data)
            if recs and all(ct == ContentType.alert for ct, _ in recs):
                return "close_notify alert record (encrypted)"
            return (
                ", ".join(
                    f"{ContentType(ct).name if ct in (20, 21, 22, 23) else ct} record"
                    for ct, _ in recs
                )
                or "data"
            )
    return "data"


# -- rendering -------------------------------------------------------------------------------
def story_lines(story: Story, *, verbose: bool = False) -> list[str]:
    """The story as lines of rich markup."""
    run = story.run
    out: list[str] = []
    kex = story_kex(story)
    out.append(
        f"[bold]minternet fetch {run.url}[/]  ·  seed {run.options.seed}"
        + (f"  ·  scenario {run.scenario.name}" if run.scenario else "")
        + (f"  ·  key exchange {kex}" if kex else "")
    )
    if run.scenario is not None:
        out.append(f"[yellow]{run.scenario.title}[/]: {run.scenario.change}")
    for ph in ([story.joining] if story.joining is not None else []) + story.phases:
        span = ""
        if ph.start is not None and ph.end is not None:
            span = f"  [dim]{ph.start:.3f} s → {ph.end:.3f} s[/]"
        out.append("")
        out.append(f"[bold cyan]━━ {ph.title}[/]  [dim]({ph.chinese})[/]{span}")
        if not ph.steps:
            out.append("   [dim](did not happen)[/]")
        for s in ph.steps:
            if s.heading:
                out.append(f"  [bold]{s.text}[/]")
                continue
            out.append(f"  [dim]{s.time:9.6f}[/] [cyan]{s.node:>8}[/]  {s.text}")
            for d in s.details + (s.fields if verbose else []):
                out.append(f"{'':21}[dim]│[/] {d}")
    if verbose:
        out.append("")
        out.append("[bold cyan]━━ Every frame[/]")
        for fr in run.frames:
            arrow = "→" if fr.direction == "out" else "←"
            out.append(
                f"  [dim]{fr.time:9.6f}[/] {fr.node}/{fr.iface} {arrow} {describe_frame(fr.data)}"
            )
    return out


def story_kex(story: Story) -> str | None:
    for e in story.run.log.of("tls", "established"):
        if e.node == CLIENT_NODE:
            return str(e.fields.get("key_exchange"))
    return None


def suite_name(code: int) -> str:
    s = BY_CODE.get(code)
    return s.name if s is not None else f"0x{code:04x}"


__all__ = ["PHASE_TITLES", "Phase", "Step", "Story", "build_story", "story_lines"]
