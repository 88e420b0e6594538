"""The TCP panel: per connection, per end, a time–sequence graph in the style of Stevens
(TCP/IP Illustrated vol. 1 §17; Wireshark's "Stevens" graph) and the end's congestion and
timer state over the same time axis.

From the trace events of each endpoint (``tcp`` layer, one per ``(node, conn)``):

- every segment it sent, as a vertical bar from its relative sequence number to the end of
  what it carried (SYN and FIN count one, RFC 9293 §3.4); retransmissions (the segment a
  ``retransmit`` event follows) in their own colour, each its own element ``mp-retx``;
- what came back: the ACK line (SEG.ACK of each segment received), the receive-window
  line (ACK + SEG.WND scaled by the peer's window-scale shift, RFC 7323 §2.3) and the SACK
  blocks (RFC 2018) as short bars;
- frames a link lost (``sim`` ``drop`` events) as crosses: the end's data where it was
  lost, and lost ACKs of the peer on the ACK line;
- below: cwnd and ssthresh (RFC 5681 §3.1), SRTT and RTO (RFC 6298), and the states of
  RFC 9293 §3.3.2 as a strip.

Long transfers keep the markup small: past a few thousand points, segments that follow on
in one pixel column are drawn as one bar and lines keep four vertices a column
(:func:`~minternet.report.panels.svg.step_points`); every retransmission and every loss
keeps its own mark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ...trace.bus import FrameRecord, TraceEvent
from ..facts import far_side_conn, nat_events
from .frames import FrameIndex, SegmentKey, key_of
from .svg import Scale, attrs, axes, esc, num, polyline, seconds, step_points, svg_open

MASK = 0xFFFFFFFF
WIDTH = 920  # px, every plot of the panel
LEFT, RIGHT = 76, 24  # px, margins for the y ticks and the end
PLOT = WIDTH - LEFT - RIGHT
TAIL = 110  # px of the states strip for what happens after the plots' last segment
SEGMENT_LIMIT = 1500  # bars drawn one by one up to this many segments per graph
LINE_LIMIT = 2000  # step-line points drawn as they are up to this many


@dataclass
class _Seg:
    time: float
    flags: str
    rel_seq: int
    rel_ack: int | None
    length: int  # payload bytes
    win: int
    options: tuple[str, ...]
    key: SegmentKey
    frame: int | None = None
    retx: str | None = None  # why it was sent again

    @property
    def span(self) -> int:
        """SEG.LEN: payload plus one for SYN and one for FIN (RFC 9293 §3.4)."""
        return self.length + ("SYN" in self.flags) + ("FIN" in self.flags)


@dataclass
class _Endpoint:
    node: str
    conn: str
    sent: list[_Seg] = field(default_factory=list)
    got: list[_Seg] = field(default_factory=list)
    cwnd: list[tuple[float, int, int, str]] = field(default_factory=list)
    rtt: list[tuple[float, float | None, float]] = field(default_factory=list)
    states: list[tuple[float, str, str, str]] = field(default_factory=list)
    # our segments a link lost: (when, relative seq, SEG.LEN, the lost frame)
    lost: list[tuple[float, int, int, int]] = field(default_factory=list)
    iss: int | None = None

    @property
    def first_time(self) -> float:
        times = [s.time for s in self.sent[:1] + self.got[:1]]
        times += [st[0] for st in self.states[:1]]
        return min(times) if times else 0.0

    def window_shift(self) -> int:
        """The shift that scales the windows the peer advertises: its SYN's WS option,
        if ours had one too (RFC 7323 §2.2)."""
        mine = next((s for s in self.sent if "SYN" in s.flags), None)
        theirs = next((s for s in self.got if "SYN" in s.flags), None)
        if mine is None or theirs is None:
            return 0
        if not any(o.startswith("WS=") for o in mine.options):
            return 0
        return next((int(o[3:]) for o in theirs.options if o.startswith("WS=")), 0)


def _int(v: object, default: int = 0) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else default


def _seg(e: TraceEvent) -> _Seg:
    f = e.fields
    flags = str(f.get("flags") or "")
    ack = f.get("ack")
    ack_i = ack if isinstance(ack, int) else None
    rel_ack = f.get("rel_ack")
    options = tuple(str(o) for o in f.get("options") or ())
    length = _int(f.get("len"))
    return _Seg(
        e.time, flags, _int(f.get("rel_seq")), rel_ack if isinstance(rel_ack, int) else None,
        length, _int(f.get("win")), options, (_int(f.get("seq")), ack_i, flags, length),
    )  # fmt: skip


def _endpoints(events: Sequence[TraceEvent]) -> dict[tuple[str, str], _Endpoint]:
    eps: dict[tuple[str, str], _Endpoint] = {}
    for e in events:
        if e.layer != "tcp":
            continue
        conn = e.fields.get("conn")
        if not isinstance(conn, str):
            continue
        ep = eps.get((e.node, conn))
        if ep is None:
            ep = eps[(e.node, conn)] = _Endpoint(e.node, conn)
        f, k = e.fields, e.kind
        if k == "send":
            s = _seg(e)
            ep.sent.append(s)
            if ep.iss is None:
                ep.iss = (s.key[0] - s.rel_seq) & MASK
        elif k == "recv":
            ep.got.append(_seg(e))
        elif k == "retransmit" and ep.sent:
            ep.sent[-1].retx = e.why or "retransmission"
        elif k == "cwnd":
            ep.cwnd.append(
                (e.time, _int(f.get("cwnd")), _int(f.get("ssthresh")), str(f.get("phase")))
            )
        elif k in ("rtt", "rto"):
            srtt = f.get("srtt")
            rto = f.get("rto")
            if isinstance(rto, int | float):
                ep.rtt.append(
                    (e.time, float(srtt) if isinstance(srtt, int | float) else None, float(rto))
                )
        elif k == "state":
            ep.states.append((e.time, str(f.get("old")), str(f.get("new")), e.why or ""))
    return eps


def _connections(
    events: Sequence[TraceEvent], eps: dict[tuple[str, str], _Endpoint]
) -> list[list[_Endpoint]]:
    """Endpoints paired into connections (the active opener first), in order of appearance;
    a NAT between them is seen through (:func:`~minternet.report.facts.far_side_conn`)."""
    nat = nat_events(events)
    by_conn: dict[str, list[_Endpoint]] = {}
    for ep in eps.values():
        by_conn.setdefault(ep.conn, []).append(ep)
    used: set[int] = set()  # id() of endpoints already placed (membership only)
    out: list[list[_Endpoint]] = []
    for ep in eps.values():
        if id(ep) in used:
            continue
        used.add(id(ep))
        pair = [ep]
        active = any(new == "SYN-SENT" for _, _, new, _ in ep.states)
        if active:
            local, _, remote = ep.conn.partition("->")
            for name in (far_side_conn(nat, ep.conn), f"{remote}->{local}"):
                peer = next(
                    (p for p in by_conn.get(name, []) if id(p) not in used and p.node != ep.node),
                    None,
                )
                if peer is not None:
                    used.add(id(peer))
                    pair.append(peer)
                    break
        out.append(pair)
    return out


def _attach_frames(
    eps: dict[tuple[str, str], _Endpoint],
    events: Sequence[TraceEvent],
    frames: Sequence[FrameRecord],
) -> dict[int, list[tuple[float, int, int, str]]]:
    """Give each segment its frame, put lost frames on their sender's graph; returns the
    peer's lost ACKs by the id() of the endpoint whose ACK line they belong to."""
    lost_acks: dict[int, list[tuple[float, int, int, str]]] = {}
    if not frames:
        return lost_acks
    nodes = {ep.node: True for ep in eps.values()}
    index = FrameIndex(frames, nodes)
    sent_by_key: dict[SegmentKey, tuple[_Endpoint, _Seg]] = {}
    for ep in eps.values():
        for s in ep.sent:
            s.frame = index.claim(ep.node, "out", s.key, s.time)
            sent_by_key[s.key] = (ep, s)
        for s in ep.got:
            s.frame = index.claim(ep.node, "in", s.key, s.time)
    peers: dict[int, _Endpoint] = {}
    for pair in _connections(events, eps):
        if len(pair) == 2:
            peers[id(pair[0])], peers[id(pair[1])] = pair[1], pair[0]
    for e in events:
        if e.layer != "sim" or e.kind != "drop":
            continue
        found = index.dropped(str(e.fields.get("from")), e.time)
        seg = found[1] if found is not None else None
        if found is None or seg is None:
            continue
        i = found[0]
        hit = sent_by_key.get(key_of(seg))
        if hit is None:
            continue
        ep, s = hit
        if s.span > 0:
            ep.lost.append((e.time, s.rel_seq, s.span, i))
        elif s.rel_ack is not None and id(ep) in peers:
            lost_acks.setdefault(id(peers[id(ep)]), []).append((e.time, s.rel_ack, i, s.flags))
    return lost_acks


