"""``minternet tls client`` and ``minternet tls server``: our TLS 1.3 and 1.2 over the
kernel's TCP, to talk to ``openssl s_server`` / ``s_client``, curl or a browser on this
machine. ``--tls 1.2|1.3|both`` (default both, 1.3 preferred, as browsers do).

TLS 1.3 resumption and 0-RTT, like ``openssl s_client -sess_out/-sess_in -early_data``:
``tls client --sess-out FILE`` keeps the server's first ticket (our JSON, not OpenSSL's
PEM), ``--sess-in FILE`` resumes with it and ``--early-data FILE`` sends FILE's bytes as
0-RTT data when the ticket allows it (else right after the handshake). ``tls server
--early-data`` advertises and accepts 0-RTT, guarded by a ClientHello recorder
(:mod:`minternet.tls.antireplay`).

This is an edge module: it uses blocking sockets, the wall clock and the OS's randomness,
and drives the sans-IO machines of :mod:`minternet.tls`.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import click
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ..apps.tls_stream import TlsHandshakeError, tls_accept, tls_connect
from ..drivers.entropy import SystemRandom
from ..drivers.kernel import KernelStack, run
from ..drivers.pem import load_trust_store
from ..errors import ConfigError, MinternetError
from ..loop import Future, LoopTimeout
from ..node.api import StreamSocket
from ..tls import (
    ClientConfig,
    ServerConfig,
    TlsClient,
)
from ..tls.alerts import alert_name
from ..tls.client13 import TlsClient13
from ..tls.connection import load_certificate
from ..tls.connection13 import Ticket13, Tls13Connection, Tls13Info
from ..tls.keylog import KeyLogFile
from ..tls.negotiate import NegotiatingClient, parse_versions, zero_rtt_config_13
from ..tls.server import KeyAndChain
from ..tls.server13 import ServerConfig13
from ..tls.signing import SignatureScheme
from ..tls.suites import SUITES, CipherSuite, suites_by_names
from ..tls.suites13 import TLS13_BY_CODE
from ..trace.bus import TraceBus, TraceEvent
from .exits import OutcomeFailed
from .options import cafile_option, cipher_option, json_option, keylog_option, tls_option

SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
SCHEME_NAMES = {
    0x0401: "rsa_pkcs1_sha256", 0x0501: "rsa_pkcs1_sha384", 0x0601: "rsa_pkcs1_sha512",
    0x0403: "ecdsa_secp256r1_sha256", 0x0503: "ecdsa_secp384r1_sha384",
    0x0804: "rsa_pss_rsae_sha256", 0x0805: "rsa_pss_rsae_sha384", 0x0806: "rsa_pss_rsae_sha512",
}  # fmt: skip


TLS_OPTION = tls_option()
SESSION_FORMAT = "minternet-tls13-session/1"
MAX_EARLY_DATA = 16384  # what ``tls server --early-data`` allows per ticket


def session_to_json(t: Ticket13) -> str:
    """A TLS 1.3 ticket and its PSK as a JSON session file (secret: it resumes the
    session; written readable by its owner only)."""
    return json.dumps(
        {
            "format": SESSION_FORMAT,
            "ticket": t.ticket.hex(),
            "psk": t.psk.hex(),
            "cipher_suite": t.suite.code,
            "age_add": t.age_add,
            "lifetime": t.lifetime,
            "received_at": t.received_at.isoformat() if t.received_at else None,
            "server_name": t.server_name,
            "alpn": t.alpn,
            "max_early_data": t.max_early_data,
        },
        indent=2,
    )


def session_from_json(path: Path) -> Ticket13:
    """A session file written by ``--sess-out``; ConfigError (exit 2) naming the file if
    it is not one."""
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(d, dict) or d.get("format") != SESSION_FORMAT:
            raise ValueError(f"not a {SESSION_FORMAT} file")
        suite = TLS13_BY_CODE.get(int(d["cipher_suite"]))
        if suite is None:
            raise ValueError(f"unknown cipher suite {d['cipher_suite']}")
        received = d.get("received_at")
        return Ticket13(
            ticket=bytes.fromhex(d["ticket"]),
            psk=bytes.fromhex(d["psk"]),
            suite=suite,
            age_add=int(d["age_add"]) % (1 << 32),
            lifetime=int(d["lifetime"]),
            received_at=datetime.fromisoformat(received) if received else None,
            server_name=d.get("server_name"),
            alpn=d.get("alpn"),
            max_early_data=max(0, int(d.get("max_early_data", 0))),
        )
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"{path}: not a TLS 1.3 session file ({e})") from None


def _write_session(path: Path, t: Ticket13) -> None:
    try:
        path.touch(mode=0o600)
        path.write_text(session_to_json(t) + "\n", encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{path}: {e.strerror or e}") from None


@click.group()
def tls() -> None:
    """TLS 1.3 and 1.2 client and server over this machine's TCP (like openssl s_client /
    s_server)."""


def _scheme_name(code: int | None) -> str | int | None:
    if code is None:
        return None
    try:
        return SignatureScheme(code).name
    except ValueError:
        return SCHEME_NAMES.get(code, code)


def _suites(cipher: tuple[str, ...]) -> tuple[CipherSuite, ...]:
    return suites_by_names(":".join(cipher)) if cipher else SUITES


def _keylog(path: Path | None) -> KeyLogFile | None:
    if path is None:
        return None
    f = path.open("a", encoding="ascii")
    click.get_current_context().call_on_close(f.close)
    return KeyLogFile(f)


def _subject(der: bytes) -> str:
    try:
        return load_certificate(der).subject.rfc4514_string()
    except Exception:
        return "<unparseable certificate>"


def _chain_info(chain: tuple[bytes, ...]) -> list[dict[str, str]]:
    out = []
    for der in chain:
        try:
            c = load_certificate(der)
            out.append(
                {
                    "subject": c.subject.rfc4514_string(),
                    "issuer": c.issuer.rfc4514_string(),
                    "not_before": c.not_valid_before_utc.isoformat(),
                    "not_after": c.not_valid_after_utc.isoformat(),
                }
            )
        except Exception:
            out.append({"subject": "<unparseable certificate>"})
    return out


def _report(conn: TlsClient | TlsClient13, host: str, port: int) -> dict[str, Any]:
    """What the client learned, 1.2 or 1.3: the negotiated values, the chain and each check,
    and the alert that ended a failed handshake."""
    n = conn.neg
    v = n.verification
    done = conn.info is not None
    rep: dict[str, Any] = {
        "server": f"{host}:{port}",
        "handshake": "complete" if done else "failed",
    }
    if isinstance(conn, TlsClient13):
        n13 = conn.neg
        shown = n13.suite if n13.server_random else None  # known from the ServerHello on
        rep |= {
            "version": "TLSv1.3" if shown else None,
            "cipher_suite": shown.name if shown else None,
            "cipher_suite_openssl": shown.openssl_name if shown else None,
            "key_exchange": conn.info.key_exchange if conn.info is not None else None,
            "signature_scheme": _scheme_name(n.signature_scheme),
            "hello_retry": n13.hello_retry,
            "resumed": n13.resumed,
        }
        if n13.early_data != "not offered":
            rep["early_data"] = n13.early_data
            rep["early_data_bytes"] = n13.early_data_bytes
    else:
        n12 = conn.neg
        suite12 = n12.suite
        rep |= {
            "version": "TLSv1.2" if suite12 is not None else None,
            "cipher_suite": suite12.name if suite12 else None,
            "cipher_suite_openssl": suite12.openssl_name if suite12 else None,
            "key_exchange": n12.kx_name or (suite12.kx if suite12 else None),
            "signature_scheme": _scheme_name(n12.signature_scheme),
            "extended_master_secret": n12.ems,
            "encrypt_then_mac": n12.etm,
        }
    failed = next((c for c in v.checks if not c.ok), None) if v is not None else None
    rep |= {
        "alpn": n.alpn,
        "certificate_subject": _subject(n.peer_chain[0]) if n.peer_chain else None,
        "certificate_chain": _chain_info(n.peer_chain),
        "verified": bool(v is not None and v.ok),
        "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in v.checks]
        if v is not None
        else [],
        "failed_check": None if failed is None else {"name": failed.name, "detail": failed.detail},
        "client_random": n.client_random.hex(),
        "server_random": n.server_random.hex() or None,
    }
    if v is None and not n.resumed:
        rep["failed_check"] = {"name": "trust", "detail": "not verified (--no-verify)"}
    closed = conn.closed
    if closed is not None and not done:
        rep["error"] = closed.reason
        if closed.alert is not None:
            rep["alert"] = {
                "description": alert_name(closed.alert),
                "direction": "sent" if closed.alert_sent else "received",
            }
    return rep


def _print_report(rep: dict[str, Any], out: TextIO) -> None:
    def p(line: str = "") -> None:
        print(line, file=out)

    p(f"server            {rep['server']}")
    if rep["cipher_suite"]:
        p(f"version           {rep['version']}")
        p(f"cipher suite      {rep['cipher_suite']} ({rep['cipher_suite_openssl']})")
        kx = rep["key_exchange"]
        if rep["signature_scheme"]:
            kx = f"{kx}, signed with {rep['signature_scheme']}"
        p(f"key exchange      {kx}")
        if "extended_master_secret" in rep:
            p(f"extended master   {'yes' if rep['extended_master_secret'] else 'no'}")
        if rep.get("hello_retry"):
            p("hello retry       yes (the server asked for another key share)")
        if rep.get("resumed"):
            p("resumed           yes (PSK from a ticket)")
        if "early_data" in rep:
            p(f"early data        {rep['early_data']} ({rep['early_data_bytes']} bytes as 0-RTT)")
        if rep["alpn"]:
            p(f"ALPN              {rep['alpn']}")
    if rep["certificate_chain"]:
        p("certificate chain")
        for i, c in enumerate(rep["certificate_chain"]):
            p(f"  {i} {c['subject']}")
            if "issuer" in c:
                p(f"      issuer {c['issuer']}; valid {c['not_before']} .. {c['not_after']}")
    if rep["checks"]:
        p("validation")
        for c in rep["checks"]:
            p(f"  {'ok  ' if c['ok'] else 'FAIL'} {c['name']}: {c['detail']}")
    if rep["verified"]:
        p("verified          yes")
    elif rep["failed_check"]:
        f = rep["failed_check"]
        p(f"verified          no ({f['name']}: {f['detail']})")
    if "error" in rep:
        a = rep.get("alert")
        how = f" ({a['direction']} {a['description']})" if a else ""
        p(f"handshake failed{how}: {rep['error']}")


def _step_line(ev: TraceEvent) -> str | None:
    """One line for a TLS trace event (``--trace``), or None for ones not worth a line."""
    f = ev.fields
    if ev.layer != "tls" or ev.kind == "state":
        return None
    if ev.kind in ("send", "recv"):
        arrow = "->" if ev.kind == "send" else "<-"
        rest = ", ".join(f"{k}={_short(v)}" for k, v in f.items() if k not in ("message",))
        return f"  {arrow} {f.get('message')} {rest}".rstrip()
    rest = ", ".join(f"{k}={_short(v)}" for k, v in f.items())
    why = f"  [{ev.why}]" if ev.why else ""
    return f"     {ev.kind}: {rest}{why}"


def _short(v: Any) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(str(x) for x in v[:6]) + (", …]" if len(v) > 6 else "]")
    return str(v)


def _trace_bus(enabled: bool) -> TraceBus | None:
    if not enabled:
        return None
    bus = TraceBus()

    def show(ev: TraceEvent) -> None:
        line = _step_line(ev)
        if line is not None:
            click.echo(line, err=True)

    bus.subscribe(show)
    return bus


@tls.command("client")
@click.argument("host")
@click.argument("port", type=click.IntRange(1, 65535))
@click.option("--sni", help="Server name to send and check (default: HOST unless an IP).")
@cafile_option
@click.option("--no-verify", is_flag=True, help="Do not verify the server's certificate.")
@cipher_option
@click.option("--alpn", multiple=True, help="Offer this ALPN protocol (repeatable).")
@keylog_option
@click.option("--stdin", "send_stdin", is_flag=True, help="Send stdin, print the answer.")
@click.option("--secrets", is_flag=True, help="Also show the pre-master/master secrets and keys.")
@click.option("--trace", "show_trace", is_flag=True, help="Print every TLS step (to stderr).")
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds.")
@click.option(
    "--wait", type=float, default=1.0, show_default=True,
    help="With --stdin: stop reading after this many quiet seconds.",
)  # fmt: skip
@click.option(
    "--key-update", is_flag=True, help="TLS 1.3: update our keys (and ask the server to) once."
)
@click.option(
    "--sess-out", type=click.Path(dir_okay=False, path_type=Path),
    help="TLS 1.3: write the server's first ticket (a session file) here.",
)  # fmt: skip
@click.option(
    "--sess-in", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TLS 1.3: resume the session of this file (from --sess-out).",
)  # fmt: skip
@click.option(
    "--early-data", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="With --sess-in: send this file's bytes as 0-RTT data if the ticket allows it "
    "(replayable by an attacker, RFC 8446 §8), else after the handshake; print the answer.",
)  # fmt: skip
@TLS_OPTION
@json_option
def tls_client(
    host: str,
    port: int,
    sni: str | None,
    cafile: tuple[Path, ...],
    no_verify: bool,
    cipher: tuple[str, ...],
    alpn: tuple[str, ...],
    keylog: Path | None,
    send_stdin: bool,
    secrets: bool,
    show_trace: bool,
    timeout: float,
    wait: float,
    key_update: bool,
    sess_out: Path | None,
    sess_in: Path | None,
    early_data: Path | None,
    tls_version: str,
    as_json: bool,
) -> None:
    """Handshake with HOST:PORT and show what was negotiated and each certificate check
    (default trust: the system's CA bundle).

    Exit status 1 when the connection or the handshake failed (refused, alert, timeout).
    """
    versions = parse_versions(tls_version)
    resume = session_from_json(sess_in) if sess_in is not None else None
    if (resume is not None or sess_out is not None) and "1.3" not in versions:
        raise ConfigError("--sess-in/--sess-out are TLS 1.3 sessions: use --tls 1.3 or both")
    if early_data is not None and resume is None:
        raise ConfigError("--early-data needs --sess-in (0-RTT resumes a session)")
    if send_stdin and early_data is not None:
        raise ConfigError("give --stdin or --early-data, not both")
    early = early_data.read_bytes() if early_data is not None else b""
    trust = None
    if not no_verify:
        bundles = cafile or ((SYSTEM_BUNDLE,) if SYSTEM_BUNDLE.exists() else ())
        if not bundles:
            raise ConfigError("no CA bundle: give --cafile or --no-verify")
        trust = load_trust_store(*bundles)
    cfg = ClientConfig(
        random=SystemRandom(),
        server_name=sni or host,
        trust=trust,
        now=lambda: datetime.now(UTC),
        suites=_suites(cipher),
        alpn=alpn,
        keylog=_keylog(keylog),
    )
    ip = _resolve(host)
    bus = _trace_bus(show_trace)

    async def session(stack: KernelStack) -> tuple[TlsClient | TlsClient13, bytes]:
        sock = await stack.tcp_connect((ip, port), timeout)
        try:
            st = await tls_connect(
                sock, cfg, loop=stack.loop, trace=bus, node="client", timeout=timeout,
                versions=versions, session13=resume, early_data=early,
            )  # fmt: skip
        except TlsHandshakeError as e:
            return _client_machine(e.connection), b""
        conn = _client_machine(st.conn)
        received = bytearray()
        if early and not isinstance(conn, TlsClient13):
            await st.send(early)  # the server chose TLS 1.2: no 0-RTT, plain data
        if key_update and isinstance(conn, TlsClient13):
            conn.update_keys(request_peer=True)
        if send_stdin or early:
            data = sys.stdin.buffer.read() if send_stdin else b""
            if data:
                await st.send(data)
            # TLS 1.2 has no half-close (RFC 5246 §7.2.1: close_notify is answered at once),
            # so read the answer until the server closes or stays quiet for --wait seconds.
            with contextlib.suppress(LoopTimeout):
                while chunk := await st.recv(65536, wait):
                    received += chunk
        if sess_out is not None and isinstance(conn, TlsClient13):
            # Tickets come after the handshake (RFC 8446 §4.6.1): wait for one.
            with contextlib.suppress(LoopTimeout):
                while not conn.tickets and st.closed is None:
                    if chunk := await st.recv(65536, wait):
                        received += chunk
                    else:
                        break
        await st.close()
        return conn, bytes(received)

    try:
        conn, received = run(session, name="tls-client", timeout=None)
    except (OSError, LoopTimeout) as e:  # refused, unreachable, no answer to the SYN
        reason = (e.strerror or str(e)) if isinstance(e, OSError) else "timed out"
        failure = f"cannot connect to {ip}:{port}: {reason}"
        if as_json:
            click.echo(json.dumps({"server": f"{host}:{port}", "failure": failure}, indent=2))
        raise OutcomeFailed(failure) from None
    rep = _report(conn, host, port)
    if conn.info is None:
        rep["failure"] = rep.get("error") or "the TLS handshake failed"
    elif sess_out is not None:
        tickets = conn.tickets if isinstance(conn, TlsClient13) else []
        if tickets:
            _write_session(sess_out, tickets[0])
            rep["session_out"] = str(sess_out)
        else:
            rep["failure"] = "no TLS 1.3 ticket arrived for --sess-out"
    if secrets and conn.info is not None:
        rep["secrets"] = conn.info.as_dict(secrets=True)
    if as_json:
        if send_stdin or early:
            rep["received"] = received.decode("utf-8", "replace")
        click.echo(json.dumps(rep, indent=2))
    else:
        _print_report(rep, sys.stdout)
        if secrets and "secrets" in rep and isinstance(conn.info, Tls13Info):
            sec = rep["secrets"]
            click.echo(
                "secrets (TLS 1.3 key schedule, RFC 8446 §7.1; key log labels for Wireshark)"
            )
            click.echo(f"  client_random        {sec['client_random']}")
            click.echo(f"  (EC)DHE secret       {sec['shared_secret']}")
            for k, v in sec["secrets"].items():
                click.echo(f"  {k:<36} {v}")
        elif secrets and "secrets" in rep:
            sec = rep["secrets"]
            click.echo("secrets (Wireshark: CLIENT_RANDOM client_random master_secret)")
            click.echo(f"  client_random        {sec['client_random']}")
            click.echo(f"  server_random        {sec['server_random']}")
            click.echo(f"  pre_master_secret    {sec['pre_master_secret']}")
            click.echo(f"  master_secret        {sec['master_secret']}")
            for k, v in sec["keys"].items():
                if v:
                    click.echo(f"  {k:<20} {v}")
        if received:
            sys.stdout.write(received.decode("utf-8", "replace"))
    if "failure" in rep:
        raise OutcomeFailed(rep["failure"])


def _early_note(info: object) -> str:
    """``, early data accepted (N bytes)`` for a 1.3 connection that was offered 0-RTT."""
    if not isinstance(info, Tls13Info) or info.early_data == "not offered":
        return ""
    return f", early data {info.early_data} ({info.early_data_bytes} bytes)"


def _client_machine(conn: object) -> TlsClient | TlsClient13:
    """The 1.2 or 1.3 machine under a (possibly negotiating) client."""
    if isinstance(conn, NegotiatingClient):
        conn = conn.machine
    assert isinstance(conn, TlsClient | TlsClient13)
    return conn


def _resolve(host: str) -> str:
    """The IPv4 address of HOST (the kernel's resolver: this is the real-network edge)."""
    try:
        return socket.gethostbyname(host)
    except OSError as e:
        raise OutcomeFailed(f"cannot resolve {host}: {e}") from None


def _load_credentials(cert: Path, key: Path) -> KeyAndChain:
    try:
        chain = tuple(x509.load_pem_x509_certificates(cert.read_bytes()))
    except ValueError as e:
        raise ConfigError(f"{cert}: no PEM certificate ({e})") from None
    try:
        pkey = serialization.load_pem_private_key(key.read_bytes(), password=None)
    except (ValueError, TypeError) as e:
        raise ConfigError(f"{key}: not an unencrypted PEM private key ({e})") from None
    if not isinstance(pkey, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ConfigError(f"{key}: TLS 1.2 here needs an RSA or ECDSA key")
    return KeyAndChain(chain, pkey)


@tls.command("server")
@click.argument("port", type=click.IntRange(0, 65535))
@click.option(
    "--cert", "certs", multiple=True, required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Certificate chain (PEM, leaf first). Repeat with --key for RSA + ECDSA.",
)  # fmt: skip
@click.option(
    "--key", "keys", multiple=True, required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The private key (PEM) of each --cert.",
)  # fmt: skip
@cipher_option
@click.option("--alpn", multiple=True, help="Accept this ALPN protocol (repeatable).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@keylog_option
@click.option("--max-connections", type=int, default=0, help="Exit after N connections.")
@click.option("--trace", "show_trace", is_flag=True, help="Print every TLS step (to stderr).")
@click.option(
    "--key-update", is_flag=True, help="TLS 1.3: update our keys (asking the client too) once."
)
@click.option(
    "--early-data", "accept_early", is_flag=True,
    help=f"TLS 1.3: tickets allow {MAX_EARLY_DATA} bytes of 0-RTT data and we accept it once "
    "per ClientHello (RFC 8446 §8.2 recording, 10 s ticket-age window).",
)  # fmt: skip
@TLS_OPTION
@json_option
def tls_server(
    port: int,
    certs: tuple[Path, ...],
    keys: tuple[Path, ...],
    cipher: tuple[str, ...],
    alpn: tuple[str, ...],
    host: str,
    keylog: Path | None,
    max_connections: int,
    show_trace: bool,
    key_update: bool,
    accept_early: bool,
    tls_version: str,
    as_json: bool,
) -> None:
    """Serve TLS on PORT: handshake, echo what arrives (0-RTT data included), print what
    was negotiated."""
    versions = parse_versions(tls_version)
    if len(certs) != len(keys):
        raise ConfigError("give one --key for each --cert")
    creds = [_load_credentials(c, k) for c, k in zip(certs, keys, strict=True)]
    cfg = ServerConfig(
        credentials=creds,
        random=SystemRandom(),
        suites=_suites(cipher),
        alpn=alpn,
        keylog=_keylog(keylog),
        now=lambda: datetime.now(UTC),
    )

    config13 = None
    if accept_early:
        config13 = zero_rtt_config_13(cfg, MAX_EARLY_DATA)
    bus = _trace_bus(show_trace)

    async def serve(stack: KernelStack) -> None:
        listener = stack.tcp_listen(port, host=host)
        click.echo(f"listening on {host}:{listener.local[1]}", err=True)
        tasks: list[Future[None]] = []
        served = 0
        try:
            while not max_connections or served < max_connections:
                sock = await listener.accept()
                served += 1
                tasks.append(
                    stack.loop.create_task(
                        _serve_one(stack, sock, cfg, as_json, bus, versions, key_update, config13)
                    )
                )
            for t in tasks:
                await t
        finally:
            listener.close()

    run(serve, name="tls-server")


async def _serve_one(
    stack: KernelStack,
    sock: StreamSocket,
    cfg: ServerConfig,
    as_json: bool,
    bus: TraceBus | None,
    versions: tuple[str, ...] = ("1.3", "1.2"),
    key_update: bool = False,
    config13: ServerConfig13 | None = None,
) -> None:
    peer = f"{sock.remote[0]}:{sock.remote[1]}"
    try:
        st = await tls_accept(
            sock, cfg, loop=stack.loop, trace=bus, node=peer, timeout=30, versions=versions,
            config13=config13,
        )  # fmt: skip
    except TlsHandshakeError as e:
        click.echo(f"{peer}: {e}", err=True)
        return
    except (LoopTimeout, OSError) as e:
        click.echo(f"{peer}: {e or type(e).__name__}", err=True)
        sock.abort()
        return
    info = st.info
    if as_json:
        click.echo(json.dumps({"peer": peer, **info.as_dict()}))
    else:
        click.echo(
            f"{peer}: {info.version} {info.suite.name} ({info.key_exchange}"
            f"{', resumed' if info.resumed else ''}"
            f"{_early_note(info)}"
            f"{', SNI ' + info.server_name if info.server_name else ''}"
            f"{', ALPN ' + info.alpn if info.alpn else ''})"
        )
    machine = getattr(st.conn, "machine", st.conn)
    if key_update and isinstance(machine, Tls13Connection):
        machine.update_keys(request_peer=True)
    try:
        while (data := await st.recv(65536, 30)) and st.closed is None:
            await st.send(data)  # echo (unless the client closed in the same breath)
    except (LoopTimeout, OSError, MinternetError) as e:
        click.echo(f"{peer}: {e or type(e).__name__}", err=True)
    await st.close()


__all__ = ["tls"]
