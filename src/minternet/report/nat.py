"""What a NAT did during a run, in words: the story's translation lines and the paragraph
for unsolicited packets, rendered from the run's :class:`~minternet.report.facts.NatEvent`
facts (derived once in :mod:`minternet.report.facts`; nothing here reads trace events).

Kept apart from the story's phases: :func:`nat_steps` gives (time, node, text, details) to
place by time.
"""

from __future__ import annotations

from collections.abc import Iterable

from .facts import NatEvent

_UNSOLICITED = ("nat-unsolicited", "nat-filtered")
_UNSOLICITED_WHY = (
    "a NAT lets in only answers to what went out through it; nothing inside opened this "
    "port to that sender, so there is no inside address to send it to — it is discarded "
    "silently, no RST and no ICMP (RFC 4787 §5, RFC 5382 REQ-4)"
)


def _unsolicited(nat: Iterable[NatEvent]) -> list[NatEvent]:
    return [n for n in nat if n.kind == "drop" and n.reason in _UNSOLICITED]


def blocked_paragraph(nat: Iterable[NatEvent]) -> str | None:
    """What happened to unsolicited packets at a NAT, in words; None if there were none."""
    drops = _unsolicited(nat)
    if not drops:
        return None
    n = drops[0]
    return (
        f"{n.src[0]} sent {len(drops)} packet(s) to {n.dst[0]}, the home's "
        f"public address, unasked: {n.why}. {n.node} dropped {'it' if len(drops) == 1 else 'them'}"
        " without an answer — the sender sees only silence and times out. Only a port "
        "forward (a static mapping) would let such a connection in. The laptop's own fetch, "
        "whose answers match its mappings, went through: exit status 0."
    )


def nat_steps(nat: Iterable[NatEvent]) -> list[tuple[float, str, str, list[str]]]:
    """One line for the first packet out through each mapping (the new mapping) and one for
    the first packet back through it, one per expiry, one per unsolicited drop (RFC 3022
    §2.2, NAPT)."""
    out: list[tuple[float, str, str, list[str]]] = []
    for n in nat:
        if n.kind == "drop":
            if n.reason in _UNSOLICITED:
                out.append((n.time, n.node, f"NAT drops {n.why}", [_UNSOLICITED_WHY]))
            continue
        if n.kind == "expire":
            out.append((n.time, n.node, f"NAT mapping {n.protocol} {n.inside} ↔ {n.public} "
                        "expired (idle past its timeout); its port is free", []))  # fmt: skip
            continue
        if not n.first:
            continue
        details = [f"IP {n.src[0]} → {n.dst[0]} becomes {n.src[1]} → {n.dst[1]}; the IP and "
                   f"{n.protocol} checksums adjusted (RFC 1624)"]  # fmt: skip
        if n.icmp:
            details.append(n.icmp)
        if n.direction == "out":
            what = ", new mapping" if n.new else ""
            text = (f"NAT {n.protocol} {n.inside} → {n.public}{what} (to {n.remote}): private "
                    "addresses are not routed on the internet, so the home router sends it "
                    "from its own")  # fmt: skip
        else:
            text = (f"NAT {n.protocol} {n.public} → {n.inside} (from {n.remote}): the answer "
                    "matches the mapping and goes back in")  # fmt: skip
        out.append((n.time, n.node, text, details))
    return out
