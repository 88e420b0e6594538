"""TLS on the simulated world: the laptop's TLS client and www.example.com's TLS server over
our own TCP/IP through the routers of the default world. Same seed ⇒ byte-identical pcapng;
under loss TCP repairs and TLS does not notice; tshark decrypts the capture with the
Decryption Secrets Block our key log fills."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from minternet.apps.tls_stream import tls_accept, tls_connect
from minternet.randomness import SeededRandom
from minternet.sim.faults import Faults
from minternet.sim.world import World
from minternet.tls import ClientConfig, ServerConfig, TlsInfo
from minternet.tls.pki import SIM_EPOCH, Pki, sim_datetime
from minternet.trace.bus import EventLog
from minternet.trace.pcapng import PcapngWriter

HOST = "www.example.com"
WWW = "93.184.216.34"
REQUEST = b"GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n\r\n"
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, world!"


def https_once(seed: int, faults: Faults | None = None) -> tuple[World, bytes, TlsInfo, list[str]]:
    world = World.default(seed=seed, faults=faults)
    cap = PcapngWriter(world.interfaces())
    world.trace.subscribe_frames(cap)
    log = EventLog()
    world.trace.subscribe(log)
    laptop, www = world.node("laptop"), world.node("www")
    pki = Pki.create(SeededRandom(99).child("pki"), SIM_EPOCH)  # keys cached across seeds
    creds = pki.issue_server([HOST])
    keylog: list[str] = []
    listener = www.tcp_listen(443)

    async def server() -> None:
        sock = await listener.accept()
        cfg = ServerConfig([creds], www.random.child("tls"))
        st = await tls_accept(sock, cfg, loop=world.loop, trace=world.trace, node="www")
        assert await st.recv() == REQUEST
        await st.send(RESPONSE)
        await st.close()

    async def client() -> tuple[bytes, TlsInfo]:
        sock = await laptop.tcp_connect((WWW, 443), timeout=30)
        cfg = ClientConfig(
            laptop.random.child("tls"), HOST, pki.trust_store(),
            now=lambda: sim_datetime(world.loop.now()), keylog=keylog.append,
        )  # fmt: skip
        st = await tls_connect(sock, cfg, loop=world.loop, trace=world.trace, node="laptop")
        await st.send(REQUEST)
        got = await st.recv()
        assert await st.recv() == b""  # the server's close_notify
        await st.close()
        return got, st.info

    srv = world.loop.create_task(server())
    got, info = world.loop.run_until_complete(world.loop.create_task(client()), timeout=120)
    world.loop.run_until_complete(srv, timeout=120)
    world.run(until=world.loop.now() + 5)
    assert got == RESPONSE
    cap.add_decryption_secrets("\n".join(keylog) + "\n")
    kinds = [e.kind for e in log.of("tls")]
    return world, cap.getvalue(), info, kinds


def test_https_through_the_default_world() -> None:
    _world, pcap, info, kinds = https_once(1)
    assert info.verification is not None and info.verification.ok
    assert info.suite.name == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"  # pki's default: RSA
    assert kinds.count("established") == 2
    assert len(pcap) > 5000


def test_same_seed_same_pcapng_different_seed_different() -> None:
    a = https_once(3)[1]
    assert a == https_once(3)[1]
    assert a != https_once(4)[1]


def test_tls_survives_loss_on_the_access_line() -> None:
    world, _pcap, info, kinds = https_once(5, Faults(loss=0.2))
    assert world.trace.counters.get("drop.loss", 0) > 0  # frames really were lost
    assert kinds.count("established") == 2
    assert info.master_secret


@pytest.mark.tools("tshark")
def test_tshark_decrypts_the_simulated_capture(tmp_path: Path) -> None:
    pcap = https_once(2)[1]
    path = tmp_path / "https.pcapng"
    path.write_bytes(pcap)
    out = subprocess.run(
        ["tshark", "-r", str(path), "-Y", "http", "-T", "fields",
         "-e", "http.request.uri", "-e", "http.response.code"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    rows: list[Any] = [r.split("\t") for r in out.stdout.splitlines() if r]
    assert any(r[0] == "/index.html" for r in rows), out
    assert any(len(r) > 1 and r[1] == "200" for r in rows), out
