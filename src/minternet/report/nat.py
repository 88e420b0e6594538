"""What a NAT did during a run, read from its ``nat`` trace events (node/router.py): the
story's translation lines, and how the far side names an inside endpoint.

Kept apart from the story's phases: :func:`nat_steps` gives (event, node, text, details) to
place by time, :func:`public_view` and :func:`far_side_conn` translate an endpoint or a
connection name into what a server behind the NAT sees.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..trace.bus import TraceEvent

_UNSOLICITED = ("nat-unsolicited", "nat-filtered")
_UNSOLICITED_WHY = (
    "a NAT lets in only answers to what went out through it; nothing inside opened this "
    "port to that sender, so there is no inside address to send it to — it is discarded "
    "silently, no RST and no ICMP (RFC 4787 §5, RFC 5382 REQ-4)"
)


def blocked_paragraph(events: Iterable[TraceEvent]) -> str | None:
    """What happened to unsolicited packets at a NAT, in words; None if there were none."""
    drops = [e for e in events if e.layer == "nat" and e.kind == "drop"
             and e.fields.get("reason") in _UNSOLICITED]  # fmt: skip
    if not drops:
        return None
    e = drops[0]
    return (
        f"{e.fields.get('src')} sent {len(drops)} packet(s) to {e.fields.get('dst')}, the home's "
        f"public address, unasked: {e.why}. {e.node} dropped {'it' if len(drops) == 1 else 'them'}"
        " without an answer — the sender sees only silence and times out. Only a port "
        "forward (a static mapping) would let such a connection in. The laptop's own fetch, "
        "whose answers match its mappings, went through: exit status 0."
    )


def _translations(events: Iterable[TraceEvent]) -> list[TraceEvent]:
    return [e for e in events if e.layer == "nat" and e.kind == "translate"]


def public_view(events: Iterable[TraceEvent], endpoint: str) -> str:
    """``ip:port`` of an inside endpoint as the outside sees it (its first mapping), or the
    endpoint itself when no NAT translated it."""
    for e in _translations(events):
        if e.fields.get("inside") == endpoint:
            return str(e.fields.get("public"))
    return endpoint


def far_side_conn(events: Iterable[TraceEvent], conn: str) -> str:
    """The server's name for the client's connection ``"local->remote"``: remote, then the
    local endpoint as the NAT made it."""
    local, _, remote = conn.partition("->")
    return f"{remote}->{public_view(events, local)}"


def public_address(events: Iterable[TraceEvent], address: str) -> str:
    """The address packets from inside ``address`` carry beyond the NAT."""
    for e in _translations(events):
        src = e.fields.get("src")
        if e.fields.get("direction") == "out" and isinstance(src, list) and src[0] == address:
            return str(src[1])
    return address


def nat_steps(events: Iterable[TraceEvent]) -> list[tuple[TraceEvent, str, str, list[str]]]:
    """One line for the first packet out through each mapping (the new mapping) and one for
    the first packet back through it, and one per expiry (RFC 3022 §2.2, NAPT)."""
    out: list[tuple[TraceEvent, str, str, list[str]]] = []
    seen: set[tuple[str, str, str]] = set()
    for e in events:
        if e.layer != "nat":
            continue
        f = e.fields
        if e.kind == "drop" and f.get("reason") in _UNSOLICITED:
            out.append((e, e.node, f"NAT drops {e.why}", [_UNSOLICITED_WHY]))
            continue
        if e.kind == "expire":
            out.append((e, e.node, f"NAT mapping {f.get('protocol')} {f.get('inside')} ↔ "
                        f"{f.get('public')} expired (idle past its timeout); its port is free",
                        []))  # fmt: skip
            continue
        if e.kind != "translate":
            continue
        key = (str(f.get("protocol")), str(f.get("inside")), str(f.get("direction")))
        if key in seen:
            continue
        seen.add(key)
        src, dst = f.get("src") or ["?", "?"], f.get("dst") or ["?", "?"]
        details = [f"IP {src[0]} → {dst[0]} becomes {src[1]} → {dst[1]}; the IP and "
                   f"{f.get('protocol')} checksums adjusted (RFC 1624)"]  # fmt: skip
        if f.get("icmp"):
            details.append(str(f.get("icmp")))
        if f.get("direction") == "out":
            what = ", new mapping" if f.get("new") else ""
            text = (f"NAT {f.get('protocol')} {f.get('inside')} → {f.get('public')}{what} "
                    f"(to {f.get('remote')}): private addresses are not routed on the "
                    "internet, so the home router sends it from its own")  # fmt: skip
        else:
            text = (f"NAT {f.get('protocol')} {f.get('public')} → {f.get('inside')} "
                    f"(from {f.get('remote')}): the answer matches the mapping and goes "
                    "back in")  # fmt: skip
        out.append((e, e.node, text, details))
    return out
