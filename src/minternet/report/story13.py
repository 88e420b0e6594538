"""Phase 2 of the fetch story when the connection speaks TLS 1.3 (RFC 8446): the same
values a learner sees in Wireshark, told in the handshake's order.

What differs from the seed's TLS 1.2 story, and what these steps point out:

- one round trip: the ClientHello already carries the client's ECDHE key share
  (``key_share``), so the server can answer with its share and start encrypting at once;
  a HelloRetryRequest costs one more round trip when the client guessed the wrong group;
- no RSA key transport and no ServerKeyExchange: the key exchange is always (EC)DHE;
- from the ServerHello on everything is encrypted — EncryptedExtensions, the certificate,
  CertificateVerify (the server's signature over the whole transcript) and Finished —
  under *handshake* traffic keys; application data under other keys again;
- the keys come from the HKDF key schedule (early → handshake → master secret), each
  step shown with ``--secrets``;
- the ChangeCipherSpec records still on the wire change nothing (middlebox compatibility).
"""

from __future__ import annotations

from typing import Any, Protocol

from ..trace.bus import TraceEvent
from .facts import signature_scheme_name


class _Phase(Protocol):
    def add(self, ev: TraceEvent | float, node: str, text: str, *details: str) -> Any: ...


def _v(v: object, secrets: bool, n: int = 16) -> str:
    s = str(v)
    return s if secrets or len(s) <= n else f"{s[:n]}…"