# -- rendering ---------------------------------------------------------------------------
_STYLE = """<style>
.mp-tcp{font:12px/1.35 system-ui,sans-serif;color:#222}
.mp-tcp h3{font-size:14px;margin:12px 0 4px}.mp-tcp h4{font-size:13px;margin:10px 0 2px}
.mp-tcp .mp-note{margin:2px 0;color:#444}.mp-tcp svg{display:block;max-width:100%;height:auto}
.mp-grid{stroke:#e6e6e6;stroke-width:1}.mp-frame{fill:none;stroke:#999}
.mp-tick{font-size:10px;fill:#555}.mp-axis-label{font-size:11px;fill:#333}
.mp-seg,.mp-key-seg{stroke:#1f5fbf;stroke-width:2}.mp-ctl{stroke:#6a3fb0;stroke-width:3}
.mp-retx,.mp-key-retx{stroke:#d62728;stroke-width:2.5;fill:#d62728}
.mp-ack,.mp-key-ack{fill:none;stroke:#2ca02c;stroke-width:1.2}
.mp-rwnd,.mp-key-rwnd{fill:none;stroke:#ff9f1c;stroke-width:1;stroke-dasharray:4 2}
.mp-sack,.mp-key-sack{stroke:#17becf;stroke-width:3;opacity:.7}
.mp-drop,.mp-key-drop{fill:none;stroke:#000;stroke-width:1.6}.mp-ack-final{fill:#2ca02c}
.mp-cwnd,.mp-key-cwnd{fill:none;stroke:#1f5fbf;stroke-width:1.4}
.mp-ssthresh,.mp-key-ssthresh{fill:none;stroke:#d62728;stroke-width:1;stroke-dasharray:5 3}
.mp-srtt,.mp-key-srtt{fill:none;stroke:#2ca02c;stroke-width:1.4}
.mp-rto,.mp-key-rto{fill:none;stroke:#9467bd;stroke-width:1.4}
.mp-state{stroke:#fff;stroke-width:1}.mp-state-label{font-size:10px;fill:#111}
.mp-key{font-size:10px;fill:#333}
.mp-st-CLOSED{fill:#ddd}.mp-st-LISTEN{fill:#e8e0f5}.mp-st-SYN-SENT,.mp-st-SYN-RECEIVED{fill:#cfe0fa}
.mp-st-ESTABLISHED{fill:#bfe6c0}.mp-st-FIN-WAIT-1,.mp-st-FIN-WAIT-2,.mp-st-CLOSING{fill:#fde3b5}
.mp-st-CLOSE-WAIT,.mp-st-LAST-ACK{fill:#fbd0c6}.mp-st-TIME-WAIT{fill:#f7e7a1}
</style>"""


