"""The HTML report of a TLS 1.3 run opens its records where tshark opens them.

``fetch --tls 1.3 --html`` with ``--pcap`` (no secrets inside) and ``--keylog``: tshark
reads the pcapng with that key log file once; the page's model (the JSON it embeds) is read
frame by frame. In every frame tshark dissects, the page names the same handshake message
types in the same order — the ClientHello and ServerHello in the clear, then
EncryptedExtensions, Certificate, CertificateVerify, both Finished and the
NewSessionTicket decrypted — the same GET and URI, the same response status and the same
alerts (close_notify). tshark does not dissect again a segment it calls a retransmission
or out of order: the same segment captured at a later point of its path (past the NAT a
connection has the same addresses and ports at every capture point); those are left out.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from panel_dom import minternet

from minternet.apps.fetch_run import FetchOptions, run_fetch
from minternet.report.html import build_model
from minternet.report.html.runs import fetch_report
from minternet.report.story import build_story
from tshark_table import table

pytestmark = pytest.mark.tools("tshark")

FIELDS = (
    "frame.number",
    "tcp.analysis.flags",
    "tls.handshake.type",
    "http.request.method",
    "http.request.uri",
    "http.response.code",
    "tls.alert_message.desc",
)
ALERTS = {"close_notify": "0"}  # RFC 8446 §6


def page_model(html: Path) -> dict[str, Any]:
    """The model the page embeds (``<script type="application/json" id="model">``)."""
    found = re.search(r'<script type="application/json" id="model">(.*?)</script>',
                      html.read_text(encoding="utf-8"), re.S)  # fmt: skip
    assert found is not None
    model: dict[str, Any] = json.loads(found.group(1))
    return model


def page_rows(model: dict[str, Any]) -> dict[int, dict[str, str]]:
    """Per captured frame (tshark's number), what the page's layers say, in tshark's terms
    (occurrences comma-separated, in order)."""
    strings: list[str] = model["strings"]
    f = model["f"]
    out: dict[int, dict[str, str]] = {}
    for k, number in enumerate(f["no"]):
        if not number:
            continue
        types, methods, uris, codes, alerts = [], [], [], [], []
        for layer in model["trees"][f["tree"][k]]:
            for name_i, _off, _len, kind, text_i in layer[3]:
                if kind != "t":
                    continue
                name, text = strings[name_i], strings[text_i]
                if name in ("Handshake type", "Decrypted: Handshake type"):
                    found = re.search(r"\((\d+)\)$", text)
                    assert found is not None, text
                    types.append(found.group(1))
                elif name == "Decrypted HTTP" and re.match(r"HTTP/1\.1 \d{3} ", text):
                    codes.append(text.split()[1])
                elif name == "Decrypted HTTP" and re.match(r"[A-Z]+ \S+ HTTP/1\.1$", text):
                    method, uri, _ = text.split()
                    methods.append(method)
                    uris.append(uri)
                elif name == "Decrypted: Alert":
                    alerts.append(ALERTS.get(text, text))
        out[number] = {
            "tls.handshake.type": ",".join(types),
            "http.request.method": ",".join(methods),
            "http.request.uri": ",".join(uris),
            "http.response.code": ",".join(codes),
            "tls.alert_message.desc": ",".join(alerts),
        }
    return out


def test_tls13_page_decrypts_what_tshark_decrypts(tmp_path: Path) -> None:
    html, pcap, keys = tmp_path / "run.html", tmp_path / "run.pcapng", tmp_path / "keys.txt"
    proc = minternet("fetch", "-q", "--tls", "1.3", "--html", str(html), "--pcap", str(pcap),
                     "--no-pcap-secrets", "--keylog", str(keys))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "CLIENT_HANDSHAKE_TRAFFIC_SECRET" in keys.read_text()
    rows = table(pcap, *FIELDS, options=("-o", f"tls.keylog_file:{keys}"))
    page = page_rows(page_model(html))
    assert sorted(page) == [int(r["frame.number"]) for r in rows]  # one model row per frame
    compared = 0
    for row in rows:
        if row["tcp.analysis.flags"]:
            continue
        number = int(row["frame.number"])
        want = {name: row[name] for name in FIELDS[2:]}
        assert page[number] == want, f"frame {number}"
        compared += any(want.values())
    # not vacuous: tshark opened the whole handshake, the request, the answer and the close
    seen = {name: ",".join(r[name] for r in rows if r[name]) for name in FIELDS[2:]}
    assert set(seen["tls.handshake.type"].split(",")) == {"1", "2", "8", "11", "15", "20", "4"}
    assert seen["http.request.method"].startswith("GET")
    assert seen["http.request.uri"].startswith("/index.html")
    assert seen["http.response.code"].startswith("200")
    assert "0" in seen["tls.alert_message.desc"]
    assert compared >= 8


def test_tls13_page_without_a_secret_says_so() -> None:
    """A key log that lost a line: each record that line would open says which line is
    missing, and the rest is still opened."""
    run = run_fetch(FetchOptions(tls=("1.3",)))
    rep = fetch_report(build_story(run))
    kept = tuple(line for line in rep.keylog if not line.startswith("SERVER_TRAFFIC_SECRET_0"))
    assert len(kept) == len(rep.keylog) - 1
    strings = build_model(replace(rep, keylog=kept))["strings"]
    assert (
        "not opened (the key log has no SERVER_TRAFFIC_SECRET_0 line for this connection)"
        in strings
    )
    assert "HTTP/1.1 200 OK" not in strings  # the answer stays sealed
    assert "GET /index.html HTTP/1.1" in strings  # the client's secrets are all there
    assert "Change Cipher Spec, Finished (decrypted)" in strings  # the client's Finished
