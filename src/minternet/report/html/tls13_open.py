"""TLS 1.3 records opened for the report's dissector with the NSS key log's 1.3 secrets.

A connection is TLS 1.3 when its ServerHello's ``supported_versions`` selects 0x0304
(RFC 8446 §4.2.1; a HelloRetryRequest is a ServerHello with the random of §4.1.3 and
brings no keys). From then on every application_data record is protected (§5.2): the AEAD
opens ``TLSInnerPlaintext = content || ContentType || zeros`` with the record header as
additional data and the nonce ``iv XOR seq`` (§5.3), by :class:`~minternet.tls.record13.Aead13`
with the key and IV of §7.3 (:func:`~minternet.tls.schedule.traffic_keys`).

Each direction walks through its traffic secrets, each named by a key log label:

- the client: ``CLIENT_EARLY_TRAFFIC_SECRET`` for 0-RTT data and EndOfEarlyData when its
  ClientHello offered early_data (§4.2.10, §4.5), ``CLIENT_HANDSHAKE_TRAFFIC_SECRET`` up
  to its Finished, ``CLIENT_TRAFFIC_SECRET_0`` after it;
- the server: ``SERVER_HANDSHAKE_TRAFFIC_SECRET`` from its ServerHello up to its Finished,
  ``SERVER_TRAFFIC_SECRET_0`` after it;
- a KeyUpdate (§4.6.3) moves its sender to the next generation of its secret,
  ``HKDF-Expand-Label(secret, "traffic upd", "", Hash.length)`` (§7.2).

Every key change restarts the sequence number at 0. The middlebox-compatibility
ChangeCipherSpec (§D.4) changes no keys. Early data is opened even when the server
declined it (the client sealed it all the same). A record the current secret does not open
is tried with the next one (see :class:`Direction13`): a client whose 0-RTT was declined
moves to its handshake keys with no EndOfEarlyData, and a Finished the capture lacks still
changed the keys. ``EXPORTER_SECRET`` and ``EARLY_EXPORTER_SECRET`` protect no record and
are not used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from cryptography import x509

from ...errors import MinternetError
from ...tls.cipher import BadRecordMac
from ...tls.extensions import ExtensionType
from ...tls.messages import HandshakeType
from ...tls.messages13 import (
    Certificate13,
    CertificateRequest13,
    CertificateVerify,
    EncryptedExtensions,
    Finished13,
    KeyUpdate,
    NewSessionTicket13,
)
from ...tls.record13 import Aead13
from ...tls.schedule import next_traffic_secret, traffic_keys
from ...tls.signing import SignatureScheme
from ...tls.suites13 import TLS13_BY_CODE, Tls13Suite

EARLY = "CLIENT_EARLY_TRAFFIC_SECRET"
CLIENT_HANDSHAKE = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
SERVER_HANDSHAKE = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
CLIENT_APPLICATION = "CLIENT_TRAFFIC_SECRET_0"
SERVER_APPLICATION = "SERVER_TRAFFIC_SECRET_0"
LABELS = (EARLY, CLIENT_HANDSHAKE, SERVER_HANDSHAKE, CLIENT_APPLICATION, SERVER_APPLICATION)
NOT_OPENED = "failed (the key log does not open it)"

#: A message taken apart: (field, text) rows.
Fields = list[tuple[str, str]]


def secrets13(key_log: Mapping[bytes, Mapping[str, bytes]]) -> dict[bytes, dict[str, bytes]]:
    """The TLS 1.3 traffic secrets of a key log read by
    :func:`~minternet.tls.keylog.read_key_log`: client random → label → secret."""
    out: dict[bytes, dict[str, bytes]] = {}
    for random, secrets in key_log.items():
        mine = {label: s for label, s in secrets.items() if label in LABELS}
        if mine:
            out[random] = mine
    return out


@dataclass(frozen=True, slots=True)
class Opened:
    """One protected record, opened: its real content type and content (§5.2), the zero
    padding after the type, which secret opened it with which sequence number, and the
    handshake messages (type, body) this record completes."""

    content_type: int
    content: bytes
    padding: int
    secret: str
    seq: int
    messages: tuple[tuple[int, bytes], ...] = ()


@dataclass
class _Keys:
    """One traffic secret of one direction and the next record's sequence number."""

    name: str
    suite: Tls13Suite
    secret: bytes
    aead: Aead13
    seq: int = 0
    generation: int = 0


def _keys(name: str, suite: Tls13Suite, secret: bytes, generation: int = 0) -> _Keys:
    """The record protection of ``secret``: key and IV by RFC 8446 §7.3."""
    aead = Aead13(suite, traffic_keys(suite.hash_name, secret, suite.key_len))
    return _Keys(name, suite, secret, aead, 0, generation)