def tcp_panel_html(events: Sequence[TraceEvent], frames: Sequence[FrameRecord] = ()) -> str:
    """The TCP panel of a run (see the module docstring): one ``<section class="mp-tcp">``
    with a ``<figure class="mp-tcp-end">`` per endpoint. ``frames``: the run's capture in
    the order shown (``data-frame`` is an index into it; see :mod:`minternet.report.panels`),
    to link segments to frames and to mark lost frames."""
    eps = _endpoints(events)
    lost_acks = _attach_frames(eps, events, frames)
    out = [_STYLE, '<section class="mp-tcp">']
    conns = _connections(events, eps)
    if not conns:
        out.append('<p class="mp-note">No TCP connection in this run.</p>')
    for n, pair in enumerate(conns, start=1):
        out.append(_connection_html(n, pair, lost_acks))
    out.append("</section>")
    return "\n".join(out)


def _span(pair: list[_Endpoint]) -> tuple[float, float]:
    """The time axis of a connection: its first to its last segment (states later than
    that, such as the end of TIME-WAIT, go in the strip's tail)."""
    times = [s.time for ep in pair for s in ep.sent + ep.got]
    times += [st[0] for ep in pair for st in ep.states[:2]]
    if not times:
        return 0.0, 1.0
    t0, t1 = min(times), max(times)
    return t0, (t1 if t1 > t0 else t0 + 0.001)


