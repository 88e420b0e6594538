"""The seed's whole page load in the simulated world, reusable by the CLI, tests and bench.

:func:`run_fetch` builds a fresh world (the built-in one or a TOML file) from one seed and
the fault options, installs its DNS (root, ``.com``, ``example.com``, the ISP's recursive
resolver, the laptop's stub with its hosts file and caches), mints the PKI from the seed (a
root CA in the laptop's trust store, an intermediate, the certificate of
``www.example.com``), starts our web server on ``www:443`` with TLS, and lets the laptop's
browser fetch the URL: phase 1 DNS, phase 2 TCP and TLS handshakes, phase 3 the GET and the
page, phase 4 the browser's close. The run then goes on in virtual time until the laptop's
TIME-WAIT expires (2×MSL), so the whole four-way close is in the record.

Everything that happened is kept — the trace events (an :class:`EventLog`), every frame
(for pcapng and the timeline) and the TLS key log — in a :class:`FetchRun`; the timeline
(:mod:`minternet.trace.timeline`) and the JSON summary are built from it.

A :class:`Scenario` changes one thing to tell a failure story: an expired certificate, a
certificate for another name, a CA nobody trusts, a name that does not exist, a closed port,
a blackholed route, heavy loss. The failure is classified from what the run recorded
(:class:`Failure`: what happened, where, why) by :mod:`minternet.report.failure` from the
run's facts, never from guessing; the run itself keeps only the raw outcome (``error``).

The PKI's RSA keys are a pure function of the seed, but minting a 2048-bit key from a
seeded stream takes about half a second, so they are memoised per process (keyed by the
seed): a second run with the same seed gives the same bytes, only faster.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, cast

from ..errors import ConfigError, MinternetError
from ..ip.address import ip_to_bytes
from ..ip.ipv4 import PROTO_TCP
from ..loop import Future, LoopTimeout
from ..node.api import StreamSocket
from ..node.router import Router
from ..node.tcp import TcpStack
from ..sim.default_world import DEFAULT_WORLD
from ..sim.faults import Faults
from ..sim.world import World, load_world
from ..tcp.congestion import CongestionName
from ..tcp.segment import SYN, MaximumSegmentSize, Segment
from ..tls.pki import Credentials, Pki, sim_datetime
from ..tls.suites import SUITES, CipherSuite, suites_by_names
from ..trace.bus import EventLog, FrameRecord
from .browser import FetchError, Page, Url, parse_url
from .dns_world import install_dns
from .site import DirectorySite, Site, packaged_site
from .streams import ByteStream
from .tls_stream import TlsHandshakeError
from .web_world import install_web, laptop_browser

DEFAULT_URL = "https://www.example.com/index.html"
SERVER_NODE = "www"
CLIENT_NODE = "laptop"
SERVER_NAMES = ["www.example.com", "example.com"]
MSL = 30.0  # seconds; TIME-WAIT lasts 2×MSL (RFC 9293 §3.4.2 suggests 2 minutes; we use 1)
KeyExchangeChoice = Literal["ecdhe", "rsa"]
BROWSER_SIGNATURE_SCHEMES = (0x0401, 0x0403, 0x0804, 0x0501, 0x0503, 0x0805, 0x0806, 0x0601)
"""The simulated browser's signature_algorithms, in the order of a TLS 1.2 client of the
RFC 5246 era: rsa_pkcs1_sha256 first (RFC 5246 §7.4.1.4.1), then ECDSA and RSA-PSS. It also
keeps the simulator quick: PKCS#1 v1.5 is deterministic and runs in OpenSSL, while a PSS
signature with a seeded salt needs pure-Python RSA (~9 ms a handshake)."""


# -- scenarios -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Scenario:
    """A failure story: what is changed, and what the user should expect to see."""

    name: str
    title: str
    change: str  # one sentence: what this scenario does to the default world
    url: str | None = None  # another URL (NXDOMAIN)
    server_cert: Literal["good", "expired", "wrong-host", "unknown-ca"] = "good"
    listen: bool = True  # the web server listens on 443
    blackhole: str | None = None  # "router:prefix/len" silently discarded
    handshake_timeout: float | None = None  # the web server's TLS handshake deadline
    faults: Faults | None = None
    may_succeed: bool = False  # heavy loss: the page can still arrive, slowly
    inbound: str | None = None  # "node:port": it sends a SYN to the home's public address
    squatter: str | None = None  # an address a device on the home LAN already uses


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "expired-cert",
            "Expired certificate",
            "www.example.com presents a certificate whose validity ended before today.",
            server_cert="expired",
        ),
        Scenario(
            "wrong-host",
            "Certificate for another name",
            "www.example.com presents a valid certificate issued for shop.example.net.",
            server_cert="wrong-host",
        ),
        Scenario(
            "untrusted-ca",
            "Certificate from a CA nobody trusts",
            "www.example.com's certificate chains to 'Unknown Root CA', which is not in the "
            "laptop's trust store.",
            server_cert="unknown-ca",
        ),
        Scenario(
            "nxdomain",
            "The name does not exist (NXDOMAIN)",
            "The user types wwww.example.com (one w too many).",
            url="https://wwww.example.com/index.html",
        ),
        Scenario(
            "port-closed",
            "Nobody listens on port 443 (RST)",
            "The web server on www.example.com is stopped: nothing listens on port 443.",
            listen=False,
        ),
        Scenario(
            "blackhole",
            "Blackholed route",
            "The transit router silently discards everything for 93.184.216.0/24 (a null "
            "route left behind after maintenance); DNS still works.",
            blackhole="transit:93.184.216.0/24",
        ),
        Scenario(
            "inbound-blocked",
            "A connection from the internet to the home (NAT)",
            "While the laptop fetches, the ISP's resolver host (198.51.100.53) tries to open "
            "an SSH connection (TCP port 22) to the home's public address.",
            inbound="resolver:22",
        ),
        Scenario(
            "dhcp-conflict",
            "The offered address is already taken (DHCP, RFC 5227)",
            "A printer on the home LAN was set by hand to 192.168.1.10, the first address of "
            "the home router's DHCP pool.",
            squatter="192.168.1.10",
        ),
        Scenario(
            "server-timeout",
            "The server's TLS handshake deadline fires",
            "The web server gives a TLS handshake only 30 ms from accept (its "
            "ssl_handshake_timeout, set below the 48 ms round trip to the laptop).",
            handshake_timeout=0.03,
        ),
        Scenario(
            "heavy-loss",
            "Heavy loss on the home line",
            "The laptop's access line loses 30 % of the frames in each direction.",
            faults=Faults(loss=0.3),
            may_succeed=True,
        ),
    )
}


def scenario_by_name(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        known = ", ".join(SCENARIOS)
        raise ConfigError(f"no scenario {name!r}; the scenarios are: {known}") from None


# -- options and results ---------------------------------------------------------------------
BROWSER_PATIENCE = 30.0  # virtual seconds the browser waits for each step (fetch, sweep, demo)


@dataclass(frozen=True, slots=True)
class FetchOptions:
    """Everything that decides a run; the same options give the same run, byte for byte."""

    url: str = DEFAULT_URL
    seed: int = 1
    faults: Faults = field(default_factory=Faults)
    kex: KeyExchangeChoice | None = None  # None: offer every suite (the server picks ECDHE)
    cipher: str | None = None  # offer only these suites (IANA or OpenSSL names, ':'-joined)
    site_dir: Path | None = None
    world_file: Path | None = None
    scenario: str | None = None
    pki_seed: int | None = None  # default: the seed
    timeout: float = BROWSER_PATIENCE  # the browser's limit per step, virtual seconds
    record_frames: bool = True
    record_events: bool = True  # the EventLog (the story needs it; the bench does not)
    browsers: int = 1  # concurrent identical fetches from the laptop (bench); run.page is #1
    stagger: float = 0.0  # browser i starts i × stagger seconds after the first
    wait_time_wait: bool = True  # run on until the laptop's TIME-WAIT has expired
    tls: tuple[str, ...] = ("1.2",)  # TLS versions both ends speak: the seed's story is 1.2
    cc: CongestionName | None = None  # every host's congestion control (None: the world's)


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a fetch did not bring the page back: which phase, where, and a paragraph."""

    kind: str  # "dns", "tcp-refused", "tcp-timeout", "tls", "http", "timeout"
    phase: int
    where: str
    summary: str
    explanation: str


