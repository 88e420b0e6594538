"""``minternet fetch``: load a page with our browser.

``--real`` runs it on this machine's network: our resolver (the hosts file, then the
system's configured DNS server), our TLS and our HTTP over the kernel's TCP. Without
``--real`` the fetch runs in the simulated world (the default world of the design).
"""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path

import click

from ..apps.browser import Browser, FetchError, Page, Secure, parse_url
from ..drivers import kernel
from ..errors import ConfigError
from ..loop import Future
from ..trace.bus import TraceBus
from .app import app

DEFAULT_URL = "https://www.example.com/index.html"


def parse_resolve(entries: tuple[str, ...]) -> dict[tuple[str, int], str]:
    """curl's ``--resolve HOST:PORT:ADDR`` entries."""
    out: dict[tuple[str, int], str] = {}
    for entry in entries:
        host, _, rest = entry.partition(":")
        port, _, addr = rest.partition(":")
        try:
            ipaddress.IPv4Address(addr)
            out[(host.lower(), int(port))] = addr
        except ValueError:
            raise ConfigError(f"--resolve {entry!r}: expected HOST:PORT:IPv4") from None
    return out


@app.command()
@click.argument("url", required=False, default=DEFAULT_URL)
@click.option("--real", is_flag=True, help="Use this machine's network (kernel TCP/IP).")
@click.option(
    "--cafile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Trust this CA certificate (PEM) for HTTPS.",
)
@click.option(
    "--resolve",
    "resolves",
    multiple=True,
    metavar="HOST:PORT:ADDR",
    help="Use ADDR for HOST:PORT instead of looking it up (like curl).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the body, byte for byte, to this file.",
)
@click.option("--raw", is_flag=True, help="Print the body as received, not rendered.")
@click.option("-i", "--include", is_flag=True, help="Print the response head first.")
@click.option("--timeout", type=click.FloatRange(0.1), default=15.0, show_default=True)
def fetch(
    url: str,
    real: bool,
    cafile: Path | None,
    resolves: tuple[str, ...],
    output: Path | None,
    raw: bool,
    include: bool,
    timeout: float,
) -> None:
    """Fetch URL with our browser and show the page."""
    if not real:
        raise ConfigError(
            "the simulated fetch is not available yet (it comes with the simulated world); "
            "use `minternet fetch --real URL` to fetch over this machine's network"
        )
    target = parse_url(url)
    pinned = parse_resolve(resolves)
    trace = TraceBus()

    async def main(stack: kernel.KernelStack) -> Page:
        def resolve(host: str) -> Future[str]:
            fut: Future[str] = stack.loop.create_future()
            addr = pinned.get((host, target.port))
            if addr is not None:
                fut.set_result(addr)
                return fut
            return real_resolver(stack, host)

        secure = tls_connector(stack, cafile, timeout) if target.scheme == "https" else None
        browser = Browser(stack, resolve, secure, timeout=timeout)
        return await browser.fetch(target)

    page = kernel.run(main, name="minternet-fetch", trace=trace, timeout=timeout * 4)
    show(page, output, raw, include)


def show(page: Page, output: Path | None, raw: bool, include: bool) -> None:
    r = page.response
    via = "".join(f"{u} → " for u in page.redirects)
    click.echo(
        f"{via}{page.url}: {r.status} {r.reason} from {page.address[0]}:{page.address[1]}, "
        f"{len(page.body)} bytes of {page.content_type or 'unknown type'}",
        err=True,
    )
    if include:
        r = page.response
        click.echo(f"HTTP/{r.version} {r.status} {r.reason}")
        for name, value in r.headers:
            click.echo(f"{name}: {value}")
        click.echo("")
    if output is not None:
        output.write_bytes(page.body)
        click.echo(f"{len(page.body)} bytes written to {output}", err=True)
        return
    if raw:
        sys.stdout.buffer.write(page.body)
        sys.stdout.flush()
        return
    click.echo(page.render(), nl=False)


def real_resolver(stack: kernel.KernelStack, host: str) -> Future[str]:
    """Our stub resolver on the real network — once the DNS stub is available."""
    fut: Future[str] = stack.loop.create_future()
    if host == "localhost":
        fut.set_result("127.0.0.1")
    else:
        fut.set_exception(
            FetchError(
                f"cannot resolve {host}: minternet's DNS resolver is not merged yet; "
                "use --resolve HOST:PORT:ADDR"
            )
        )
    return fut


def tls_connector(stack: kernel.KernelStack, cafile: Path | None, timeout: float) -> Secure:
    """The browser's TLS — once minternet's TLS is available."""
    raise ConfigError("HTTPS needs minternet's TLS, which is not merged yet; use an http:// URL")