def _connection_html(
    n: int, pair: list[_Endpoint], lost_acks: dict[int, list[tuple[float, int, int, str]]]
) -> str:
    a = pair[0]
    title = f"Connection {n}: {a.node} {a.conn.replace('->', ' → ')}"
    if len(pair) == 2:
        title += f" (at {pair[1].node}: {pair[1].conn.replace('->', ' → ')})"
    t0, t1 = _span(pair)
    parts = [f'<div class="mp-tcp-conn" data-conn="{esc(a.conn)}"><h3>{esc(title)}</h3>']
    for ep in pair:
        peer = next((p for p in pair if p is not ep), None)
        parts.append(_endpoint_html(ep, peer, t0, t1, lost_acks.get(id(ep), [])))
    parts.append("</div>")
    return "\n".join(parts)


def _endpoint_html(
    ep: _Endpoint,
    peer: _Endpoint | None,
    t0: float,
    t1: float,
    lost_acks: list[tuple[float, int, int, str]],
) -> str:
    retx = [s for s in ep.sent if s.retx is not None]
    data = sum(s.length for s in ep.sent if s.retx is None)
    acks = [s for s in ep.got if s.rel_ack is not None]
    final_ack = acks[-1] if acks else None
    final_state = ep.states[-1][2] if ep.states else None
    edges = _window_edges(ep)
    who = peer.node if peer is not None else "the peer"
    head = attrs([
        ("class", "mp-tcp-end"), ("data-node", ep.node), ("data-conn", ep.conn),
        ("data-segments", len(ep.sent)), ("data-retransmissions", len(retx)),
        ("data-lost", len(ep.lost)),
        ("data-final-ack", None if final_ack is None else final_ack.rel_ack),
        ("data-final-window-edge", edges[-1][1] if edges else None),
        ("data-final-state", final_state),
    ])  # fmt: skip
    note = (
        f"{ep.node} sent {len(ep.sent)} segments ({data:,} bytes of data once, "
        f"{len(retx)} retransmitted); {len(ep.lost)} of its frames lost on the way"
    )
    if final_ack is not None:
        note += f"; the last ACK from {who}: {final_ack.rel_ack:,} (relative)"
    x = Scale(t0, t1, LEFT, LEFT + PLOT)
    return "\n".join([
        f"<figure{head}>",
        f"<h4>{esc(ep.node)} sends — time–sequence graph (relative sequence numbers)</h4>",
        f'<p class="mp-note">{esc(note)}</p>',
        _sequence_svg(ep, x, lost_acks, final_ack),
        _cwnd_svg(ep, x),
        _rtt_svg(ep, x),
        _states_svg(ep, x, t1),
        "</figure>",
    ])  # fmt: skip