@dataclass
class FetchRun:
    """What one run produced."""

    options: FetchOptions
    url: Url
    world: World
    log: EventLog
    frames: list[FrameRecord]
    keylog: list[str]
    site: Site
    page: Page | None = None
    failure: Failure | None = None  # set by the run (HTTP status, body) or report.failure
    error: BaseException | None = None  # what the browser raised, as it raised it
    timed_out: bool = False  # the error was a deadline (LoopTimeout)
    scenario: Scenario | None = None
    end_time: float = 0.0
    suites_offered: tuple[CipherSuite, ...] = ()
    wire: Wire = field(default_factory=lambda: Wire())

    @property
    def ok(self) -> bool:
        return self.page is not None and self.failure is None and self.error is None

    @property
    def congestion_control(self) -> str | None:
        """The laptop's congestion controller (``fetch --cc``, the world file, or NewReno)."""
        stack = self.world.node(CLIENT_NODE).tcp
        return stack.config.congestion_control if isinstance(stack, TcpStack) else None

    @property
    def keylog_text(self) -> str:
        return "".join(line + "\n" for line in self.keylog)

    def expected_body(self) -> bytes | None:
        """The file the server was asked for, read from the site itself (to compare)."""
        parts = tuple(p for p in self.url.target.split("?")[0].split("/") if p)
        try:
            return self.site.read(parts or ("index.html",))
        except (OSError, MinternetError, KeyError):
            return None

    @property
    def body_sha256(self) -> str | None:
        return None if self.page is None else hashlib.sha256(self.page.body).hexdigest()


