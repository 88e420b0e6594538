"""``fetch --compare-tls``: the same page fetched over TLS 1.2 and over TLS 1.3 on the same
seed, measured side by side from what each run recorded:

- round trips of the TLS handshake before the browser may send its request (TLS 1.2: two,
  the ClientHello's and the ClientKeyExchange/Finished's; TLS 1.3: one, a
  HelloRetryRequest adding one);
- bytes an observer can read: the handshake records sent in the clear (TLS 1.2: every
  handshake record before each side's ChangeCipherSpec — certificate included; TLS 1.3:
  only ClientHello and ServerHello, plus the one-byte compatibility ChangeCipherSpec);
- time to first byte: from the browser's SYN to the first byte of the HTTP response (virtual
  seconds on the simulated network, so the difference is the round trip saved).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..apps.fetch_run import CLIENT_NODE, FetchRun


@dataclass(frozen=True)
class TlsFigures:
    version: str
    suite: str
    round_trips: int
    clear_bytes: int
    clear_messages: list[str]
    encrypted_messages: list[str]
    ttfb: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "suite": self.suite,
            "handshake_round_trips": self.round_trips,
            "bytes_in_the_clear": self.clear_bytes,
            "messages_in_the_clear": self.clear_messages,
            "handshake_messages_encrypted": self.encrypted_messages,
            "time_to_first_byte": None if self.ttfb is None else round(self.ttfb, 6),
        }


def _records(chunks: list[tuple[float, bytes]]) -> list[tuple[int, bytes]]:
    data = b"".join(b for _, b in chunks)
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos + 5 <= len(data):
        n = int.from_bytes(data[pos + 3 : pos + 5], "big")
        out.append((data[pos], data[pos + 5 : pos + 5 + n]))
        pos += 5 + n
    return out


_NAMES = {1: "ClientHello", 2: "ServerHello", 11: "Certificate", 12: "ServerKeyExchange",
          14: "ServerHelloDone", 16: "ClientKeyExchange", 13: "CertificateRequest"}  # fmt: skip


def figures(run: FetchRun) -> TlsFigures:
    """The three measures of one run (see the module docstring)."""
    log = run.log
    est = next((e for e in log.of("tls", "established") if e.node == CLIENT_NODE), None)
    version = str(est.fields.get("version", "TLSv1.2")) if est is not None else "?"
    suite = str(est.fields.get("suite")) if est is not None else "?"
    tls13 = version == "TLSv1.3"
    clear = 0
    names: list[str] = []
    for chunks in (run.wire.client_cipher, run.wire.server_cipher):
        after_ccs = False
        for ct, body in _records(chunks):
            if ct == 20:
                after_ccs = True
                clear += 5 + len(body)
                names.append("ChangeCipherSpec")
            elif ct == 22 and (tls13 or not after_ccs):
                clear += 5 + len(body)
                pos = 0
                while pos + 4 <= len(body):
                    names.append(_NAMES.get(body[pos], f"handshake {body[pos]}"))
                    pos += 4 + int.from_bytes(body[pos + 1 : pos + 4], "big")
    sends = [
        e
        for e in log.of("tls", "send")
        if e.fields.get("message") not in (None, "ChangeCipherSpec")
    ]
    if tls13:
        hidden = [e for e in sends if e.fields.get("protection") not in (None, "none")]
    else:
        hidden = [e for e in sends if e.fields.get("message") == "finished"]
    if est is not None:
        hidden = [e for e in hidden if e.time <= est.time or e.fields.get("message") == "finished"]
    encrypted = [_pretty(str(e.fields.get("message"))) for e in hidden]
    hellos = [
        e for e in sends if e.node == CLIENT_NODE and e.fields.get("message") == "client_hello"
    ]
    resumed = bool(est is not None and est.fields.get("resumed"))
    round_trips = len(hellos) + (0 if tls13 or resumed else 1)
    syn = next(
        (
            e
            for e in log.of("tcp", "send")
            if e.node == CLIENT_NODE and e.fields.get("flags") == "SYN"
        ),
        None,
    )
    resp = next((e for e in log.of("http", "response") if e.node == CLIENT_NODE), None)
    ttfb = resp.time - syn.time if resp is not None and syn is not None else None
    return TlsFigures(version, suite, round_trips, clear, names, encrypted, ttfb)


def _pretty(message: str) -> str:
    return "".join(w.capitalize() for w in message.split("_"))


def comparison_lines(a: TlsFigures, b: TlsFigures) -> list[str]:
    def row(what: str, x: str, y: str) -> str:
        return f"{what:<34} {x:>22} {y:>22}"

    def t(v: float | None) -> str:
        return "—" if v is None else f"{v * 1000:.1f} ms"

    return [
        "[bold]TLS 1.2 and TLS 1.3 on the same seed (same world, same page)[/]",
        row("", a.version, b.version),
        row("cipher suite", a.suite.replace("TLS_", ""), b.suite.replace("TLS_", "")),
        row("handshake round trips", str(a.round_trips), str(b.round_trips)),
        row("handshake bytes in the clear", str(a.clear_bytes), str(b.clear_bytes)),
        row(
            "handshake messages encrypted",
            str(len(a.encrypted_messages)),
            str(len(b.encrypted_messages)),
        ),
        row("time to first byte (from SYN)", t(a.ttfb), t(b.ttfb)),
        "readable by an observer:",
        f"  {a.version}: " + ", ".join(a.clear_messages),
        f"  {b.version}: " + ", ".join(b.clear_messages),
        "encrypted:",
        f"  {a.version}: " + ", ".join(a.encrypted_messages),
        f"  {b.version}: " + ", ".join(b.encrypted_messages),
    ]


__all__ = ["TlsFigures", "comparison_lines", "figures"]