def _sequence_svg(
    ep: _Endpoint,
    x: Scale,
    lost_acks: list[tuple[float, int, int, str]],
    final_ack: _Seg | None,
) -> str:
    height, top, bottom = 352, 20, 290
    acks = [(s.time, s.rel_ack) for s in ep.got if s.rel_ack is not None]
    wnd = _window_edges(ep)
    data_top = max([s.rel_seq + s.span for s in ep.sent] + [a for _, a in acks] + [1])
    wnd_top = max([w for _, w in wnd] + [0])
    y_max = wnd_top if wnd_top <= 2 * data_top else int(data_top * 1.25) + 1
    y = Scale(0, y_max, bottom, top)
    out = [svg_open("mp-seq", WIDTH, height)]
    out.append(f"<title>{esc(ep.node)}: sequence numbers sent over time</title>")
    out.append(axes(x, y, x_label="virtual time (s)", y_label="relative sequence number"))
    out.append(polyline(step_points(wnd, x, y, limit=LINE_LIMIT), "mp-rwnd"))
    if wnd_top > y_max:
        out.append(f'<text class="mp-key" x="{num(x.p1 - 4)}" y="{top + 12}" text-anchor="end">'
                   f"receive window up to {wnd_top:,}: drawn at the top</text>")  # fmt: skip
    out.append(polyline(step_points(acks, x, y, limit=LINE_LIMIT), "mp-ack"))
    out.append(_sack_marks(ep, x, y))
    out.append(_segment_marks(ep, x, y))
    for t, seq, span, frame in ep.lost:
        out.append(_cross(x(t), y(seq + span / 2), "mp-drop mp-drop-data", frame,
                          f"lost at {seconds(t)}: seq {seq}–{seq + span}"))  # fmt: skip
    for t, ack, frame, flags in lost_acks:
        out.append(_cross(x(t), y.clamp(ack), "mp-drop mp-drop-ack", frame,
                          f"the peer's [{flags}] ack {ack} lost at {seconds(t)}"))  # fmt: skip
    if final_ack is not None and final_ack.rel_ack is not None:
        out.append(
            f'<circle class="mp-ack-final" cx="{num(x(final_ack.time))}" '
            f'cy="{num(y.clamp(final_ack.rel_ack))}" r="3.5"'
            + attrs([("data-ack", final_ack.rel_ack), ("data-frame", final_ack.frame)])
            + f"><title>last ACK {final_ack.rel_ack} at "
            f"{esc(seconds(final_ack.time))}</title></circle>"
        )
    out.append(_legend(
        [("mp-seg", "data sent"), ("mp-retx", "retransmission"), ("mp-ack", "ACK"),
         ("mp-rwnd", "ACK + receive window"), ("mp-sack", "SACK block"), ("mp-drop", "lost")],
        height - 6,
    ))  # fmt: skip
    out.append("</svg>")
    return "".join(out)


def _window_edges(ep: _Endpoint) -> list[tuple[float, int]]:
    """(time, ACK + the window the peer offered) of each acknowledging segment that reached
    this end: the right edge of what it may send (RFC 9293 §3.8.6; a SYN's window is
    never scaled, RFC 7323 §2.2)."""
    shift = ep.window_shift()
    return [(s.time, s.rel_ack + (s.win << (0 if "SYN" in s.flags else shift)))
            for s in ep.got if s.rel_ack is not None]  # fmt: skip


def _segment_marks(ep: _Endpoint, x: Scale, y: Scale) -> str:
    out: list[str] = []
    segs = [s for s in ep.sent if s.span > 0]
    merge = len(segs) > SEGMENT_LIMIT
    run: list[_Seg] = []

    def flush() -> None:
        if not run:
            return
        first, lo, hi = run[0], run[0].rel_seq, max(s.rel_seq + s.span for s in run)
        px = num(x(first.time))
        cls = "mp-seg" if any(s.length for s in run) else "mp-seg mp-ctl"
        extra = attrs(
            [("data-frame", first.frame), ("data-count", len(run) if len(run) > 1 else None)]
        )
        what = (f"{first.flags} seq {lo}–{hi} ({hi - lo} bytes)" if len(run) == 1
                else f"{len(run)} segments, seq {lo}–{hi}")  # fmt: skip
        out.append(
            f'<line class="{cls}" x1="{px}" y1="{num(y(lo))}" x2="{px}" y2="{num(y(hi))}"{extra}>'
            f"<title>{esc(what)} at {esc(seconds(first.time))}</title></line>"
        )
        run.clear()

    for s in segs:
        if s.retx is not None:
            flush()
            px, lo, hi = x(s.time), s.rel_seq, s.rel_seq + s.span
            extra = attrs([("data-frame", s.frame), ("data-seq", lo), ("data-len", s.length),
                           ("data-time", f"{s.time:.9f}")])  # fmt: skip
            # the bar, and a diamond beside it that stays visible at any scale
            mid = y(lo + s.span / 2)
            d = (f"M{num(px)},{num(y(lo))}V{num(y(hi))}M{num(px + 2)},{num(mid)}"
                 f"l4,-4l4,4l-4,4z")  # fmt: skip
            out.append(
                f'<path class="mp-retx" d="{d}"{extra}><title>retransmission of seq {lo}–{hi} '
                f"at {esc(seconds(s.time))}: {esc(s.retx)}</title></path>"
            )
            continue
        if run and not (
            merge
            and round(x(run[0].time)) == round(x(s.time))
            and run[-1].rel_seq + run[-1].span == s.rel_seq
        ):
            flush()
        run.append(s)
        if not merge:
            flush()
    flush()
    return '<g class="mp-segments">' + "".join(out) + "</g>"