@dataclass
class Direction13:
    """One direction of a TLS 1.3 connection as a capture point sees it: the secret its
    records are under now (its label; several early candidates until one opens), the suite
    the ServerHello chose, the handshake bytes not yet a whole message, and each record's
    outcome by its stream position (a retransmitted record is shown again, not opened
    twice).

    A record the current keys do not open is tried with the next ones — early → handshake,
    handshake → application, generation N → N + 1 — and when they open it the direction
    moves on: a client whose 0-RTT data was declined, or whose hello was retried, leaves
    its early keys with no EndOfEarlyData (§4.2.10), and a Finished or KeyUpdate in a
    record the capture lacks or could not put together still changed the keys."""

    client: bool
    secrets: Mapping[str, bytes]
    label: str = ""  # the key log label of the secret the records are under now
    now: list[_Keys] = field(default_factory=list)  # its keys (empty: the key log lacks it)
    suite: Tls13Suite | None = None
    pending: bytearray = field(default_factory=bytearray)
    seen: dict[int, Opened | str] = field(default_factory=dict)

    def use(self, label: str, suites: Sequence[Tls13Suite]) -> None:
        """Records from here on are under the secret ``label`` (of one of ``suites``)."""
        secret = self.secrets.get(label)
        fits = [s for s in suites if secret is not None and s.hash_len == len(secret)]
        self.label = label
        self.now = [_keys(label, s, secret) for s in fits if secret is not None]
        self.pending.clear()

    def handshake_keys(self, suite: Tls13Suite) -> None:
        """The ServerHello chose ``suite``: the handshake keys, now or after early data."""
        self.suite = suite
        if self.label != EARLY:
            self.use(CLIENT_HANDSHAKE if self.client else SERVER_HANDSHAKE, (suite,))

    def _next(self) -> tuple[str, list[_Keys]]:
        """The label and keys that follow the current ones (no keys: the key log lacks
        them, or the ServerHello has not chosen a suite yet)."""
        if self.label.endswith("_TRAFFIC_SECRET_0"):  # application: KeyUpdate, §7.2
            return self.label, [
                _keys(k.name, k.suite, next_traffic_secret(k.suite.hash_name, k.secret),
                      k.generation + 1) for k in self.now[:1]
            ]  # fmt: skip
        if self.label == EARLY:
            label = CLIENT_HANDSHAKE
        elif self.label in (CLIENT_HANDSHAKE, SERVER_HANDSHAKE):
            label = CLIENT_APPLICATION if self.client else SERVER_APPLICATION
        else:
            return self.label, []
        secret = self.secrets.get(label)
        if secret is None or self.suite is None:
            return label, []
        return label, [_keys(label, self.suite, secret)]

    def open(self, start: int, header: bytes, fragment: bytes) -> Opened | str | None:
        """The record at stream position ``start`` opened, or why not (None: the key log
        holds no TLS 1.3 secret of this connection, so there is nothing to say)."""
        if not self.secrets:
            return None
        got = self.seen.get(start)
        if got is None:
            got = self.seen[start] = self._open(header, fragment)
        return got

    def _open(self, header: bytes, fragment: bytes) -> Opened | str:
        next_label, next_keys = self._next()
        for keys in self.now + next_keys:
            try:
                inner = keys.aead.open(keys.seq, header, fragment)
            except BadRecordMac:
                continue
            break
        else:
            if not self.now and self.label:
                return _lacks(self.label)
            if next_label != self.label and next_label not in self.secrets:
                return _lacks(next_label)
            return NOT_OPENED
        if keys in next_keys:  # the keys changed in a record not seen, or without a message
            self.label = next_label
            self.pending.clear()
        self.now = [keys]
        seq = keys.seq
        keys.seq += 1
        end = len(inner)
        while end and inner[end - 1] == 0:
            end -= 1
        if end == 0:
            return "failed (an inner plaintext of zeros: no content type, RFC 8446 §5.4)"
        ct, content = inner[end - 1], inner[: end - 1]
        messages: tuple[tuple[int, bytes], ...] = ()
        if ct == 22:  # handshake
            messages = self._messages(content)
        opened = Opened(ct, content, len(inner) - end, _name(keys), seq, messages)
        for t, _body in messages:
            self._after(t, keys)
        return opened

    def _messages(self, content: bytes) -> tuple[tuple[int, bytes], ...]:
        """The handshake messages this record completes (one may span records, §5.1)."""
        self.pending += content
        out: list[tuple[int, bytes]] = []
        while len(self.pending) >= 4:
            n = int.from_bytes(self.pending[1:4], "big")
            if len(self.pending) < 4 + n:
                break
            out.append((self.pending[0], bytes(self.pending[4 : 4 + n])))
            del self.pending[: 4 + n]
        return tuple(out)

    def _after(self, t: int, keys: _Keys) -> None:
        """The key change a message makes for the records after it: Finished → the
        application secret; KeyUpdate → its next generation (§7.2); EndOfEarlyData → the
        client's handshake secret (§4.5)."""
        finished = t == HandshakeType.finished and keys.name in (CLIENT_HANDSHAKE, SERVER_HANDSHAKE)
        update = t == HandshakeType.key_update and keys.name != EARLY
        early_end = t == HandshakeType.end_of_early_data and keys.name == EARLY
        if finished or update or early_end:
            self.label, self.now = self._next()
            self.pending.clear()


