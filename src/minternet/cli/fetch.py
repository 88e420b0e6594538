"""``minternet fetch``: load a page with our browser.

Without ``--real`` the fetch runs in the simulated world and tells the seed's story, phase
by phase, with the real values of the run (:mod:`minternet.cli.fetch_story`). ``--real``
runs it on this machine's network: our resolver (the hosts file, then the system's
configured DNS server), our TLS and our HTTP over the kernel's TCP.
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import click

from ..apps.browser import Browser, FetchError, Page, Secure, parse_url
from ..apps.fetch_run import BROWSER_PATIENCE
from ..apps.streams import ByteStream, as_future
from ..drivers import kernel
from ..drivers.pem import load_trust_store
from ..errors import ConfigError
from ..loop import Future, LoopTimeout
from ..node.api import StreamSocket
from ..tls.negotiate import parse_versions
from ..trace.bus import TraceBus
from .exits import OutcomeFailed, is_network_error
from .fetch_story import print_head, simulated_fetch, story_options
from .options import cafile_option, keylog_option, output_option, tls_option

REAL_TIMEOUT = 15.0  # seconds the whole --real fetch may take by default (curl's --max-time)

DEFAULT_URL = "https://www.example.com/index.html"
SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
HOSTS = Path("/etc/hosts")
RESOLV_CONF = Path("/etc/resolv.conf")


def parse_resolve(entries: tuple[str, ...]) -> dict[tuple[str, int | None], str]:
    """curl's ``--resolve HOST:PORT:ADDR`` entries (PORT ``*``: any port)."""
    out: dict[tuple[str, int | None], str] = {}
    for entry in entries:
        host, _, rest = entry.partition(":")
        port, _, addr = rest.partition(":")
        try:
            ipaddress.IPv4Address(addr)
            out[(host.lower(), None if port == "*" else int(port))] = addr
        except ValueError:
            raise ConfigError(f"--resolve {entry!r}: expected HOST:PORT:IPv4") from None
    return out


@click.command()
@click.argument("url", required=False, default=DEFAULT_URL)
@click.option("--real", is_flag=True, help="Use this machine's network (kernel TCP/IP).")
@story_options
@cafile_option
@click.option(
    "--resolve",
    "resolves",
    multiple=True,
    metavar="HOST:PORT:ADDR",
    help="Use ADDR for HOST:PORT instead of looking it up (like curl).",
)
@output_option
@click.option("--raw", is_flag=True, help="Print the body as received, not rendered.")
@click.option("-i", "--include", is_flag=True, help="Print the response head first.")
@click.option(
    "--timeout",
    type=click.FloatRange(0.1),
    default=None,
    help=f"Seconds the whole fetch may take with --real (like curl's --max-time; default "
    f"{REAL_TIMEOUT:g}); in the simulated world, each step's limit in virtual seconds "
    f"(default {BROWSER_PATIENCE:g}, as in `sweep` and `demo`).",
)
@keylog_option
@tls_option(
    default=None,
    help="TLS version(s) to offer (default: both with --real, 1.3 preferred; the simulated "
    "run tells the seed's TLS 1.2 unless 1.3 is asked for).",
)
@click.option(
    "--compare-tls",
    is_flag=True,
    help="Simulated: fetch over TLS 1.2 and over TLS 1.3 on the same seed, side by side "
    "(round trips, bytes in the clear, time to first byte); --pcap, --keylog and --html "
    "write one file per run (run.html: run-tls1.2.html and run-tls1.3.html).",
)
def fetch(
    url: str,
    real: bool,
    cafile: tuple[Path, ...],
    resolves: tuple[str, ...],
    output: Path | None,
    raw: bool,
    include: bool,
    timeout: float | None,
    keylog: Path | None,
    tls_version: str | None,
    compare_tls: bool,
    **story: Any,
) -> None:
    """Fetch URL with our browser: in the simulated world, told as the seed's four phases
    (DNS; TCP and TLS handshakes; encrypted HTTP; the four-way close), or with --real on
    this machine's network.

    \b
    Exit status: 0 the page arrived; 1 the fetch failed: refused, timeout, NXDOMAIN, TLS
    alert, unreachable (the story, or the JSON's "failure", says where and why; with
    --real, one line on stderr); 2 bad options or input.
    """
    if not real:
        simulated_fetch(
            url, keylog=keylog, output=output, raw=raw, include=include, tls=tls_version,
            timeout=BROWSER_PATIENCE if timeout is None else timeout,
            compare_tls=compare_tls, **story,
        )  # fmt: skip
        return
    if compare_tls:
        raise ConfigError("--compare-tls compares two simulated runs, not --real")
    if timeout is None:
        timeout = REAL_TIMEOUT
    if story.get("scenario") or story.get("pcap") or story.get("as_json") or story.get("html"):
        raise ConfigError(
            "--scenario, --pcap, --html and --json describe a simulated run, not --real"
        )
    if story.get("cc"):
        raise ConfigError("--cc chooses the simulated hosts' TCP; --real uses the kernel's")
    target = parse_url(url)
    pinned = parse_resolve(resolves)
    trace = TraceBus()
    sink = BodyFile(output) if output is not None else None
    https = target.scheme == "https"
    keys = keylog.open("a", encoding="ascii") if keylog is not None and https else None

    async def main(stack: kernel.KernelStack) -> Page:
        lookup = real_resolver(stack)

        def resolve(host: str) -> Future[str]:
            fut: Future[str] = stack.loop.create_future()
            addr = pinned.get((host, target.port)) or pinned.get((host, None))
            if addr is not None:
                fut.set_result(addr)
                return fut
            return as_future(stack.loop, lookup(host), "resolve")

        secure = (
            tls_connector(stack, cafile, timeout, keys, parse_versions(tls_version))
            if https
            else None
        )
        browser = Browser(stack, resolve, secure, timeout=timeout)
        deadline = stack.loop.now() + timeout
        return await browser.fetch(target, sink=sink, deadline=deadline)

    try:
        page = kernel.run(main, name="minternet-fetch", trace=trace, timeout=timeout + 5)
    except LoopTimeout:
        raise OutcomeFailed(f"{url}: timed out") from None
    except OSError as e:
        if not is_network_error(e):
            raise
        raise OutcomeFailed(f"{url}: {(e.strerror or str(e)).lower()}") from None
    finally:
        if sink is not None:
            sink.close()
        if keys is not None:
            keys.close()
    show(page, None if sink is not None else output, raw, include)
    if sink is not None:
        sink.finish()
        click.echo(f"{page.size} bytes written to {sink.path}", err=True)


