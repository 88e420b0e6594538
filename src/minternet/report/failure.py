"""Why a fetch failed, told from its facts (:mod:`minternet.report.facts`).

:func:`explain_failure` turns the run's raw outcome (the exception the browser raised) and
its :class:`~minternet.report.facts.RunFacts` into a
:class:`~minternet.apps.fetch_run.Failure`: which phase, where, one line and a paragraph.
Every clause is chosen by a fact — a certificate warning only when a certificate check
failed, a timer only when it fired, the resolver's answer only when it gave one — so the
paragraph cannot say what did not happen.
"""

from __future__ import annotations

from ..apps.fetch_run import CLIENT_NODE, SERVER_NODE, Failure, FetchRun
from .facts import RunFacts


def explain_failure(run: FetchRun, facts: RunFacts) -> Failure | None:
    """The run's failure: the one the run recorded itself (an HTTP status, a wrong body),
    or the one its exception and facts tell; None when the page arrived."""
    if run.failure is not None:
        return run.failure
    error = run.error
    if error is None:
        return None
    text = str(error) or type(error).__name__
    if not run.log.events:  # run without the event log (the bench): only the words are known
        return Failure("unknown", 0, "?", text, f"The fetch failed: {text}.")
    if facts.address is None and not run.url.host[0].isdigit():
        return _dns(run, facts, text)
    addr = facts.address or run.url.host
    if not facts.reached("client", "ESTABLISHED"):
        return _connect(run, facts, addr, error)
    return _after_connect(run, facts, addr, text, error)


def _dns(run: FetchRun, facts: RunFacts, text: str) -> Failure:
    host = run.url.host
    dns = facts.dns
    if dns.laptop_rcode == "NXDOMAIN":
        authority = dns.nxdomain_from
        return Failure(
            "dns",
            1,
            authority or "DNS",
            f"{host} does not exist (NXDOMAIN)",
            f"The browser cache, the OS cache and the hosts file had no entry for {host}, so "
            f"the laptop asked the ISP's resolver, which walked from the root. "
            f"{authority or 'The authoritative server'} answered NXDOMAIN: there is no such "
            "name, so there is no address to connect to and no packet was ever sent to a "
            "web server. (The resolver caches this negative answer for the zone's SOA "
            f"minimum.) {dns.resolver_explanation or 'the resolver'}.",
        )
    lost = [d for d in facts.drops if d.reason == "loss"]
    links = list(dict.fromkeys(d.where for d in lost))
    senders = list(dict.fromkeys(d.sender for d in lost))
    by_sender = ", ".join(f"{sum(d.sender == x for d in lost)} sent by {x}" for x in senders)
    answered = sum(1 for r in dns.resolver_rcodes if r == "NOERROR")
    parts = [f"The name {host} could not be resolved: {text}."]
    if dns.laptop_queries:
        parts.append(
            f"The laptop asked its resolver {dns.laptop_queries} time(s) and "
            f"{dns.laptop_timeouts} of those questions got no answer in time."
        )
    if answered:
        parts.append(
            f"The resolver did find the answer ({answered} time(s) NOERROR, after "
            f"{len(dns.resolver_servers)} queries to name servers), but no answer reached "
            "the laptop"
            + (
                f": {len(lost)} frame(s) were lost on {', '.join(links)} ({by_sender})."
                if lost
                else "."
            )
        )
    elif dns.resolver_rcodes:
        parts.append(f"The resolver concluded {', '.join(dns.resolver_rcodes)}.")
    elif dns.laptop_queries:
        parts.append("No question reached the resolver: it never resolved the name.")
    return Failure("dns", 1, "DNS", f"cannot resolve {host}", " ".join(parts))