def _sack_marks(ep: _Endpoint, x: Scale, y: Scale) -> str:
    if ep.iss is None:
        return ""
    out: list[str] = []
    seen: dict[tuple[str, str, str], bool] = {}
    for s in ep.got:
        for o in s.options:
            if not o.startswith("SACK="):
                continue
            for block in o[5:].split(","):
                left, _, right = block.partition("-")
                if not (left.isdigit() and right.isdigit()):
                    continue
                lo, hi = (int(left) - ep.iss) & MASK, (int(right) - ep.iss) & MASK
                key = (num(x(s.time)), num(y.clamp(lo)), num(y.clamp(hi)))
                if key in seen:
                    continue
                seen[key] = True
                data = attrs([("data-left", lo), ("data-right", hi), ("data-frame", s.frame)])
                out.append(
                    f'<line class="mp-sack" x1="{key[0]}" y1="{key[1]}" x2="{key[0]}" '
                    f'y2="{key[2]}"{data}><title>SACK {lo}–{hi} at {esc(seconds(s.time))}'
                    "</title></line>"
                )
    return '<g class="mp-sacks">' + "".join(out) + "</g>"


def _cross(px: float, py: float, cls: str, frame: int | None, text: str) -> str:
    a, b, c, e = num(px - 4), num(px + 4), num(py - 4), num(py + 4)
    d = f"M{a},{c}L{b},{e}M{a},{e}L{b},{c}"
    return (
        f'<path class="{cls}" d="{d}"{attrs([("data-frame", frame)])}>'
        f"<title>{esc(text)}</title></path>"
    )


def _legend(items: list[tuple[str, str]], py: float) -> str:
    out = ['<g class="mp-legend">']
    px = float(LEFT)
    for cls, text in items:
        out.append(f'<line class="mp-key-{cls[3:]}" x1="{num(px)}" y1="{num(py - 4)}" '
                   f'x2="{num(px + 14)}" y2="{num(py - 4)}"/>')  # fmt: skip
        out.append(f'<text class="mp-key" x="{num(px + 18)}" y="{num(py)}">{esc(text)}</text>')
        px += 26 + 6.2 * len(text)
    out.append("</g>")
    return "".join(out)


def _cwnd_svg(ep: _Endpoint, x: Scale) -> str:
    cw = [(t, float(c)) for t, c, _, _ in ep.cwnd]
    finite = [(t, float(s)) for t, _, s, _ in ep.cwnd if s < 1 << 30]
    return _series_svg(
        "mp-cwnd-graph", f"{ep.node}: congestion window and slow-start threshold", x,
        "bytes: cwnd, ssthresh",
        [("mp-cwnd", "cwnd", cw), ("mp-ssthresh", "ssthresh (when finite)", finite)],
    )  # fmt: skip


def _rtt_svg(ep: _Endpoint, x: Scale) -> str:
    srtt = [(t, s * 1000) for t, s, _ in ep.rtt if s is not None]
    rto = [(t, r * 1000) for t, _, r in ep.rtt]
    return _series_svg(
        "mp-rtt-graph", f"{ep.node}: smoothed RTT and retransmission timeout", x,
        "ms: SRTT, RTO", [("mp-srtt", "SRTT", srtt), ("mp-rto", "RTO", rto)],
    )  # fmt: skip