class Wire:
    """What the two applications handed to and got from their streams: the browser's and
    the server's plaintext (HTTP) and the server's ciphertext (TLS records), with times."""

    def __init__(self) -> None:
        self.client_sent = bytearray()  # HTTP request bytes, as the browser wrote them
        self.client_received = bytearray()  # HTTP response bytes, as TLS delivered them
        self.server_received = bytearray()  # what the server's TLS decrypted
        self.server_sent = bytearray()  # the HTTP response bytes the server wrote
        self.server_cipher: list[tuple[float, bytes]] = []  # the server's TCP writes
        self.client_cipher: list[tuple[float, bytes]] = []  # the browser's TCP writes


class RecordingStream:
    """A :class:`ByteStream` that keeps a copy of what passes through it."""

    def __init__(
        self,
        inner: Any,
        sent: bytearray | list[tuple[float, bytes]],
        received: bytearray | None,
        now: Callable[[], float],
    ) -> None:
        self._inner = inner
        self._sent = sent
        self._received = received
        self._now = now

    def send(self, data: bytes) -> Future[None]:
        if isinstance(self._sent, bytearray):
            self._sent += data
        elif data:
            self._sent.append((self._now(), bytes(data)))
        result: Future[None] = self._inner.send(data)
        return result

    def recv(self, max_bytes: int = 65536, timeout: float | None = None) -> Future[bytes]:
        fut: Future[bytes] = self._inner.recv(max_bytes, timeout)
        received = self._received
        if received is not None:

            def keep(f: Future[bytes]) -> None:
                if not f.cancelled() and f.exception() is None:
                    received.extend(f.result())

            fut.add_done_callback(keep)
        return fut

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


# -- the PKI, memoised per seed ----------------------------------------------------------------
_PKI_CACHE: dict[tuple[int, str], tuple[Pki, Credentials]] = {}


def _server_credentials(pki_seed: int, kind: str) -> tuple[Pki, Credentials]:
    """(the trusted PKI, the server's credentials) for a certificate ``kind``."""
    key = (pki_seed, kind)
    if key in _PKI_CACHE:
        return _PKI_CACHE[key]
    if (pki_seed, "good") not in _PKI_CACHE:
        from ..randomness import SeededRandom

        # the PKI install_web would mint in a world of this seed (the www node's stream)
        pki = Pki.create(SeededRandom(pki_seed).child(SERVER_NODE).child("pki"), sim_datetime(0))
        _PKI_CACHE[(pki_seed, "good")] = (pki, pki.issue_server(SERVER_NAMES))
    pki, _ = _PKI_CACHE[(pki_seed, "good")]
    if kind == "expired":
        creds = pki.issue_expired(SERVER_NAMES)
    elif kind == "wrong-host":
        creds = pki.issue_server(["shop.example.net"])
    elif kind == "unknown-ca":
        creds = pki.unknown_ca().issue_server(SERVER_NAMES)
    elif kind == "good":
        return _PKI_CACHE[key]
    else:
        raise ConfigError(f"unknown certificate kind {kind!r}")
    _PKI_CACHE[key] = (pki, creds)
    return pki, creds


