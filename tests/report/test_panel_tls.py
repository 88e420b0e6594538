"""The TLS panel judged by others: its client random is tshark's ClientHello random, its
master secret the run's key log line, its key block what the PRF of RFC 5246 §5 gives when
computed here with ``cryptography``'s HMAC from the key log's master secret and tshark's
randoms, cut at the suite's lengths; for TLS 1.3 every secret the key log carries equals
its line; the certificates' validity and the failed check of an expired certificate agree
with the certificates tshark extracts from the capture, read by ``cryptography``."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, hmac
from panel_dom import fields, having, minternet, parse, text

from minternet.apps.fetch_run import FetchOptions, FetchRun, run_fetch
from minternet.cli.fetch_story import captured
from minternet.report.facts import run_facts
from minternet.report.panels import tls_panel_html
from minternet.trace.bus import FrameRecord

pytestmark = pytest.mark.tools("tshark")

# RFC 5246 §6.3 lengths of the suites these tests run, written out here (not read from
# our suite table): (MAC key, enc key, fixed IV) bytes, and the PRF hash.
SUITE_LENGTHS = {
    0xC02F: (0, 16, 4, hashes.SHA256()),  # TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (RFC 5289)
    0xC013: (20, 16, 0, hashes.SHA256()),  # TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA (RFC 4492)
}


@dataclass
class Case:
    root: ET.Element
    html: str
    pcap: Path
    keylog: list[str]  # the key log file the command line wrote
    run: FetchRun
    frames: list[FrameRecord]  # the pcapng's


def _case(tmp: Path, args: tuple[str, ...], opts: FetchOptions) -> Case:
    pcap, keys = tmp / "run.pcapng", tmp / "run.keys"
    proc = minternet("fetch", *args, "-q", "--pcap", str(pcap), "--keylog", str(keys))
    assert proc.returncode in (0, 1), proc.stderr
    run = run_fetch(opts)  # what the command ran
    frames = captured(run, {name for name, _ in run.world.capture_points()})  # the pcapng's
    assert len(fields(pcap, "frame", "frame.number")) == len(frames)  # the same run
    html = tls_panel_html(run_facts(run), run.keylog, frames)
    return Case(parse(html), html, pcap, keys.read_text().splitlines(), run, frames)


@pytest.fixture(scope="module")
def gcm(tmp_path_factory: pytest.TempPathFactory) -> Case:
    return _case(tmp_path_factory.mktemp("gcm"), ("--seed", "5"), FetchOptions(seed=5))


@pytest.fixture(scope="module")
def cbc(tmp_path_factory: pytest.TempPathFactory) -> Case:
    return _case(
        tmp_path_factory.mktemp("cbc"),
        ("--seed", "6", "--cipher", "ECDHE-RSA-AES128-SHA"),
        FetchOptions(seed=6, cipher="ECDHE-RSA-AES128-SHA"),
    )


def _row(root: ET.Element, field: str) -> ET.Element:
    (row,) = [el for el in root.iter("tr") if el.get("data-field") == field]
    return row


def _value(row: ET.Element) -> str:
    return text(row.findall("td")[0])


def _hello_randoms(pcap: Path) -> tuple[str, str, int, int]:
    """(client random, server random, chosen suite, ClientHello frame number) by tshark."""
    (ch, *_) = fields(pcap, "tls.handshake.type == 1", "frame.number", "tls.handshake.random")
    (sh, *_) = fields(pcap, "tls.handshake.type == 2", "tls.handshake.random",
                      "tls.handshake.ciphersuite")  # fmt: skip
    return ch[1], sh[0], int(sh[1], 16), int(ch[0])


def _p_hash(algo: hashes.HashAlgorithm, secret: bytes, seed: bytes, n: int) -> bytes:
    """RFC 5246 §5 P_hash, with cryptography's HMAC."""

    def mac(data: bytes) -> bytes:
        h = hmac.HMAC(secret, algo)
        h.update(data)
        return h.finalize()

    out, a = b"", seed
    while len(out) < n:
        a = mac(a)
        out += mac(a + seed)
    return out[:n]


@pytest.mark.parametrize("case_name", ["gcm", "cbc"])
def test_tls12_values_and_key_block(case_name: str, request: pytest.FixtureRequest) -> None:
    case: Case = request.getfixturevalue(case_name)
    client_random, server_random, suite, ch_frame = _hello_randoms(case.pcap)
    row = _row(case.root, "client_random")
    assert _value(row) == client_random
    assert int(row.get("data-frame", "-1")) + 1 == ch_frame  # the ClientHello's frame
    assert _value(_row(case.root, "server_random")) == server_random
    # the master secret: the key log's CLIENT_RANDOM line for this client random
    (line,) = [ln.split() for ln in case.keylog if ln.startswith("CLIENT_RANDOM ")]
    assert line[1] == client_random
    (step,) = [
        el for el in having(case.root, "mp-kd-step") if el.get("data-secret") == "master_secret"
    ]
    (value,) = having(step, "mp-value")
    assert text(value) == line[2]
    # the key block, recomputed from the key log's master secret and tshark's randoms
    mac_len, key_len, iv_len, algo = SUITE_LENGTHS[suite]
    total = 2 * (mac_len + key_len + iv_len)
    block = _p_hash(
        algo,
        bytes.fromhex(line[2]),
        b"key expansion" + bytes.fromhex(server_random) + bytes.fromhex(client_random),
        total,
    )
    (table,) = having(case.root, "mp-kb")
    assert table.get("data-length") == str(total)
    parts = having(table, "mp-kb-part")
    sizes = [mac_len, mac_len, key_len, key_len, iv_len, iv_len]
    assert [p.get("data-part") for p in parts] == [
        "client_write_MAC_key", "server_write_MAC_key", "client_write_key",
        "server_write_key", "client_write_IV", "server_write_IV",
    ]  # fmt: skip
    pos = 0
    for part, size in zip(parts, sizes, strict=True):
        assert part.get("data-offset") == str(pos) and part.get("data-size") == str(size)
        shown = having(part, "mp-value")
        if size:
            assert text(shown[0]) == block[pos : pos + size].hex(), part.get("data-part")
        else:
            assert not shown
        pos += size


