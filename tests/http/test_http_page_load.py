"""The seed's page load in the simulated world: DNS, TCP, TLS, HTTP, the client's close.

Our browser on ``laptop`` fetches https://www.example.com/index.html from our web server on
``www`` through the default world's routers: the name from the stub → ISP resolver →
root/com/example.com, a TCP connection, a TLS 1.2 handshake with a certificate from the
simulated PKI, GET and the page, then the browser's FIN first (FIN-WAIT-1 … TIME-WAIT on the
laptop, CLOSE-WAIT → LAST-ACK on the server). Same seed, same run.
"""

from __future__ import annotations

from typing import Any

from minternet.apps.browser import Browser, Page
from minternet.apps.dns_world import install_dns
from minternet.apps.site import packaged_site
from minternet.apps.web_server import WebServer
from minternet.http.dates import parse_http_date
from minternet.sim.world import World
from minternet.tls.client import ClientConfig
from minternet.tls.pki import SIM_EPOCH, Pki, sim_datetime
from minternet.tls.server import ServerConfig
from minternet.tls.stream import tls_accept, tls_connect
from minternet.trace.bus import EventLog


def page_load(seed: int) -> tuple[Page, EventLog, World]:
    world = World.default(seed=seed)
    log = EventLog()
    world.trace.subscribe(log)
    loop = world.loop
    dns = install_dns(world)
    assert dns.stub is not None
    laptop, www = world.node("laptop"), world.node("www")
    pki = Pki.create(www.random.child("pki"), sim_datetime(0))
    creds = pki.issue_server(["www.example.com"])
    site = packaged_site()
    server = WebServer(site, loop, lambda: SIM_EPOCH.timestamp() + loop.now(), world.trace, "www")
    server_tls = ServerConfig(credentials=[creds], random=www.random.child("tls"),
                              alpn=("http/1.1",))  # fmt: skip

    async def accept(sock: Any) -> Any:
        return await tls_accept(sock, server_tls, loop=loop, trace=world.trace, node="www")

    loop.create_task(server.serve(www.tcp_listen(443), accept), "nginx")

    async def resolve(host: str) -> str:
        assert dns.stub is not None
        answer = await dns.stub.lookup(host)
        assert answer.ok, answer.explanation
        return answer.addresses[0]

    async def secure(sock: Any, host: str) -> Any:
        config = ClientConfig(random=laptop.random.child("tls"), server_name=host,
                              trust=pki.trust_store(), now=lambda: sim_datetime(loop.now()),
                              alpn=("http/1.1",))  # fmt: skip
        return await tls_connect(sock, config, loop=loop, trace=world.trace, node="laptop")

    browser = Browser(laptop, resolve, secure)
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