def offered_suites(kex: KeyExchangeChoice | None, cipher: str | None) -> tuple[CipherSuite, ...]:
    """The client's suite list for ``--kex`` / ``--cipher`` (RSA-authenticated server);
    ``cipher`` may list several suites, colon-separated, in the order offered."""
    suites = SUITES
    if cipher is not None:
        chosen = suites_by_names(cipher)
        for suite in chosen:
            if suite.auth != "RSA":
                raise ConfigError(
                    f"{suite.name} needs an ECDSA certificate; www.example.com has an RSA one"
                )
            if kex is not None and suite.kx.lower() != kex:
                raise ConfigError(f"--cipher {suite.name} does not use --kex {kex}")
        return chosen
    if kex is not None:
        suites = tuple(s for s in SUITES if s.kx.lower() == kex)
    return suites


def load_site(site_dir: Path | None) -> Site:
    if site_dir is None:
        return packaged_site()
    if not site_dir.is_dir():
        raise ConfigError(f"--site {site_dir}: not a directory")
    return DirectorySite(site_dir)


# -- the run ---------------------------------------------------------------------------------
def build_world(opts: FetchOptions, scenario: Scenario | None) -> World:
    faults = opts.faults
    if scenario is not None and scenario.faults is not None and not faults.any:
        faults = scenario.faults
    if scenario is not None and scenario.squatter is not None:
        if opts.world_file is not None:
            raise ConfigError(f"--scenario {scenario.name} needs the built-in world")
        desc = copy.deepcopy(DEFAULT_WORLD)
        desc["nodes"]["printer"] = {"kind": "host", "hostname": "printer.home.arpa"}
        desc["links"].append(
            {"a": "printer", "a_ip": f"{scenario.squatter}/24", "b": "home-switch",
             "latency_ms": 0.05, "bandwidth_mbps": 1000}
        )  # fmt: skip
        world = World.from_dict(desc, seed=opts.seed, faults=faults, join=False)
    else:
        # The laptop joins the network by DHCP once the run is traced (run_fetch).
        world = load_world(opts.world_file, seed=opts.seed, faults=faults, join=False)
    if opts.cc is not None:
        world.set_congestion_control(opts.cc)
    return world


def run_fetch(opts: FetchOptions) -> FetchRun:
    """One whole page load, from a fresh world; see the module docstring."""
    scenario = scenario_by_name(opts.scenario) if opts.scenario else None
    url_text = scenario.url if scenario is not None and scenario.url else opts.url
    url = parse_url(url_text)
    suites = offered_suites(opts.kex, opts.cipher)
    site = load_site(opts.site_dir)
    world = build_world(opts, scenario)
    log = EventLog()
    if opts.record_events:
        world.trace.subscribe(log)
    frames: list[FrameRecord] = []
    if opts.record_frames:
        world.trace.subscribe_frames(frames.append)
    world.join()  # before phase 1: the laptop leases its address, gateway and DNS server
    try:
        world.node(CLIENT_NODE), world.node(SERVER_NODE)
    except ConfigError as e:
        raise ConfigError(f"a fetch needs nodes {CLIENT_NODE!r} and {SERVER_NODE!r}: {e}") from None
    loop = world.loop
    dns = install_dns(world)
    stub = dns.stub
    assert stub is not None
    pki, creds = _server_credentials(
        opts.pki_seed if opts.pki_seed is not None else opts.seed,
        scenario.server_cert if scenario is not None else "good",
    )
    if scenario is not None and scenario.blackhole is not None:
        router, _, prefix = scenario.blackhole.partition(":")
        install_blackhole(world, router, prefix)
    if scenario is not None and scenario.inbound is not None:
        node, _, port = scenario.inbound.partition(":")
        send_inbound_syn(world, node, int(port))
    keylog: list[str] = []
    run = FetchRun(opts, url, world, log, frames, keylog, site, scenario=scenario)
    run.suites_offered = suites

    wire = run.wire

    def server_socket(sock: StreamSocket) -> StreamSocket:
        tapped: Any = RecordingStream(sock, wire.server_cipher, None, loop.now)
        return cast(StreamSocket, tapped)

    def server_stream(stream: ByteStream) -> ByteStream:
        return RecordingStream(stream, wire.server_sent, wire.server_received, loop.now)

    def client_socket(sock: StreamSocket) -> StreamSocket:
        tapped: Any = RecordingStream(sock, wire.client_cipher, None, loop.now)
        return cast(StreamSocket, tapped)

    def client_stream(stream: ByteStream) -> ByteStream:
        return RecordingStream(stream, wire.client_sent, wire.client_received, loop.now)

    if scenario is None or scenario.listen:
        install_web(
            world,
            node=SERVER_NODE,
            site=site,
            pki=pki,
            credentials=creds,
            plain_port=80,
            tap_socket=server_socket,
            tap_stream=server_stream,
            tls_versions=opts.tls,
            handshake_timeout=scenario.handshake_timeout if scenario is not None else None,
        )
    browser = laptop_browser(
        world,
        stub,
        pki,
        node=CLIENT_NODE,
        timeout=opts.timeout,
        suites=suites,
        signature_schemes=BROWSER_SIGNATURE_SCHEMES,
        keylog=keylog.append,
        tap_socket=client_socket,
        tap_stream=client_stream,
        tls_versions=opts.tls,
    )
    task = loop.create_task(browser.fetch(url), "browser@laptop")

    async def later(i: int) -> Page:
        await loop.sleep(i * opts.stagger)
        return await browser.fetch(url)

    others = [loop.create_task(later(i), f"browser{i}@laptop") for i in range(1, opts.browsers)]
    try:
        run.page = loop.run_until_complete(task, opts.timeout * 20)
        for t in others:
            page = loop.run_until_complete(t, opts.timeout * 20)
            if page.body != run.page.body:
                raise FetchError("concurrent fetches brought back different bodies")
    except (FetchError, TlsHandshakeError, MinternetError, OSError, LoopTimeout) as e:
        run.error = e
        run.timed_out = isinstance(e, LoopTimeout)
    if run.page is not None:
        expected = run.expected_body()
        if run.page.status != 200:
            run.failure = Failure(
                "http",
                3,
                f"{SERVER_NODE} (HTTP)",
                f"the server answered {run.page.status} {run.page.response.reason}",
                f"The connection worked, but the server answered {run.page.status} "
                f"{run.page.response.reason} for {url.target}.",
            )
        elif expected is not None and expected != run.page.body:
            run.failure = Failure(
                "http",
                3,
                CLIENT_NODE,
                "the body differs from the file served",
                "The page arrived but its bytes differ from the site's file: this is a bug.",
            )
    finish(run)
    return run