def _series_svg(
    cls: str,
    title: str,
    x: Scale,
    y_label: str,
    series: list[tuple[str, str, list[tuple[float, float]]]],
) -> str:
    """A small plot of step lines (each value holds until the next) over the panel's time
    axis; a line that was never traced says so."""
    height, top, bottom = 178, 18, 130
    y_max = max([v for _, _, pts in series for _, v in pts] + [1.0])
    y = Scale(0, y_max * 1.05, bottom, top)
    out = [svg_open(cls, WIDTH, height), f"<title>{esc(title)}</title>"]
    out.append(axes(x, y, x_label="virtual time (s)", y_label=y_label, y_ticks=4))
    for line_cls, _, pts in series:
        if pts:
            verts = step_points([*pts, (x.d1, pts[-1][1])], x, y, limit=LINE_LIMIT)
            out.append(polyline(verts, line_cls))
    missing = [label for _, label, pts in series if not pts]
    if missing:
        out.append(
            f'<text class="mp-key" x="{LEFT + 8}" y="{top + 16}">'
            f"not traced: {esc(', '.join(missing))}</text>"
        )
    out.append(_legend([(c, label) for c, label, _ in series], height - 6))
    out.append("</svg>")
    return "".join(out)


def _states_svg(ep: _Endpoint, x: Scale, t1: float) -> str:
    """The states over time; those entered after the plots' end sit in a tail at the
    right, each with the time it began."""
    height, top, h = 62, 16, 22
    spans: list[tuple[str, float, float | None, str]] = []  # state, from, to, why
    for i, (t, old, new, why) in enumerate(ep.states):
        if i == 0:
            spans.append((old, t, t, ""))
        end = ep.states[i + 1][0] if i + 1 < len(ep.states) else None
        spans.append((new, t, end, why))
    out = [svg_open("mp-states", WIDTH, height, ("data-final", spans[-1][0] if spans else None))]
    out.append(f"<title>{esc(ep.node)}: TCP states (RFC 9293 §3.3.2)</title>")
    out.append(
        f'<text class="mp-axis-label" x="{LEFT}" y="{top - 4}">states of {esc(ep.node)}</text>'
    )
    main_right = LEFT + PLOT - TAIL
    inner = Scale(x.d0, x.d1, LEFT, main_right)
    tail = [s for s in spans if s[1] > x.d1]
    tail_w = TAIL / max(len(tail), 1)
    k = 0
    for state, start, end, why in spans:
        if start > x.d1:
            x0, x1 = main_right + 4 + k * tail_w, main_right + 4 + (k + 1) * tail_w - 2
            k += 1
        else:
            stop = x.d1 if end is None or end > x.d1 else end
            x0, x1 = inner(start), inner(stop)
            if end is None or end > x.d1:
                x1 = main_right
        width = max(x1 - x0, 3.0 if end is None else 0.5)
        until = "" if end is None else f" until {seconds(end)}"
        label = f"{state} from {seconds(start)}{until}" + (f": {why}" if why else "")
        out.append(
            f'<rect class="mp-state mp-st-{esc(state)}" x="{num(x0)}" y="{top}" '
            f'width="{num(width)}" height="{h}"'
            + attrs([("data-state", state), ("data-from", f"{start:.9f}"),
                     ("data-to", None if end is None else f"{end:.9f}")])
            + f"><title>{esc(label)}</title></rect>"
        )  # fmt: skip
        if width > 7 * len(state):
            text = state if start <= x.d1 else f"{state} {start:.3f}s"
            out.append(
                f'<text class="mp-state-label" x="{num(x0 + 3)}" y="{top + 15}">{esc(text)}</text>'
            )
    if tail:
        out.append(f'<text class="mp-key" x="{num(main_right + 4)}" y="{top + h + 14}">'
                   f"later (not to scale)</text>")  # fmt: skip
    out.append("</svg>")
    return "".join(out)