def _name(keys: _Keys) -> str:
    if keys.generation:
        return f"{keys.name} after {keys.generation} KeyUpdate(s)"
    return keys.name


def _lacks(label: str) -> str:
    return f"not opened (the key log has no {label} line for this connection)"


class Tls13Session:
    """Both directions of one TLS 1.3 connection at one capture point."""

    def __init__(self, secrets: Mapping[str, bytes]) -> None:
        self.client = Direction13(True, secrets)
        self.server = Direction13(False, secrets)
        self.suite: Tls13Suite | None = None

    def early_data(self, offered_suites: Sequence[int]) -> None:
        """The ClientHello offered early_data: the client's next protected records are
        0-RTT data under its early secret, of the PSK's suite — one of those offered."""
        self.client.use(EARLY, [TLS13_BY_CODE[c] for c in offered_suites if c in TLS13_BY_CODE])

    def server_hello(self, suite_code: int, retry: bool) -> None:
        """The ServerHello chose TLS 1.3 and ``suite_code``; a HelloRetryRequest sets no
        keys (the next ServerHello will)."""
        suite = TLS13_BY_CODE.get(suite_code)
        if retry or suite is None:
            return
        self.suite = suite
        self.server.handshake_keys(suite)
        self.client.handshake_keys(suite)


# -- the messages of a decrypted handshake record (RFC 8446 §4) ---------------------------
NAMES: dict[int, str] = {
    HandshakeType.new_session_ticket: "New Session Ticket",
    HandshakeType.end_of_early_data: "End of Early Data",
    HandshakeType.encrypted_extensions: "Encrypted Extensions",
    HandshakeType.certificate: "Certificate",
    HandshakeType.certificate_request: "Certificate Request",
    HandshakeType.certificate_verify: "Certificate Verify",
    HandshakeType.finished: "Finished",
    HandshakeType.key_update: "Key Update",
}


def message_name(t: int) -> str:
    return NAMES.get(t, f"Handshake type {t}")


def _extension_names(types: Iterable[int]) -> str:
    names = []
    for t in types:
        try:
            names.append(ExtensionType(t).name)
        except ValueError:
            names.append(f"unknown ({t})")
    return ", ".join(names) or "none"


def _certificate(der: bytes) -> str:
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return f"{len(der)} bytes (not X.509 DER)"
    return f"{cert.subject.rfc4514_string()} (issuer {cert.issuer.rfc4514_string()})"


def _scheme(code: int) -> str:
    try:
        return f"{SignatureScheme(code).name} (0x{code:04x})"
    except ValueError:
        return f"0x{code:04x}"


def message_fields(t: int, body: bytes, suite: Tls13Suite | None) -> Fields:
    """The key fields of one decrypted handshake message (§4.3–§4.6), as text."""
    try:
        if t == HandshakeType.encrypted_extensions:
            ee = EncryptedExtensions.decode_body(body)
            return [("extensions", _extension_names(e.type for e in ee.extensions))]
        if t == HandshakeType.certificate:
            c = Certificate13.decode_body(body)
            rows = [("certificates", str(len(c.entries)))]
            return rows + [("certificate", _certificate(e.cert_data)) for e in c.entries]
        if t == HandshakeType.certificate_request:
            cr = CertificateRequest13.decode_body(body)
            return [("context", cr.context.hex() or "(empty)"),
                    ("extensions", _extension_names(e.type for e in cr.extensions))]  # fmt: skip
        if t == HandshakeType.certificate_verify:
            cv = CertificateVerify.decode_body(body)
            return [("signature scheme", _scheme(cv.signature_scheme)),
                    ("signature", f"{len(cv.signature)} bytes")]  # fmt: skip
        if t == HandshakeType.finished:
            hash_len = suite.hash_len if suite is not None else len(body)
            return [("verify_data", Finished13.decode_body(body, hash_len).verify_data.hex())]
        if t == HandshakeType.new_session_ticket:
            nst = NewSessionTicket13.decode_body(body)
            return [
                ("ticket_lifetime", f"{nst.lifetime} s"),
                ("ticket_age_add", str(nst.age_add)),
                ("ticket_nonce", nst.nonce.hex() or "(empty)"),
                ("ticket", f"{len(nst.ticket)} bytes"),
                ("extensions", _extension_names(e.type for e in nst.extensions)),
            ]
        if t == HandshakeType.key_update:
            ku = KeyUpdate.decode_body(body)
            req = "update_requested (1)" if ku.request_update else "update_not_requested (0)"
            return [("request_update", req)]
        if t == HandshakeType.end_of_early_data:
            return []
    except (MinternetError, ValueError) as e:
        return [("malformed", str(e))]
    return [("body", f"{len(body)} bytes")]


__all__ = [
    "LABELS",
    "NOT_OPENED",
    "Direction13",
    "Opened",
    "Tls13Session",
    "message_fields",
    "message_name",
    "secrets13",
]