def finish(run: FetchRun) -> None:
    """Run on in virtual time: what is in flight lands and TIME-WAIT runs out."""
    loop = run.world.loop
    if run.options.wait_time_wait:
        run.world.run(until=loop.now() + 2 * MSL * 2 + 1)
    else:
        run.world.run(until=loop.now() + 1.0)
    run.end_time = loop.now()
    last = [e.time for e in run.log.events]
    if last:
        run.end_time = last[-1]


def send_inbound_syn(world: World, node_name: str, port: int) -> None:
    """``node_name`` sends one TCP SYN (RFC 9293 §3.5) to the public address of the first
    NAT of the world, at the start of the run: unsolicited, so the NAT drops it without an
    answer (RFC 5382 REQ-4). One SYN, no connection: nothing retransmits it."""
    publics = [nat.public for r in world.routers for _, nat in sorted(r.nats.items())]
    if not publics:
        raise ConfigError("scenario inbound-blocked needs a world with a NAT")
    node = world.node(node_name)
    rnd = node.random.child("inbound-syn")
    src, dst = node.source_address_for(publics[0]), publics[0]
    syn = Segment(rnd.randint(32768, 60999), port, rnd.randint(0, 2**32 - 1), 0, SYN, 64240,
                  options=(MaximumSegmentSize(1460),))  # fmt: skip
    data = syn.encode(ip_to_bytes(src), ip_to_bytes(dst))
    world.loop.call_soon(node.ip_send, dst, PROTO_TCP, data)


def install_blackhole(world: World, router_name: str, prefix: str) -> None:
    """Give ``router_name`` a blackhole route to ``prefix``: what it would forward there is
    silently discarded (``ip route add blackhole PREFIX``; RFC 1812 §5.2.7.1)."""
    router = world.node(router_name)
    if not isinstance(router, Router):
        raise ConfigError(f"{router_name} is not a router")
    world.add_static_route(router, {"to": prefix, "kind": "blackhole"})


def with_overrides(opts: FetchOptions, **changes: Any) -> FetchOptions:
    return replace(opts, **changes)


Runner = Callable[[FetchOptions], FetchRun]

__all__ = [
    "DEFAULT_URL",
    "SCENARIOS",
    "Failure",
    "FetchOptions",
    "FetchRun",
    "Scenario",
    "offered_suites",
    "run_fetch",
    "scenario_by_name",
]
