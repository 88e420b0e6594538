"""The seed's page load in the simulated world: DNS, TCP, TLS, HTTP, the client's close.

Our browser on ``laptop`` fetches https://www.example.com/index.html from our web server on
``www`` through the default world's routers: the name from the stub → ISP resolver →
root/com/example.com, a TCP connection, a TLS 1.2 handshake with a certificate from the
simulated PKI, GET and the page, then the browser's FIN first (FIN-WAIT-1 … TIME-WAIT on the
laptop, CLOSE-WAIT → LAST-ACK on the server). Same seed, same run.
"""

from __future__ import annotations

import pytest

from minternet.apps.browser import Page
from minternet.apps.dns_world import install_dns
from minternet.apps.site import packaged_site
from minternet.apps.web_world import install_web, laptop_browser
from minternet.http.dates import parse_http_date
from minternet.sim.faults import Faults
from minternet.sim.world import World
from minternet.tls.pki import SIM_EPOCH
from minternet.trace.bus import EventLog


def page_load(seed: int, faults: Faults | None = None) -> tuple[Page, EventLog, World]:
    world = World.default(seed=seed, faults=faults)
    log = EventLog()
    world.trace.subscribe(log)
    dns = install_dns(world)
    assert dns.stub is not None
    web = install_web(world)
    browser = laptop_browser(world, dns.stub, web.pki)
    loop = world.loop
    page = loop.run_until_complete(
        loop.create_task(browser.fetch("https://www.example.com/index.html")), 300
    )
    world.run(until=loop.now() + 300)  # TIME-WAIT runs out
    return page, log, world


def test_page_load_in_the_default_world() -> None:
    page, log, world = page_load(7)
    site = packaged_site()
    assert page.status == 200 and page.body == site.files[("index.html",)]
    assert page.address == ("93.184.216.34", 443)
    assert "IT WORKS" in page.render()
    date = parse_http_date(page.response.headers.get("date") or "")
    assert date is not None and SIM_EPOCH.timestamp() <= date < SIM_EPOCH.timestamp() + 60

    # the server logged the request, as nginx would
    access = [e for e in log.of("http", "response") if e.node == "www"]
    assert [(e.node, e.fields["method"], e.fields["target"], e.fields["status"]) for e in access] \
        == [("www", "GET", "/index.html", 200)]  # fmt: skip

    # the browser closes first: the seed's four-way close
    states = [(e.node, e.fields["new"]) for e in log.of("tcp", "state")
              if e.node in ("laptop", "www") and e.fields.get("new")]  # fmt: skip
    web = [s for s in states if s[1] in ("FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT", "LAST-ACK",
                                         "TIME-WAIT", "CLOSING")]  # fmt: skip
    assert web[0] == ("laptop", "FIN-WAIT-1"), web
    assert ("www", "CLOSE-WAIT") in web and ("www", "LAST-ACK") in web
    assert ("laptop", "TIME-WAIT") in web
    assert not world.loop.failed_tasks


def test_same_seed_same_page_load() -> None:
    def summary(seed: int) -> list[tuple[float, str, str, str]]:
        _, log, _ = page_load(seed)
        return [(e.time, e.node, e.layer, e.kind) for e in log.events]

    a = summary(3)
    assert a == summary(3)


@pytest.mark.parametrize("seed", [1, 2])
def test_page_load_under_loss(seed: int) -> None:
    page, _, world = page_load(seed, Faults(loss=0.05))
    assert page.status == 200 and page.body == packaged_site().files[("index.html",)]
    assert world.trace.counters.get("drop.loss", 0) >= 1  # frames were really lost
    assert not world.loop.failed_tasks