def tls13_steps(events: list[TraceEvent], nodes: tuple[str, str], p: _Phase, secrets: bool) -> None:
    """Add one step per TLS 1.3 event of the client and server ``nodes``."""
    for e in events:
        if e.layer != "tls" or e.node not in nodes:
            continue
        f = e.fields
        me = e.node
        msg = f.get("message")
        k = e.kind
        if k == "key_share" and "public" in f:
            p.add(
                e, me,
                f"makes an ephemeral {f.get('group')} key pair for the ClientHello",
                f"public key: {_v(f.get('public'), secrets, 32)}",
                "TLS 1.3 sends it in the first message: the server can answer with its own "
                "and both can compute the secret one round trip earlier than TLS 1.2",
            )  # fmt: skip
        elif k == "send" and msg == "client_hello":
            again = " again, after the retry" if f.get("retry") else ""
            p.add(
                e, me,
                f"→ [bold]ClientHello[/]{again} ({f.get('length')} bytes, in the clear)",
                f"client random: {f.get('client_random')}",
                f"legacy session id: {_v(f.get('session_id'), secrets)} "
                "(only for middleboxes that expect TLS 1.2)",
                "cipher suites: " + ", ".join(map(str, f.get("cipher_suites") or [])),
                f"supported groups: {', '.join(map(str, f.get('groups') or []))}; "
                f"key shares sent: {', '.join(map(str, f.get('key_shares') or []))}",
                f"extensions: {', '.join(map(str, f.get('extensions') or []))}",
            )  # fmt: skip
        elif k == "send" and msg == "server_hello" and f.get("hello_retry_request"):
            p.add(
                e, me,
                f"→ [bold]HelloRetryRequest[/]: please send a {f.get('group')} key share",
                "a ServerHello whose random is SHA-256(\"HelloRetryRequest\"): one more "
                "round trip, and the first ClientHello is replaced by its hash in the transcript",
            )  # fmt: skip
        elif k == "send" and msg == "server_hello":
            p.add(
                e, me,
                f"→ [bold]ServerHello[/] ({f.get('length')} bytes, the last message in the clear)",
                f"server random: {f.get('server_random')}",
                f"chosen cipher suite: [bold]{f.get('suite')}[/] (1.3 suites name only "
                "the AEAD and the hash)",
                f"key share: {f.get('group')}, "
                f"public key {_v(f.get('server_public'), secrets, 32)}",
                "supported_versions: TLS 1.3 (the version field itself still says 1.2)",
            )  # fmt: skip
        elif k == "key_share" and "shared_secret" in f and me == nodes[0]:
            p.add(
                e, me,
                f"(EC)DHE: {f.get('group')} shared secret from our private key and the "
                "server's public key",
                f"value: {f.get('shared_secret')}" if secrets else "(value with --secrets)",
            )  # fmt: skip
        elif k == "secret" and me == nodes[0]:
            name = str(f.get("name"))
            label = f" (key log: {f.get('keylog')})" if f.get("keylog") else ""
            p.add(
                e, me,
                f"key schedule: [bold]{name}[/]{label}",
                str(e.why or ""),
                f"value: {f.get('value')}" if secrets else "",
            )  # fmt: skip
        elif k == "keys":
            epoch = str(f.get("epoch"))
            direction = "sends" if f.get("direction") == "write" else "reads"
            p.add(
                e, me,
                f"from here on {me} {direction} [bold]encrypted[/] records with "
                f"{epoch} traffic keys ({f.get('aead')})",
                f"key {f.get('key')}, iv {f.get('iv')}" if secrets else "",
            )  # fmt: skip
        elif k == "send" and msg == "encrypted_extensions":
            p.add(
                e, me,
                "→ [bold]EncryptedExtensions[/] (encrypted): "
                + (", ".join(map(str, f.get("extensions") or [])) or "none"),
                "what TLS 1.2 sent in the clear in its ServerHello (ALPN, SNI ack) is hidden now",
            )  # fmt: skip
        elif k == "send" and msg == "certificate":
            chain = [str(c) for c in f.get("chain") or []]
            p.add(
                e, me,
                f"→ [bold]Certificate[/] ({f.get('length')} bytes, [bold]encrypted[/]): "
                "an observer no longer sees which certificate the server has",
                *[f"subject: {c}" for c in chain[:1]],
                *[f"issuer (sent along): {c}" for c in chain[1:]],
            )  # fmt: skip
        elif k == "send" and msg == "certificate_verify":
            scheme = str(f.get("signature_scheme"))
            p.add(
                e, me,
                f"→ [bold]CertificateVerify[/] (encrypted): {signature_scheme_name(scheme)} "
                "signature over the hash of every handshake message so far",
            )  # fmt: skip
        elif k == "certificate_verify" and me == nodes[0]:
            p.add(e, me, "CertificateVerify [green]verified[/] with the certificate's public key")
        elif k == "check" and me == nodes[0]:
            mark = "[green]✓[/]" if f.get("ok") else "[red]✗[/]"
            p.add(e, me, f"certificate check {mark} {f.get('name')}: {f.get('detail')}")
        elif k == "send" and msg == "ChangeCipherSpec":
            p.add(
                e, me,
                "→ ChangeCipherSpec (1 byte, in the clear): changes nothing in TLS 1.3 — sent "
                "only so that middleboxes that know TLS 1.2 let the connection through",
            )  # fmt: skip
        elif k == "send" and msg == "finished":
            p.add(
                e, me,
                f"→ [bold]Finished[/] (encrypted): HMAC of the transcript hash "
                f"{_v(f.get('verify_data'), secrets)}",
            )  # fmt: skip
        elif k == "finished":
            p.add(e, me, "peer's Finished [green]matches[/]: nobody altered the handshake")
        elif k == "established":
            p.add(
                e, me,
                f"TLS 1.3 established: {f.get('suite')} ({f.get('key_exchange')}, "
                f"ALPN {f.get('alpn')})",
            )  # fmt: skip
        elif k == "send" and msg == "new_session_ticket":
            p.add(
                e, me,
                f"→ [bold]NewSessionTicket[/] (encrypted, after the handshake): a ticket "
                f"valid {f.get('lifetime')} s to resume without the certificate next time",
            )  # fmt: skip
        elif k == "alert" and f.get("direction") == "sent":
            p.add(e, me, f"→ [red]alert {f.get('alert')}[/]", str(e.why or ""))
