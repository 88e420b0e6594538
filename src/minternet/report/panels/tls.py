"""The TLS panel: the handshake's values, the key derivation and the certificate path, from
a run's facts (:class:`~minternet.report.facts.RunFacts`, its ``handshake``).

- **Handshake values**: client and server random, session ids, SNI (RFC 6066 §3), the
  suites and groups offered and chosen, both key-share public values, the signature scheme,
  extended master secret (RFC 7627), ALPN.
- **Key derivation**: TLS 1.2 — pre-master secret → master secret (RFC 5246 §8.1, or
  RFC 7627 §4) → key block ``PRF(master, "key expansion", server_random + client_random)``
  cut into MAC keys, write keys and IVs in the order of RFC 5246 §6.3, each part with its
  offset in the block; TLS 1.3 — the schedule of RFC 8446 §7.1 (early, handshake, master
  secrets and the traffic secrets) and each epoch's key and IV (§7.3). Values appear only
  when the run's secrets are given (its NSS key log lines); each secret the key log carries
  is compared with its line there.
- **Certificate path**: each certificate the client checked (subject, issuer, validity
  against the simulated clock, serial, signature algorithm, subjectAltName, whether the
  server sent it or the trust store held it) with the checks about it and their outcome,
  then the checks about the whole chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ...tls.suites import BY_CODE as SUITES_BY_CODE
from ...tls.suites import CipherSuite
from ...trace.bus import FrameRecord
from ..facts import SIDE_NODE, CertCheck, Handshake, RunFacts, TlsKeys, TlsSecret
from .frames import FrameIndex
from .svg import attrs, esc

_STYLE = """<style>
.mp-tls{font:12px/1.4 system-ui,sans-serif;color:#222}
.mp-tls h3{font-size:14px;margin:12px 0 4px}.mp-tls h4{font-size:13px;margin:10px 0 4px}
.mp-tls table{border-collapse:collapse;margin:2px 0 8px}.mp-tls th{text-align:left;
font-weight:600;padding:2px 10px 2px 0;vertical-align:top;white-space:nowrap}
.mp-tls td{padding:2px 0;vertical-align:top}.mp-tls code,.mp-hex{font:11px/1.35 ui-monospace,
monospace;word-break:break-all}.mp-hidden{color:#777;font-style:italic}
.mp-kd{list-style:none;padding:0;margin:0}.mp-kd-step{border:1px solid #cfd8e3;
border-radius:4px;padding:4px 8px;margin:0 0 2px}.mp-kd-arrow{color:#789;padding-left:16px}
.mp-kd-how{color:#445}.mp-kb{border-collapse:collapse}.mp-kb td,.mp-kb th{border:1px solid
#dde;padding:2px 6px}.mp-cert{border:1px solid #ccd;border-radius:4px;padding:4px 8px;
margin:0 0 6px}.mp-records td{padding:1px 12px 1px 0}.mp-checks{margin:2px 0 0;
padding-left:18px}.mp-ok{color:#1a7f37}
.mp-fail{color:#c62828;font-weight:600}.mp-match{color:#1a7f37}.mp-mismatch{color:#c62828}
</style>"""

_NO_MAC = "none: the AEAD authenticates, no MAC key"
_NO_IV = "none: each record carries its own explicit IV"
_HIDDEN = '<span class="mp-hidden">hidden — run with --secrets to show</span>'


def tls_panel_html(
    facts: RunFacts, secrets: Sequence[str] | None, frames: Sequence[FrameRecord] = ()
) -> str:
    """The TLS panel of a run: one ``<section class="mp-tls">``. ``secrets``: the run's NSS
    key log lines (``FetchRun.keylog``) to show the secrets' values, None to hide them;
    ``frames``: the run's capture in the order shown, to link records to the frames that
    carried them (``data-frame`` is an index into it; see :mod:`minternet.report.panels`)."""
    h = facts.handshake
    if h.version is None and "supported_versions" in h.server_extensions:
        # a 1.3 handshake that failed after the ServerHello chose 1.3 (RFC 8446 §4.2.1; a
        # 1.2 ServerHello never carries supported_versions)
        h = replace(h, version="TLSv1.3")
    out = [_STYLE, '<section class="mp-tls"' + attrs([("data-version", h.version)]) + ">"]
    if h.client_random is None:
        out.append('<p class="mp-note">No TLS handshake in this run.</p>')
        out.append(_checks_html(facts, h))
        out.append("</section>")
        return "\n".join(out)
    version = "TLS 1.3" if h.version == "TLSv1.3" else "TLS 1.2"
    summary = ", ".join(x for x in (h.suite, h.group, f"ALPN {h.alpn}" if h.alpn else None) if x)
    out.append(f"<h3>{esc(version)} handshake{': ' + esc(summary) if summary else ''}</h3>")
    record_frames = _record_frames(facts, frames)
    out.append(_values_html(h, record_frames))
    out.append(_records_html(facts, h.version, record_frames))
    if h.version == "TLSv1.3":
        out.append(_schedule13_html(h, secrets))
    else:
        out.append(_derivation12_html(h, secrets))
    out.append(_checks_html(facts, h))
    out.append("</section>")
    return "\n".join(out)


# -- values ------------------------------------------------------------------------------
def _code(v: str | None) -> str:
    return "<code>—</code>" if v is None or v == "" else f"<code>{esc(v)}</code>"


def _list(values: Sequence[str]) -> str:
    return _code(", ".join(values))


def _row(field: str, label: str, value_html: str, frame: int | None = None) -> str:
    return (
        f"<tr{attrs([('data-field', field), ('data-frame', frame)])}><th>{esc(label)}</th>"
        f"<td>{value_html}</td></tr>"
    )


def _values_html(h: Handshake, record_frames: dict[tuple[str, str], int]) -> str:
    ch = record_frames.get(("client", "client_hello"))
    sh = record_frames.get(("server", "server_hello"))
    ske = record_frames.get(("server", "server_key_exchange"))
    cke = record_frames.get(("client", "client_key_exchange"))
    ems = (
        None if h.extended_master_secret is None else ("yes" if h.extended_master_secret else "no")
    )
    server_session_id = h.server_session_id
    if h.version == "TLSv1.3":
        # RFC 8446 §7.1: every secret hashes the transcript, so 1.3 has no such extension
        ems = "none in TLS 1.3: its key schedule binds every secret to the transcript"
        if h.server_random is not None:
            # legacy_session_id_echo (§4.1.3): the client refused any other value
            server_session_id = h.session_id or "(empty)"
    rows = [
        _row("client_random", "Client random (ClientHello)", _code(h.client_random), ch),
        _row("session_id", "Session id (ClientHello)", _code(h.session_id or "(empty)"), ch),
        _row("server_name", "SNI server_name", _code(h.server_name), ch),
        _row("offered_suites", "Suites offered", _list(h.offered_suites), ch),
        _row("offered_groups", "Groups offered", _list(h.offered_groups), ch),
        _row("client_extensions", "ClientHello extensions", _list(h.client_extensions), ch),
        _row("server_random", "Server random (ServerHello)", _code(h.server_random), sh),
        _row("server_session_id", "Session id (ServerHello)", _code(server_session_id), sh),
        _row("suite", "Suite chosen", _code(h.suite), sh),
        _row("server_extensions", "ServerHello extensions", _list(h.server_extensions), sh),
        _row("group", "Key exchange group", _code(h.group), ske if ske is not None else sh),
        _row("client_public", "Client key share (public)", _code(h.client_public),
             cke if cke is not None else ch),
        _row("server_public", "Server key share (public)", _code(h.server_public),
             ske if ske is not None else sh),
        _row("signature_scheme", "Server signature scheme", _code(h.signature_scheme), ske),
        _row("extended_master_secret", "Extended master secret (RFC 7627)", _code(ems)),
        _row("alpn", "ALPN", _code(h.alpn)),
    ]  # fmt: skip
    return '<h4>Handshake values</h4><table class="mp-tls-values">' + "".join(rows) + "</table>"


def _record_frames(facts: RunFacts, frames: Sequence[FrameRecord]) -> dict[tuple[str, str], int]:
    """(side, first handshake message or record type) → the frame that carried the record's
    first byte (its first transmission). Record offset k is relative sequence k + 1."""
    if not frames:
        return {}
    nodes = {SIDE_NODE["client"]: True, SIDE_NODE["server"]: True}
    index = FrameIndex(frames, nodes)
    sent: dict[str, list[tuple[int, int, int | None]]] = {"client": [], "server": []}
    for s in facts.segments:
        if s.direction != "send" or s.seq is None or s.rel_seq is None:
            continue
        key = (s.seq, s.ack if s.has("ACK") else None, ",".join(s.flags), s.length)
        frame = index.claim(SIDE_NODE[s.side], "out", key, s.time)
        if s.length:
            sent[s.side].append((s.rel_seq, s.rel_seq + s.length, frame))
    out: dict[tuple[str, str], int] = {}
    for rec in facts.handshake.records:
        seq = rec.offset + 1
        frame = next((f for lo, hi, f in sent[rec.side] if lo <= seq < hi), None)
        if frame is None:
            continue
        for name in rec.messages or (rec.content,):
            out.setdefault((rec.side, name), frame)
        out.setdefault((rec.side, f"record@{rec.offset}"), frame)
    return out


def _records_html(
    facts: RunFacts, version: str | None, record_frames: dict[tuple[str, str], int]
) -> str:
    rows = []
    for rec in facts.handshake.records:
        what = ", ".join(rec.messages) if rec.messages else rec.content
        if rec.content == "handshake" and not rec.messages:
            what = "handshake (encrypted: Finished)"
        elif rec.content == "application_data" and version == "TLSv1.3":
            what = "application_data (protected: the real type is inside, RFC 8446 §5.2)"
        frame = record_frames.get((rec.side, f"record@{rec.offset}"))
        rows.append(
            f"<tr{attrs([('class', 'mp-record'), ('data-side', rec.side), ('data-frame', frame)])}>"
            f"<td>{rec.time:.6f} s</td><td>{esc(SIDE_NODE[rec.side])}</td><td>{esc(what)}</td>"
            f"<td>{rec.length} bytes at stream offset {rec.offset}</td></tr>"
        )
    if not rows:
        return ""
    return (
        '<h4>Records as written</h4><table class="mp-records"><tr><th>time</th><th>from</th>'
        "<th>content</th><th>size</th></tr>" + "".join(rows) + "</table>"
    )


# -- key derivation ----------------------------------------------------------------------
def _keylog(
    lines: Sequence[str] | None, label: str | None, client_random: str | None
) -> str | None:
    """The value the key log gives ``label`` for this connection (NSS key log format)."""
    if lines is None or label is None or client_random is None:
        return None
    for line in lines:
        parts = line.split()
        if len(parts) == 3 and parts[0] == label and parts[1].lower() == client_random.lower():
            return parts[2].lower()
    return None


def _secret_html(s: TlsSecret, h: Handshake, lines: Sequence[str] | None) -> str:
    shown = lines is not None
    logged = _keylog(lines, s.keylog, h.client_random)
    value = f'<code class="mp-hex mp-value">{esc(s.value)}</code>' if shown else _HIDDEN
    check = ""
    if shown and s.keylog is not None:
        if logged is None:
            check = f'<div class="mp-mismatch">no {esc(s.keylog)} line in the key log</div>'
        elif logged == s.value.lower():
            check = (f'<div class="mp-match">= the key log\'s {esc(s.keylog)} line for this '
                     "client random</div>")  # fmt: skip
        else:
            check = (f'<div class="mp-mismatch">differs from the key log\'s {esc(s.keylog)} '
                     f"line: {esc(logged)}</div>")  # fmt: skip
    size = len(s.value) // 2
    return (
        f'<li class="mp-kd-step"{attrs([("data-secret", s.name), ("data-keylog", s.keylog)])}>'
        f"<b>{esc(s.name)}</b> ({size} bytes)"
        f'<div class="mp-kd-how">{esc(s.how)}</div>{value}{check}</li>'
    )


def _secrets_html(title: str, h: Handshake, lines: Sequence[str] | None) -> str:
    """The secrets in the order derived, one arrow between each (the list left open)."""
    out = [f'<h4>{esc(title)}</h4><ol class="mp-kd">']
    for i, s in enumerate(h.secrets):
        if i:
            out.append('<li class="mp-kd-arrow">↓</li>')
        out.append(_secret_html(s, h, lines))
    return "".join(out)


def _suite12(name: str | None) -> CipherSuite | None:
    return next((s for s in SUITES_BY_CODE.values() if s.name == name), None)


def _derivation12_html(h: Handshake, lines: Sequence[str] | None) -> str:
    out = [_secrets_html("Key derivation (RFC 5246 §8.1, §6.3)", h, lines)]
    out.append('<li class="mp-kd-arrow">↓ key block = PRF(master_secret, "key expansion", '
               "server_random + client_random)</li>")  # fmt: skip
    out.append("</ol>")
    suite = _suite12(h.suite)
    keys = {k.writer: k for k in h.keys if k.epoch == "key block"}
    if suite is None or len(keys) != 2:
        out.append('<p class="mp-note">No key block: the handshake did not get that far.</p>')
        return "".join(out)
    mac, key, iv = suite.mac_len, suite.key_len, suite.fixed_iv_len
    parts: list[tuple[str, int, str]] = [
        ("client_write_MAC_key", mac, keys["client"].mac_key),
        ("server_write_MAC_key", mac, keys["server"].mac_key),
        ("client_write_key", key, keys["client"].key),
        ("server_write_key", key, keys["server"].key),
        ("client_write_IV", iv, keys["client"].iv),
        ("server_write_IV", iv, keys["server"].iv),
    ]
    total = 2 * (mac + key + iv)
    out.append(
        f'<table class="mp-kb"{attrs([("data-length", total), ("data-suite", suite.name)])}>'
        f"<tr><th>part</th><th>bytes of the key block</th><th>value</th></tr>"
    )
    pos = 0
    for name, size, value in parts:
        shown = (
            f'<code class="mp-hex mp-value">{esc(value)}</code>' if lines is not None else _HIDDEN
        )
        if size == 0:
            why = _NO_MAC if "MAC" in name else _NO_IV
            shown = f'<span class="mp-hidden">{why}</span>'
        row = attrs(
            [
                ("class", "mp-kb-part"),
                ("data-part", name),
                ("data-offset", pos),
                ("data-size", size),
            ]
        )
        out.append(
            f"<tr{row}>"
            f"<td>{esc(name)}</td><td>[{pos}, {pos + size}) — {size}</td><td>{shown}</td></tr>"
        )
        pos += size
    out.append(
        f'</table><p class="mp-note">{esc(suite.name)}: {mac}-byte MAC keys, {key}-byte '
        f"keys, {iv}-byte implicit IVs ({esc(keys['client'].cipher)}); {total} bytes of key "
        "block in all.</p>"
    )
    return "".join(out)


def _schedule13_html(h: Handshake, lines: Sequence[str] | None) -> str:
    out = [_secrets_html("Key schedule (RFC 8446 §7.1)", h, lines), "</ol>"]
    out.append("<h4>Traffic keys (RFC 8446 §7.3)</h4>")
    out.append(
        '<table class="mp-kb"><tr><th>epoch</th><th>protects</th><th>key</th><th>IV</th></tr>'
    )
    for k in h.keys:
        out.append(_keys13_row(k, lines is not None))
    out.append("</table>")
    return "".join(out)


def _keys13_row(k: TlsKeys, shown: bool) -> str:
    key = f'<code class="mp-hex">{esc(k.key)}</code>' if shown else _HIDDEN
    iv = f'<code class="mp-hex">{esc(k.iv)}</code>' if shown else _HIDDEN
    row = attrs([("class", "mp-kb-part"), ("data-epoch", k.epoch), ("data-writer", k.writer)])
    return (
        f"<tr{row}>"
        f"<td>{esc(k.epoch)}</td><td>{esc(SIDE_NODE[k.writer])}'s records ({esc(k.cipher)})</td>"
        f"<td>{key}</td><td>{iv}</td></tr>"
    )


# -- certificates ------------------------------------------------------------------------
def _check_li(c: CertCheck) -> str:
    mark, cls = ("✓", "mp-ok") if c.ok else ("✗", "mp-fail")
    data = attrs([("data-check", c.name), ("data-ok", "true" if c.ok else "false")])
    return f'<li class="mp-check {cls}"{data}>{mark} <b>{esc(c.name)}</b>: {esc(c.detail)}</li>'


def _checks_html(facts: RunFacts, h: Handshake) -> str:
    checks = facts.cert_checks
    if not checks and not h.path:
        return ""
    out = ["<h4>Certificate path and checks</h4>"]
    if h.checked_at is not None:
        out.append(
            f'<p class="mp-note">checked against the client\'s clock: {esc(h.checked_at)}</p>'
        )
    for i, c in enumerate(h.path):
        role = "leaf" if i == 0 else ("trust anchor" if not c.sent else "intermediate")
        source = "sent by the server" if c.sent else "from the laptop's trust store"
        mine = [k for k in checks if k.cert == i]
        failed = any(not k.ok for k in mine)
        rows = [
            _row("subject", "Subject", _code(c.subject)),
            _row("issuer", "Issuer", _code(c.issuer)),
            _row("validity", "Valid", _code(f"{c.not_before} … {c.not_after}")),
            _row("serial", "Serial", _code(c.serial)),
            _row("signature_algorithm", "Signature algorithm", _code(c.signature_algorithm)),
        ]
        if c.san:
            rows.append(_row("san", "subjectAltName", _code(", ".join(f"DNS:{n}" for n in c.san))))
        data = attrs([("data-cert", i), ("data-ok", "false" if failed else "true")])
        out.append(
            f'<div class="mp-cert"{data}>'
            f"<b>#{i} {esc(role)}</b> — {esc(source)}<table>{''.join(rows)}</table>"
            f'<ul class="mp-checks">{"".join(_check_li(k) for k in mine)}</ul></div>'
        )
    rest = [k for k in checks if k.cert is None or k.cert >= len(h.path)]
    if rest:
        items = "".join(_check_li(k) for k in rest)
        out.append(
            '<div class="mp-cert" data-cert="chain"><b>The chain as a whole</b>'
            f'<ul class="mp-checks">{items}</ul></div>'
        )
    return "".join(out)
