"""The JSON summary of a fetch (``minternet fetch --json``): one object, deterministic.

The fields are documented in the README's ``fetch`` section. Times are virtual seconds from
the start of the run, rounded to the microsecond; state names are RFC 9293's.
"""

from __future__ import annotations

from typing import Any

from ..apps.fetch_run import CLIENT_NODE, FetchRun
from ..tls.suites import suite_by_name
from .dhcp import summary as dhcp_summary
from .story import Story


def _r(t: float | None) -> float | None:
    return None if t is None else round(t, 6)


def fetch_summary(story: Story) -> dict[str, Any]:
    run = story.run
    page = run.page
    conn = story.conn
    facts = story.facts
    suite_name = facts.suite
    tls13 = facts.tls_version == "TLSv1.3"
    kex = None
    if suite_name is not None:
        kex = "ECDHE" if tls13 else suite_by_name(suite_name).kx  # 1.3 is always (EC)DHE
    body = page.body if page is not None else None
    expected = run.expected_body()
    facts = story.facts
    out: dict[str, Any] = {
        "url": str(run.url),
        "seed": run.options.seed,
        "scenario": run.scenario.name if run.scenario else None,
        "ok": run.ok,
        "ip": facts.address,
        "http": {
            "status": page.status if page is not None else None,
            "reason": page.response.reason if page is not None else None,
            "content_type": page.content_type if page is not None else None,
            "body_bytes": len(body) if body is not None else None,
            "body_sha256": run.body_sha256,
            "matches_site_file": (body == expected) if body is not None else None,
        },
        "tls": {
            "version": ("TLS 1.3" if tls13 else "TLS 1.2") if suite_name is not None else None,
            "cipher_suite": suite_name,
            "kex": kex,
            "key_exchange": facts.key_exchange,
            "client_random": _first(run, CLIENT_NODE, "send", "client_random"),
            "server_random": _first(run, CLIENT_NODE, "server_hello", "server_random"),
            "certificate_checks": [
                {"check": c.name, "ok": c.ok, "subject": c.subject, "detail": c.detail}
                for c in facts.cert_checks
            ],
        },
        "tcp": {
            "connection": conn,
            "client_isn": story.client_isn,
            "server_isn": story.server_isn,
            "client_states": facts.state_names("client"),
            "server_states": facts.state_names("server"),
            "retransmissions": len(facts.retransmissions),
            "close": facts.close.kind,
            "congestion_control": run.congestion_control,
        },
        "hops": [
            {
                "node": h["node"],
                "iface": h["iface"],
                "ttl": h["ttl"],
                "src": h["src"],
                "src_mac": h["src_mac"],
                "dst_mac": h["dst_mac"],
            }
            for h in story.hops
        ],
        "phases": [
            {"phase": p.number, "name": p.title, "start": _r(p.start), "end": _r(p.end)}
            for p in story.phases
        ],
        "dhcp": dhcp_summary(facts.dhcp),
        "frames": len(run.frames),
        "end_time": _r(run.end_time),
        "failure": None,
    }
    if story.failure is not None:
        f = story.failure
        out["failure"] = {
            "kind": f.kind,
            "phase": f.phase,
            "where": f.where,
            "summary": f.summary,
            "explanation": f.explanation,
        }
    return out


def _first(run: FetchRun, node: str, kind: str, key: str) -> Any:
    for e in run.log.of("tls", kind):
        if e.node == node and key in e.fields:
            return e.fields[key]
    return None


__all__ = ["fetch_summary"]
