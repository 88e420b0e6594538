"""0-RTT judged by others: ``openssl s_server -early_data`` takes our client's early data,
``openssl s_client -sess_out/-sess_in -early_data`` sends early data our server accepts
(both over loopback through ``minternet tls client/server``), and tshark decrypts a 0-RTT
session — the early request, EndOfEarlyData — from our key log and from the pcapng DSB."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from scapy.utils import wrpcap
from test_tls13_cli import serve_https
from test_tls13_pair import client_for, move
from test_tls13_tshark import _http_rows, pcapng_with_dsb
from test_tls_cli import our_server, wait_listening
from test_tls_tshark import Flow
from tls_support import HOST, NOW, Certs, minternet

from clitools import free_port
from minternet.randomness import SeededRandom
from minternet.tls.antireplay import ClientHelloRecorder
from minternet.tls.connection13 import EarlyData, NewTicket
from minternet.tls.server import KeyAndChain
from minternet.tls.server13 import ServerConfig13, TlsServer13
from tshark_table import has, table

EARLY = "GET /zero-rtt HTTP/1.0 minternet-early-7f3a\n"


@contextmanager
def s_server_early(pki: Certs, tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """``openssl s_server -early_data`` for two connections; its stdout goes to a file."""
    port = free_port()
    out = tmp_path / "s_server.out"
    with out.open("w") as f:
        proc = subprocess.Popen(
            ["openssl", "s_server", "-accept", str(port), "-tls1_3", "-early_data",
             "-cert", str(pki.rsa.cert_path), "-key", str(pki.rsa.key_path), "-naccept", "2"],
            stdin=subprocess.PIPE, stdout=f, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_listening(port)
            yield port, out
        finally:
            proc.kill()
            proc.communicate()


@pytest.mark.tools("openssl", "ss")
def test_openssl_s_server_accepts_our_early_data(pki: Certs, tmp_path: Path) -> None:
    sess, early = tmp_path / "sess.json", tmp_path / "early.txt"
    early.write_text(EARLY)
    common = ("--sni", HOST, "--cafile", str(pki.root_path), "--tls", "1.3", "--json")
    with s_server_early(pki, tmp_path) as (port, out):
        first = minternet("tls", "client", "127.0.0.1", str(port), *common, "--sess-out", str(sess))
        assert first.returncode == 0, first.stderr + first.stdout
        assert json.loads(sess.read_text())["max_early_data"] > 0  # s_server allows 0-RTT
        second = minternet(
            "tls", "client", "127.0.0.1", str(port), *common,
            "--sess-in", str(sess), "--early-data", str(early), "--wait", "2",
        )  # fmt: skip
        assert second.returncode == 0, second.stderr + second.stdout
        time.sleep(0.5)
        server_said = out.read_text()
    rep = json.loads(second.stdout)
    assert rep["resumed"] is True and rep["key_exchange"].startswith("PSK + ECDHE")
    assert rep["early_data"] == "accepted" and rep["early_data_bytes"] == len(EARLY)
    # s_server prints what SSL_read_early_data gave it between these lines
    assert "Early data received:" in server_said and "End of early data" in server_said
    assert "minternet-early-7f3a" in server_said, server_said


@pytest.mark.tools("openssl", "ss")
def test_openssl_s_client_early_data_to_our_server(pki: Certs, tmp_path: Path) -> None:
    sess, early = tmp_path / "sess.pem", tmp_path / "early.txt"
    early.write_text(EARLY)
    s_client = ["openssl", "s_client", "-tls1_3", "-servername", HOST,
                "-CAfile", str(pki.root_path)]  # fmt: skip
    with our_server(pki, "--early-data", "--json") as (port, proc):
        first = subprocess.Popen(
            [*s_client, "-connect", f"127.0.0.1:{port}", "-sess_out", str(sess)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        time.sleep(1.5)  # long enough to read our ticket before stdin ends
        first.communicate("hello\n", timeout=20)
        second = subprocess.Popen(
            [*s_client, "-connect", f"127.0.0.1:{port}", "-sess_in", str(sess),
             "-early_data", str(early)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        time.sleep(1.5)  # our echo of the early data comes back
        said, _ = second.communicate("", timeout=20)
        time.sleep(0.3)
        proc.kill()
        ours, err = proc.communicate()
    assert "Reused, TLSv1.3" in said and "Early data was accepted" in said, said
    assert "minternet-early-7f3a" in said  # our echo of it
    # Our server's own account: the resumed connection took the early data.
    reports = [json.loads(line) for line in ours.splitlines() if line.startswith("{")]
    resumed = [r for r in reports if r["resumed"]]
    assert resumed, ours + err
    assert resumed[0]["early_data"] == "accepted"
    assert resumed[0]["early_data_bytes"] == len(EARLY)


@pytest.mark.parametrize("early_data", [True, False], ids=["early-data", "default"])
def test_serve_https_zero_rtt_only_with_early_data(tmp_path: Path, early_data: bool) -> None:
    """``serve --https --early-data``: a resumed GET sent as 0-RTT data is accepted and
    answered (after the handshake); by default tickets allow no early data, so the same
    request goes after the handshake and gets the same page."""
    sess, request = tmp_path / "sess.json", tmp_path / "get.txt"
    request.write_bytes(b"GET / HTTP/1.1\r\nHost: www.example.com\r\nConnection: close\r\n\r\n")
    with serve_https(tmp_path, *(["--early-data"] if early_data else [])) as port:
        common = ("--sni", "www.example.com", "--cafile", str(tmp_path / "ca.pem"), "--json")
        first = minternet("tls", "client", "127.0.0.1", str(port), *common, "--sess-out", str(sess))
        assert first.returncode == 0, first.stderr + first.stdout
        second = minternet(
            "tls", "client", "127.0.0.1", str(port), *common,
            "--sess-in", str(sess), "--early-data", str(request), "--wait", "3",
        )  # fmt: skip
    assert second.returncode == 0, second.stderr + second.stdout
    rep = json.loads(second.stdout)
    assert rep["resumed"] is True
    assert rep.get("early_data", "not offered") == ("accepted" if early_data else "not offered")
    assert rep["received"].startswith("HTTP/1.1 200 OK"), rep["received"][:200]
    assert "<html" in rep["received"].lower()


def zero_rtt_session(pki: Certs) -> tuple[Flow, list[str]]:
    """A full handshake for a ticket, then a resumed one whose HTTP request goes as 0-RTT
    data; both flows in one capture, every key log line of both."""
    lines: list[str] = []
    config = ServerConfig13(
        [KeyAndChain(pki.rsa.chain, pki.rsa.key)],
        SeededRandom(2),
        now=lambda: NOW,
        max_early_data=4096,
        anti_replay=ClientHelloRecorder(),
        keylog=lines.append,
    )
    ce, _ = move(client_for(pki), TlsServer13(config))
    ticket = next(e.ticket for e in ce if isinstance(e, NewTicket))
    request = b"GET /early.html HTTP/1.1\r\nHost: www.example.com\r\n\r\n"
    c = client_for(pki, seed=3, session=ticket, early_data=request)
    s = TlsServer13(config)
    flow = Flow()
    got = b"".join(e.data for e in flow.shuttle(c, s, 6) if isinstance(e, EarlyData))
    assert got == request and c.info is not None and c.info.early_data == "accepted"
    s.send_application_data(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nearly")
    flow.send("s", s.data_to_send())
    return flow, lines


@pytest.mark.tools("tshark")
def test_tshark_decrypts_zero_rtt_from_our_keylog_and_the_dsb(pki: Certs, tmp_path: Path) -> None:
    flow, lines = zero_rtt_session(pki)
    assert any(line.startswith("CLIENT_EARLY_TRAFFIC_SECRET ") for line in lines)
    pcap, keylog = tmp_path / "s.pcap", tmp_path / "keys.log"
    wrpcap(str(pcap), flow.pkts)
    keylog.write_text("\n".join(lines) + "\n")
    decrypted = table(pcap, "http.request.uri", "http.response.code", "tls.handshake.type",
                      options=["-o", f"tls.keylog_file:{keylog}"])  # fmt: skip
    # the 0-RTT request, decrypted
    assert any(has(r, "http.request.uri", "/early.html") for r in decrypted), decrypted
    assert any(has(r, "http.response.code", "200") for r in decrypted), decrypted
    # EndOfEarlyData, under the early keys
    assert any(has(r, "tls.handshake.type", "5") for r in decrypted), decrypted
    assert _http_rows(pcap) == []
    rows = _http_rows(pcapng_with_dsb(flow, lines, tmp_path / "s.pcapng"))
    assert any(r[0] == "/early.html" for r in rows), rows