def test_without_secrets_no_secret_values(gcm: Case) -> None:
    """The gcm run's panel drawn again without the key log."""
    html = tls_panel_html(run_facts(gcm.run), None, gcm.frames)
    root = parse(html)
    assert not having(root, "mp-value")
    master = next(ln.split()[2] for ln in gcm.keylog if ln.startswith("CLIENT_RANDOM"))
    assert master in gcm.html  # shown with the secrets
    assert master not in html
    client_random, *_ = _hello_randoms(gcm.pcap)
    assert _value(_row(root, "client_random")) == client_random  # public values stay


def test_tls13_schedule_matches_key_log(tmp_path: Path) -> None:
    case = _case(tmp_path, ("--seed", "5", "--tls", "1.3"), FetchOptions(seed=5, tls=("1.3",)))
    (section,) = having(case.root, "mp-tls")
    assert section.get("data-version") == "TLSv1.3"
    client_random, *_ = _hello_randoms(case.pcap)
    assert _value(_row(case.root, "client_random")) == client_random
    logged = {p[0]: p[2] for p in (ln.split() for ln in case.keylog) if p[1] == client_random}
    assert set(logged) >= {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_TRAFFIC_SECRET_0"}
    steps = {el.get("data-keylog"): el for el in having(case.root, "mp-kd-step")}
    for label, secret in logged.items():
        (value,) = having(steps[label], "mp-value")
        assert text(value) == secret, label
    names = [el.get("data-secret") for el in having(case.root, "mp-kd-step")]
    assert names.index("handshake_secret") < names.index("master_secret")
    # the ServerHello's legacy_session_id_echo as tshark reads it; no RFC 7627 in 1.3
    ((echo,),) = fields(case.pcap, "tls.handshake.type == 2", "tls.handshake.session_id")[:1]
    assert echo and _value(_row(case.root, "server_session_id")) == echo
    assert _value(_row(case.root, "extended_master_secret")).startswith("none in TLS 1.3")


def test_failed_tls13_handshake_is_not_told_as_tls12(tmp_path: Path) -> None:
    """A 1.3 handshake that failed after the ServerHello (the client refused an expired
    certificate): the panel says TLS 1.3 as tshark does, with the 1.3 schedule, no key
    block of RFC 5246."""
    case = _case(tmp_path, ("--seed", "5", "--tls", "1.3", "--scenario", "expired-cert"),
                 FetchOptions(seed=5, tls=("1.3",), scenario="expired-cert"))  # fmt: skip
    ((version,),) = fields(case.pcap, "tls.handshake.type == 2",
                           "tls.handshake.extensions.supported_version")[:1]  # fmt: skip
    assert version == "0x0304"
    (section,) = having(case.root, "mp-tls")
    assert section.get("data-version") == "TLSv1.3"
    assert "TLS 1.3 handshake" in case.html and "RFC 5246" not in case.html
    assert "handshake_secret" in [el.get("data-secret") for el in having(case.root, "mp-kd-step")]


def test_certificates_and_checks(gcm: Case, tmp_path: Path) -> None:
    """The path's validity as the certificates sent say it (read by cryptography from
    tshark's bytes), and an expired leaf's validity check failed, as the run did."""
    (certs_hex,) = fields(gcm.pcap, "tls.handshake.certificate", "tls.handshake.certificate")[0:1]
    sent = [x509.load_der_x509_certificate(bytes.fromhex(h)) for h in certs_hex[0].split(",")]
    cards = [c for c in having(gcm.root, "mp-cert") if c.get("data-cert") != "chain"]
    assert len(cards) == len(sent) + 1  # and the trust anchor from the laptop's store
    for card, cert in zip(cards, sent, strict=False):
        valid = _value(_row(card, "validity"))
        after = cert.not_valid_after_utc.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        assert valid.endswith(after)
        assert card.get("data-ok") == "true"
    expired = _case(
        tmp_path, ("--seed", "5", "--scenario", "expired-cert"),
        FetchOptions(seed=5, scenario="expired-cert"),
    )  # fmt: skip
    (leaf_hex,) = fields(expired.pcap, "tls.handshake.certificate", "tls.handshake.certificate")[0]
    leaf = x509.load_der_x509_certificate(bytes.fromhex(leaf_hex.split(",")[0]))
    now = datetime(2026, 6, 1, tzinfo=UTC)  # the simulated world's calendar (SIM_EPOCH)
    assert leaf.not_valid_after_utc < now
    (card,) = [c for c in having(expired.root, "mp-cert") if c.get("data-cert") == "0"]
    assert card.get("data-ok") == "false"
    failed = [c for c in having(card, "mp-check") if c.get("data-ok") == "false"]
    assert [c.get("data-check") for c in failed] == ["validity"]
    assert "expired" in text(failed[0])
