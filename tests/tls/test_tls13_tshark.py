"""tshark decrypts a TLS 1.3 session with our key log (the five TLS 1.3 labels:
CLIENT/SERVER_HANDSHAKE_TRAFFIC_SECRET, CLIENT/SERVER_TRAFFIC_SECRET_0, EXPORTER_SECRET),
given as a file or carried in the pcapng's Decryption Secrets Block we write.

The session is ours (client and server in memory, HTTP inside, a HelloRetryRequest and a
KeyUpdate on the way); its bytes go into TCP segments built with scapy."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from scapy.utils import wrpcap
from test_tls_tshark import Flow
from tls_support import HOST, NOW, Certs, make_trust

from minternet.randomness import SeededRandom
from minternet.tls.client13 import ClientConfig13, TlsClient13
from minternet.tls.extensions import NamedGroup
from minternet.tls.server import KeyAndChain
from minternet.tls.server13 import ServerConfig13, TlsServer13
from minternet.tls.suites13 import TLS13_SUITES, Tls13Suite
from minternet.trace.bus import FrameRecord
from minternet.trace.pcapng import PcapngWriter
from tshark_table import has, table

pytestmark = pytest.mark.tools("tshark")


def session(pki: Certs, suite: Tls13Suite) -> tuple[Flow, list[str]]:
    lines: list[str] = []
    c = TlsClient13(
        ClientConfig13(
            random=SeededRandom(1), server_name=HOST, trust=make_trust([pki.root]), now=NOW,
            suites=(suite,), keylog=lines.append,
        )
    )  # fmt: skip
    s = TlsServer13(
        ServerConfig13(
            [KeyAndChain(pki.rsa.chain, pki.rsa.key)],
            SeededRandom(2),
            groups=(NamedGroup.secp256r1, NamedGroup.x25519),  # a HelloRetryRequest first
        )
    )
    flow = Flow()
    c.start()
    flow.shuttle(c, s, 6)
    assert c.established and c.info is not None and c.info.hello_retry
    flow.get_page(c, s)
    return flow, lines


def _http_rows(capture: Path, *opts: str) -> list[list[str]]:
    res = subprocess.run(
        ["tshark", "-r", str(capture), *opts, "-Y", "http", "-T", "fields",
         "-e", "http.request.uri", "-e", "http.response.code"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "Traceback" not in res.stderr
    return [r.split("\t") for r in res.stdout.strip().splitlines() if r.strip()]


@pytest.mark.parametrize("suite", TLS13_SUITES, ids=lambda s: s.name)
def test_tshark_decrypts_tls13_with_our_keylog(
    pki: Certs, tmp_path: Path, suite: Tls13Suite
) -> None:
    flow, lines = session(pki, suite)
    labels = {line.split()[0] for line in lines}
    assert labels == {
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET",
    }  # fmt: skip
    pcap, keylog = tmp_path / "s.pcap", tmp_path / "keys.log"
    wrpcap(str(pcap), flow.pkts)
    keylog.write_text("\n".join(lines) + "\n")
    # one pass with the key log answers every question about the decrypted capture
    rows = table(pcap, "http.request.uri", "http.response.code", "tls.handshake.type",
                 "_ws.malformed", options=["-o", f"tls.keylog_file:{keylog}"])  # fmt: skip
    assert any(has(r, "http.request.uri", "/index.html") for r in rows), rows
    assert any(has(r, "http.response.code", "200") for r in rows), rows
    # the encrypted handshake opens too: tshark sees our Certificate and both Finished
    types = {t for r in rows for t in r["tls.handshake.type"].split(",")}
    assert {"8", "11", "20"} <= types, rows
    assert [r for r in rows if r["_ws.malformed"]] == []
    assert _http_rows(pcap) == []  # without the keys nothing is readable


def pcapng_with_dsb(flow: Flow, lines: list[str], capture: Path) -> Path:
    """``flow`` written by our pcapng writer, the key log ``lines`` in its DSB."""
    writer = PcapngWriter()
    for p in flow.pkts:
        writer(FrameRecord(float(p.time), "client", "eth0", "out", bytes(p)))
    writer.add_decryption_secrets("".join(line + "\n" for line in lines))
    writer.write(capture)
    return capture


def test_tshark_decrypts_tls13_from_the_dsb(pki: Certs, tmp_path: Path) -> None:
    flow, lines = session(pki, TLS13_SUITES[0])
    rows = _http_rows(pcapng_with_dsb(flow, lines, tmp_path / "s.pcapng"))
    assert any(r[0] == "/index.html" for r in rows), rows
    assert any(len(r) > 1 and r[1] == "200" for r in rows), rows