def _connect(run: FetchRun, facts: RunFacts, addr: str, error: BaseException) -> Failure:
    port = run.url.port
    syns = [
        s
        for s in facts.segments
        if s.side == "client" and s.direction == "send" and s.flags == ("SYN",)
    ]
    rsts = [
        s for s in facts.segments if s.side == "client" and s.direction == "recv" and s.has("RST")
    ]
    if rsts or isinstance(error, ConnectionRefusedError):
        return Failure(
            "tcp-refused",
            2,
            f"{SERVER_NODE} ({addr}) port {port}",
            f"connection refused: {addr}:{port} answered the SYN with RST",
            f"The name resolved to {addr} and the SYN reached that host, but nothing "
            f"listens on port {port}: its TCP answered with RST,ACK (RFC 9293 "
            "§3.10.7.1: a segment for a CLOSED port is answered with a reset). The "
            "laptop's connection went SYN-SENT → CLOSED at once; there was no handshake, "
            "no TLS and no HTTP.",
        )
    blackholes = [d for d in facts.drops if d.reason == "blackhole"]
    where = blackholes[0].where if blackholes else "somewhere on the path"
    return Failure(
        "tcp-timeout",
        2,
        where,
        f"no answer to {len(syns)} SYNs: connecting to {addr}:{port} timed out",
        f"The name resolved to {addr}, but no SYN-ACK ever came back. The laptop sent "
        f"the SYN {len(syns)} times, doubling the retransmission timeout each time "
        f"(RFC 6298 §5.5), and gave up after {run.options.timeout:g} s. "
        + (
            f"The packets died at {where}: it discarded {len(blackholes)} of them "
            "silently (a blackhole route), so no ICMP error told the laptop why — "
            "from its side, the server simply never answered."
            if blackholes
            else "Something on the path is dropping the packets without an ICMP error."
        ),
    )


def _after_connect(
    run: FetchRun, facts: RunFacts, addr: str, text: str, error: BaseException
) -> Failure:
    failed = [c for c in facts.cert_checks if not c.ok]
    client_alert = next((name for side, name in facts.alerts_sent if side == "client"), None)
    deadline = facts.handshake_deadline
    if failed:
        check = failed[0]
        subject = f" of {check.subject}" if check.subject else ""
        return Failure(
            "tls",
            2,
            f"{CLIENT_NODE} (certificate validation)",
            text,
            f"DNS and the TCP handshake worked (both ends ESTABLISHED), and the server sent "
            f"its certificate. The certificate check '{check.name}'{subject} failed: "
            f"{check.detail}. The browser refused to go on: it sent "
            f"{client_alert or 'a fatal alert'} and aborted the connection, so no HTTP "
            "request was ever encrypted or sent — the user would see a certificate warning "
            "instead of the page.",
        )
    tls_done = facts.suite is not None
    if deadline is not None and not tls_done:
        retrans = len(facts.retransmissions)
        return Failure(
            "tls-timeout",
            2,
            f"{SERVER_NODE} (TLS handshake deadline)",
            f"the server gave up on the TLS handshake after its deadline ({deadline.detail})",
            f"DNS and the TCP handshake worked, but the TLS handshake did not finish before "
            f"the web server's handshake deadline fired at {deadline.time:.3f} s: "
            f"{deadline.detail}. "
            + (
                f"TCP was still recovering lost segments ({retrans} retransmission(s) so far). "
                if retrans
                else "No segment was lost: the deadline was shorter than the handshake's "
                "round trips. "
            )
            + "The server aborted the connection and its TCP sent RST (RFC 9293 §3.10.5). "
            "No certificate check failed and the browser sent "
            f"no alert{'' if client_alert is None else ' before that'}; it saw the reset: "
            f"{text}.",
        )
    if facts.suite is None:
        server_alert = next((name for side, name in facts.alerts_sent if side == "server"), None)
        who = (
            f"the browser sent {client_alert}"
            if client_alert
            else f"the server sent {server_alert}"
            if server_alert
            else "neither side sent an alert"
        )
        return Failure(
            "tls",
            2,
            f"TLS with {addr}",
            text,
            f"DNS and the TCP handshake worked, but the TLS handshake did not complete: "
            f"{text}; {who}.",
        )
    kind = "timeout" if run.timed_out or "timed out" in text else "http"
    return Failure(
        kind,
        3,
        f"{CLIENT_NODE} ↔ {SERVER_NODE}",
        text,
        f"The connection to {addr} was established but the page did not arrive: {text}. "
        f"TCP retransmitted {len(facts.retransmissions)} segments before the browser gave up.",
    )


__all__ = ["explain_failure"]