class BodyFile:
    """``-o FILE``: the body written as it arrives (created at the first byte, as curl
    does; an empty body still makes an empty file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO | None = None

    def __call__(self, data: bytes) -> None:
        if self._file is None:
            self._file = self._open()
        self._file.write(data)

    def _open(self) -> BinaryIO:
        try:
            return self.path.open("wb")
        except OSError as e:
            raise ConfigError(f"-o {self.path}: {e.strerror}") from None

    def finish(self) -> None:
        """The fetch succeeded: the file exists, even for an empty body."""
        if self._file is None:
            self._file = self._open()
        self.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def show(page: Page, output: Path | None, raw: bool, include: bool) -> None:
    r = page.response
    via = "".join(f"{u} → " for u in page.redirects)
    click.echo(
        f"{via}{page.url}: {r.status} {r.reason} from {page.address[0]}:{page.address[1]}, "
        f"{page.size} bytes of {page.content_type or 'unknown type'}",
        err=True,
    )
    if include:
        print_head(page)
    if page.streamed is not None:
        return  # the body went to -o as it arrived
    if output is not None:
        output.write_bytes(page.body)
        click.echo(f"{len(page.body)} bytes written to {output}", err=True)
        return
    if raw:
        sys.stdout.buffer.write(page.body)
        sys.stdout.flush()
        return
    click.echo(page.render(), nl=False)


def real_resolver(stack: kernel.KernelStack) -> Callable[[str], Awaitable[str]]:
    """Our stub resolver on this machine: /etc/hosts, then /etc/resolv.conf's servers."""
    from ..apps.dns_stub import StubResolver
    from ..dns.hosts import HostsFile
    from ..dns.stub import ResolvConf

    try:
        hosts = HostsFile.parse(HOSTS.read_text(), str(HOSTS))
    except OSError:
        hosts = HostsFile()
    try:
        conf = ResolvConf.parse(RESOLV_CONF.read_text(), str(RESOLV_CONF))
    except (OSError, ConfigError):
        conf = ResolvConf(("127.0.0.53",))  # no usable resolv.conf: systemd-resolved's
    stub = StubResolver(stack, conf, hosts)

    async def resolve(host: str) -> str:
        answer = await stub.lookup(host)
        if not answer.ok:
            raise FetchError(f"cannot resolve {host}: {answer.explanation}")
        return answer.addresses[0]

    return resolve


def tls_connector(
    stack: kernel.KernelStack,
    cafile: tuple[Path, ...],
    timeout: float,
    keylog: TextIO | None = None,
    versions: tuple[str, ...] = ("1.3", "1.2"),
) -> Secure:
    """Our TLS client side: SNI and certificate check for the host, ALPN http/1.1, trusting
    ``cafile`` (else the system's CA bundle); one ClientHello offering ``versions``; the
    secrets appended to ``keylog`` (the caller opens and closes it)."""
    from ..apps.tls_stream import tls_connect
    from ..tls.client import ClientConfig
    from ..tls.keylog import KeyLogFile

    trust = load_trust_store(*(cafile or (SYSTEM_BUNDLE,)))
    log = KeyLogFile(keylog) if keylog is not None else None

    async def secure(sock: StreamSocket, host: str) -> ByteStream:
        config = ClientConfig(
            random=stack.random,
            server_name=host,
            trust=trust,
            now=lambda: datetime.now(UTC),
            alpn=("http/1.1",),
            keylog=log,
        )
        return await tls_connect(
            sock, config, loop=stack.loop, trace=stack.trace, node=stack.name, timeout=timeout,
            versions=versions,
        )  # fmt: skip

    return secure
